"""Sweeps in the app: the dialog checks the spec, the sweep screen trains and shows it.

Final losses are checked against single runs (``Engine(config).run()``) computed here.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Input, Select, Static

from quadtui.core.config import Config, ConfigError
from quadtui.core.engine import Engine
from quadtui.core.sweep.spec import parse_sweep_spec
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.sweep import SweepScreen
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.runs_table import RunsTable
from quadtui.tui.widgets.status import loss_text
from tests.conftest import finished, open_dialog, until

FAST = Config(epochs=200)


def cells(table: DataTable, column: str) -> list[str]:
    return [str(table.get_cell(str(i), column)) for i in range(table.row_count)]


async def test_a_sweep_from_the_dialog_matches_single_runs_and_joins_the_runs_table() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#sweep-param", Select).value = "hidden"
        await pilot.pause()
        await pilot.press(*"1,2,4", "enter")
        screen = await finished(pilot, app)
        expected = [Engine(FAST.replace(hidden=h)).run() for h in (1, 2, 4)]
        assert [m.final_loss for m in screen.result.members] == [e.train_now for e in expected]
        table = screen.table
        assert cells(table, "value") == ["1", "2", "4"]
        assert cells(table, "final") == [loss_text(e.train_now) for e in expected]
        assert cells(table, "eval") == [loss_text(e.eval_now) for e in expected]
        assert cells(table, "status") == ["done"] * 3
        best = min(range(3), key=lambda i: expected[i].train_now)
        assert cells(table, "best")[best] == "best"
        charts = list(screen.query(Chart))
        await until(
            pilot, lambda: all("no results" not in c.plain and "no run" not in c.plain for c in charts), "the charts"
        )
        assert charts[0].border_title == "final loss by hidden · 3/3 runs" and "hidden" not in charts[0].plain
        assert f"best {[1, 2, 4][best]} → " in charts[0].legend_text
        await pilot.press("a", "escape")  # add the members to the runs table, back to the main screen
        await until(pilot, lambda: app.screen is app.train_screen, "the main screen")
        assert [run.config.hidden for run in app.train_screen.runs.runs] == [1, 2, 4]
        await pilot.press("r")
        runs = app.query_one(RunsTable)
        labels = [str(runs.get_row_at(i)[2]) for i in range(runs.row_count)]
        assert labels == ["hidden=4  (sweep hidden)", "hidden=2  (sweep hidden)", "hidden=1  (sweep hidden)"]


async def test_enter_on_a_member_puts_its_settings_in_the_form() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#sweep-param", Select).value = "lr"
        await pilot.pause()
        await pilot.press(*"0.01,0.03", "enter")
        await finished(pilot, app)
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.screen is app.train_screen, "the main screen")
        config, errors = app.train_screen.form.check()
        assert errors == {} and config == FAST.replace(lr=0.03)


async def test_a_bad_spec_says_what_is_allowed_and_starts_nothing() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#sweep-param", Select).value = "hidden"
        await pilot.pause()
        await pilot.press(*"1,0", "enter")
        with pytest.raises(ConfigError) as raised:
            parse_sweep_spec("hidden=1,0", FAST)
        rule = str(raised.value)
        error = dialog.query_one("#sweep-error", Static)
        assert str(error.render()) == rule and "from 1 to 256" in rule
        assert error.display and app.screen is dialog
        await pilot.press("backspace", "2")  # typing clears the message
        assert not error.display
        dialog.query_one("#sweep-values", Input).value = ""
        await pilot.press("enter")
        assert "hidden" in str(error.render()) and "at most 64" in str(error.render())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.train_screen, "the main screen")
        assert not any(isinstance(s, SweepScreen) for s in app.screen_stack)
        assert not [w for w in app.workers if w.group == "sweep"]


async def test_quadapp_sweep_starts_that_sweep() -> None:
    app = QuadApp(FAST, sweep="lr=0.01,0.02")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await finished(pilot, app)
        assert (screen.param, screen.values) == ("lr", [0.01, 0.02])
        expected = [Engine(FAST.replace(lr=lr)).run().train_now for lr in (0.01, 0.02)]
        assert [m.final_loss for m in screen.result.members] == expected


@pytest.mark.parametrize("in_a_child", [False, True], ids=["in the worker thread", "in a child process"])
async def test_escape_stops_a_sweep_and_shows_what_it_has(monkeypatch, in_a_child: bool) -> None:
    from quadtui.tui import worker

    monkeypatch.setattr(worker, "IN_PROCESS", in_a_child)  # a real terminal's sweep trains in a child
    app = QuadApp(Config(epochs=10_000_000), sweep="hidden=2,3")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.worker is not None, "a sweep")
        screen = app.screen
        await until(pilot, lambda: "training" in str(screen.query_one("#sweep-state", Static).render()), "progress")
        await pilot.press("escape")
        await until(pilot, lambda: screen.result is not None, "the stopped sweep's results")
        assert screen.worker.is_cancelled and app.screen is screen
        assert {m.status for m in screen.result.members} == {"stopped"}
        assert all(0 < m.epochs_run < 10_000_000 for m in screen.result.members)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.train_screen, "the main screen")


async def test_quitting_mid_sweep_ends_the_thread_promptly(monkeypatch) -> None:
    from quadtui.tui.screens import sweep as sweep_module

    real, ended = sweep_module.run_sweep, []

    def run_sweep(*args, **kwargs):
        real(*args, **kwargs)
        ended.append(time.perf_counter())

    monkeypatch.setattr(sweep_module, "run_sweep", run_sweep)
    app = QuadApp(Config(epochs=10_000_000), sweep="hidden=1,2,4")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.worker is not None, "a sweep")
        screen = app.screen
        await until(pilot, lambda: "training" in str(screen.query_one("#sweep-state", Static).render()), "progress")
        asked = time.perf_counter()
        await pilot.press("ctrl+q")
    for _ in range(400):  # bounded wait for the thread (about 2 s at most)
        if ended:
            break
        time.sleep(0.005)
    assert ended, "the sweep thread did not stop"
    assert ended[0] - asked < 1.0


async def test_a_running_sweep_shows_each_member_live_at_80x24() -> None:
    app = QuadApp(Config(epochs=10_000_000), sweep="epochs=300,10000000")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.worker is not None, "a sweep")
        screen = app.screen
        table = screen.table
        await until(
            pilot,
            lambda: (
                cells(table, "status") == ["done", "training"] and int(cells(table, "epochs")[1].replace(",", "")) > 0
            ),
            "the first member done, the second going",
        )
        first = int(cells(table, "epochs")[1].replace(",", ""))
        await until(pilot, lambda: int(cells(table, "epochs")[1].replace(",", "")) > first, "the epochs to move on")
        assert cells(table, "epochs")[0] == "300" and cells(table, "final")[1] != "-"
        assert cells(table, "final")[0] == loss_text(Engine(Config(epochs=300)).run().train_now)
        # every column shows its whole text, and the table fits the screen
        for key, column in table.columns.items():
            assert column.get_render_width(table) >= max(len(text) for text in cells(table, key.value) + [""])
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= table.size.width
        loss_chart, fit_chart = screen.query(Chart)
        assert loss_chart.border_title == "loss now by epochs · 1/2 done"
        assert "best" not in loss_chart.legend_text
        await until(pilot, lambda: fit_chart.snapshot is not None and fit_chart.up_to_date, "the first member's fit")
        assert "epochs=300" in fit_chart.border_title and fit_chart.plain.strip()
        assert screen.result is None
        await pilot.press("escape")
        await until(pilot, lambda: screen.result is not None, "the stopped sweep's results")
        assert loss_chart.border_title.startswith("final loss by epochs")
