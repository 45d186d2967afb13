"""Comparing runs: the session keeps finished runs; the table lists them; the charts overlay them.

Pilot tests press keys and check what the app shows; numbers are checked against
``Engine(config).run()`` computed here, beside the app.
"""

from __future__ import annotations

import numpy as np
from textual.widgets import Select

from quadtui.charts.run_store import MAX_OVERLAYS, RunStore, difference
from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status
from quadtui.core.history import LossHistory
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.colours import chart_theme
from quadtui.tui.widgets.run_charts import FitChart, LossChart
from quadtui.tui.widgets.runs_table import MARK, RunsTable
from quadtui.tui.widgets.status import loss_text
from tests.conftest import finish, plot_area, shown, type_into, until

FAST = Config(epochs=200, hidden=4)


def table_rows(app: QuadApp) -> list[list[str]]:
    table = app.query_one(RunsTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def train_with_lr(pilot, app: QuadApp, lr: str) -> None:
    await type_into(pilot, app, "lr", lr)
    await pilot.press("enter")
    await until(
        pilot,
        lambda: app.train_screen.run_config is not None and app.train_screen.run_config.lr == float(lr),
        "the run to start",
    )
    await finish(pilot, app)


async def test_two_runs_are_listed_with_what_differs_and_their_final_losses() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await train_with_lr(pilot, app, "0.05")
        await train_with_lr(pilot, app, "0.01")
        await pilot.press("escape", "r")
        table = app.query_one(RunsTable)
        assert table.display and app.focused is table
        rows = table_rows(app)
        assert len(rows) == 2
        newest, oldest = rows  # newest first; named against the run on screen (lr=0.01)
        first = Engine(FAST.replace(lr=0.05)).run()
        second = Engine(FAST.replace(lr=0.01)).run()
        assert oldest[2] == "lr=0.05" and oldest[3] == "done"
        assert oldest[5] == loss_text(first.train_now) and oldest[6] == loss_text(first.eval_now)
        assert newest[2] == "run 2"  # nothing differs from the run on screen: it is that run
        assert newest[5] == loss_text(second.train_now)
        store = app.train_screen.runs
        assert [run.final_loss for run in store.runs] == [first.train_now, second.train_now]
        assert oldest[0] == newest[0] == MARK  # chosen for the charts (the run on screen is not drawn twice)
        # the run drawn on the charts has its curve's colour on its mark; the run on screen has none
        theme = chart_theme(app)[1]
        drawn_mark, own_mark = table.get_row_at(1)[0], table.get_row_at(0)[0]
        rgb = theme.series(2)
        assert f"rgb({rgb[0]},{rgb[1]},{rgb[2]})" in str(drawn_mark.style)
        assert "rgb" not in str(own_mark.style)


async def test_enter_on_a_row_puts_that_runs_settings_in_the_form() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await type_into(pilot, app, "hidden", "6")
        app.query_one("#activation", Select).value = "tanh"
        await train_with_lr(pilot, app, "0.05")
        await type_into(pilot, app, "hidden", "3")  # the form moves on
        app.query_one("#activation", Select).value = "relu"
        await type_into(pilot, app, "lr", "0.2")
        await pilot.press("escape", "r", "enter")
        config, errors = app.train_screen.form.check()
        assert errors == {}
        assert config == FAST.replace(lr=0.05, hidden=6, activation="tanh")


async def test_overlays_change_the_charts_and_can_be_toggled_and_chosen() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(220, 50)) as pilot:  # wide: the legends have room for every name
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await train_with_lr(pilot, app, "0.05")
        loss, fit = app.query_one(LossChart), app.query_one(FitChart)
        assert "lr=0.05" not in loss.legend_text  # nothing earlier to draw yet
        await train_with_lr(pilot, app, "0.01")
        with_overlay, fit_with_overlay = loss.plain, fit.plain
        assert "lr=0.05" in loss.legend_text and "lr=0.05" in fit.legend_text  # the legends name the earlier run
        await pilot.press("escape", "o")  # hide the overlays
        await until(pilot, lambda: loss.plain != with_overlay and fit.plain != fit_with_overlay, "a redraw")
        assert "lr=0.05" not in loss.legend_text and "lr=0.05" not in fit.legend_text
        await pilot.press("o")
        await until(pilot, lambda: loss.plain == with_overlay and fit.plain == fit_with_overlay, "the overlays again")
        assert "lr=0.05" in loss.legend_text
        await pilot.press("r", "down", "space")  # the second row is the lr=0.05 run: stop overlaying it
        await until(pilot, lambda: "lr=0.05" not in loss.legend_text, "the unchosen overlay to go")
        assert table_rows(app)[1][0] == "" and table_rows(app)[1][2] == "lr=0.05"
        await pilot.press("space")
        await until(pilot, lambda: "lr=0.05" in loss.legend_text, "the chosen overlay to come back")


async def test_a_run_stopped_by_a_new_run_is_kept() -> None:
    app = QuadApp(Config(epochs=10_000_000))
    app.train_screen.speed = 300
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        await type_into(pilot, app, "epochs", "100")
        await pilot.press("enter")
        await finish(pilot, app)
        await until(pilot, lambda: len(screen.runs) == 2, "both runs in the store")
        stopped, done = screen.runs.runs
        assert stopped.status == "stopped" and stopped.epochs > 0 and done.status == "done"
        assert screen.runs.label(stopped, screen.last.config) == "epochs=10000000"


def x_labels(chart) -> list[float]:
    return [float(label) for label in plot_area(chart.plain)[2].split()]


async def test_a_new_run_has_the_loss_charts_width_and_its_fit_only_its_targets_runs_at_80x24() -> None:
    app = QuadApp(Config(epochs=1000, hidden=4))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        await finish(pilot, app)  # a long run of x**2
        app.query_one("#target", Select).value = "sin(x)"
        await type_into(pilot, app, "epochs", "100")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: screen.run_config is not None and screen.run_config.epochs == 100,
            "the short sin(x) run to start",
        )
        await finish(pilot, app)
        loss, fit = app.query_one(LossChart), app.query_one(FitChart)
        await shown(pilot, app, loss, "1")
        assert [overlay.label for overlay in loss.overlays] == ["epochs=1000, target=x**2"]
        assert max(x_labels(loss)) <= 100  # the run on screen, not squashed into the first tenth
        assert loss.legend_text.split("  ")[0].endswith("train")  # named first
        await pilot.press("escape", "a")
        await until(pilot, lambda: loss.up_to_date and max(x_labels(loss)) >= 500, "the axis over every run")
        assert loss.legend_text.endswith("epoch, all runs")
        await pilot.press("a")
        await until(pilot, lambda: loss.up_to_date and max(x_labels(loss)) <= 100, "the run on screen again")
        await shown(pilot, app, fit, "2")
        assert fit.overlays == [] and "x**2" not in fit.legend_text  # another function's fit would mislead
        assert fit.legend_text.split("  ")[0].endswith("model")


# -- the store on its own --------------------------------------------------------------------
def fake_snapshot(run_id: int, config: Config, status: Status = Status.DONE, epoch: int = 10):
    history = LossHistory(16)
    history.append(np.linspace(1.0, 0.5, epoch))
    grid = np.linspace(-1, 1, 5)

    class Snap:
        pass

    snap = Snap()
    snap.__dict__.update(
        run_id=run_id,
        config=config,
        status=status,
        epoch=epoch,
        history=history.frozen(),
        grid=grid,
        prediction=grid**2,
        train_now=history.last(),
        eval_now=0.25,
        elapsed=1.5,
    )
    return snap


def test_store_keeps_each_finished_run_once_and_at_most_its_limit() -> None:
    store = RunStore(limit=3)
    base = Config()
    assert store.record(fake_snapshot(1, base, Status.TRAINING)) is None
    assert store.record(fake_snapshot(1, base, Status.STOPPED, epoch=0)) is None
    assert store.record(fake_snapshot(1, base)) is not None
    assert store.record(fake_snapshot(1, base)) is None  # the same run's last snapshot again
    for run_id in range(2, 6):
        store.record(fake_snapshot(run_id, base.replace(hidden=run_id)))
    assert [run.number for run in store.runs] == [3, 4, 5]
    assert all(number in {3, 4, 5} for number in store.overlaid)


def test_labels_name_what_differs_and_tell_equal_ones_apart() -> None:
    store = RunStore()
    base = Config()
    a = store.record(fake_snapshot(1, base.replace(lr=0.05, hidden=16)))
    b = store.record(fake_snapshot(2, base))
    c = store.record(fake_snapshot(3, base.replace(lr=0.05, hidden=16)))
    assert difference(a.config, base) == "lr=0.05, hidden=16"
    assert store.labels([a, b, c], base) == ["lr=0.05, hidden=16 (run 1)", "run 2", "lr=0.05, hidden=16 (run 3)"]
    many = base.replace(lr=0.1, epochs=10, hidden=2, layers=2, batch_size=10)
    assert difference(many, base) == "lr=0.1, epochs=10, hidden=2, +2 more"


def test_overlays_leave_out_the_run_on_screen_and_keep_to_the_limit() -> None:
    store = RunStore()
    base = Config()
    snaps = [fake_snapshot(i, base.replace(seed=i)) for i in range(1, MAX_OVERLAYS + 3)]
    for snap in snaps:
        store.record(snap)
    loss, fit, _ = store.overlays(snaps[-1], base)
    assert len(store.overlaid) == MAX_OVERLAYS
    assert len(loss) == len(fit) == MAX_OVERLAYS - 1  # the newest is the run on screen
    assert [o.label for o in loss] == [f"seed={i}" for i in range(3, MAX_OVERLAYS + 2)]
    assert store.toggle(1) and store.overlaid[-1] == 1 and len(store.overlaid) == MAX_OVERLAYS
    assert not store.toggle(1)


def test_the_fit_chart_overlays_only_runs_of_the_same_target_in_their_loss_colours() -> None:
    store = RunStore()
    base = Config()
    for run_id, config in enumerate(
        [base.replace(seed=1), base.replace(target="sin(x)"), base.replace(target="x ** 2", seed=3)], start=1
    ):
        store.record(fake_snapshot(run_id, config))
    loss, fit, _ = store.overlays(None, base)
    assert len(loss) == 3
    assert [o.label for o in fit] == [loss[0].label, loss[2].label] and [o.slot for o in fit] == [0, 2]
