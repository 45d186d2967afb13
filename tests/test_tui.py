"""Pilot tests of the live app: keys in, what the app shows and holds out.

Runs are short (a few hundred epochs) and waits are bounded loops on a condition
(``until``) or on the worker — never a fixed sleep.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input, OptionList, Select, Static

from quadtui.core.config import Config, ConfigError, parse_value
from quadtui.core.engine import Engine, Status
from quadtui.tui.app import QuadApp
from quadtui.tui.messages import RunUpdate
from quadtui.tui.screens.help import HelpScreen
from quadtui.tui.screens.train import TrainScreen
from quadtui.tui.screens.train_keys import SPEEDS
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from quadtui.tui.widgets.status import loss_text
from tests.conftest import CALM, SMALL, Notes, drawn, finish, notified, screen_of, status_text, type_into, until

LONG = Config(epochs=10_000_000)


def calm(app: QuadApp) -> QuadApp:
    app.train_screen.speed = CALM
    return app


async def test_run_from_typed_values_matches_headless_engine() -> None:
    app = QuadApp(Config())
    async with app.run_test(size=(120, 40)) as pilot:
        await type_into(pilot, app, "epochs", "250")
        await type_into(pilot, app, "hidden", "5")
        await type_into(pilot, app, "lr", "0.05")
        app.query_one("#activation", Select).value = "tanh"
        await pilot.press("enter")  # Enter in a field trains
        await finish(pilot, app)
        shown = screen_of(app).last
        expected = Engine(Config(epochs=250, hidden=5, lr=0.05, activation="tanh")).run()
        assert shown.config == expected.config
        assert shown.status is Status.DONE and shown.epoch == 250
        assert shown.train_now == expected.train_now
        assert f"train {loss_text(expected.train_now)}" in status_text(app)
        assert "epoch 250 of 250" in status_text(app)
        assert status_text(app).startswith("done")


async def test_bad_value_shows_rule_and_starts_nothing_and_keeps_last_run(notes: Notes) -> None:
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await finish(pilot, app)
        screen = screen_of(app)
        before, worker, loss_picture = screen.last, screen.worker, app.query_one(LossChart).plain
        await type_into(pilot, app, "lr", "0")
        with pytest.raises(ConfigError) as rule:
            parse_value("lr", "0")
        message = app.query_one("#error-lr", Static)
        assert str(message.render()) == str(rule.value)
        assert message.display
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.worker is worker  # nothing started
        assert screen.last is before and app.query_one(LossChart).plain == loss_picture
        await notified(pilot, notes, lambda n: str(rule.value) in n.message, "the refusal")
        assert app.focused is app.query_one("#lr")


@pytest.mark.parametrize(
    "field, text, wrong",
    [("batch_size", "500", "batch_size"), ("x_min", "6", "x_max")],
)
async def test_cross_field_error_is_shown_on_the_field_it_is_about(field: str, text: str, wrong: str) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_into(pilot, app, field, text)
        with pytest.raises(ConfigError) as rule:
            Config(**{field: parse_value(field, text)})
        assert rule.value.field == wrong
        assert str(app.query_one(f"#error-{wrong}", Static).render()) == str(rule.value)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen_of(app).worker is None
        await type_into(pilot, app, "lr", "0")  # another bad field does not hide the rule between fields
        assert set(screen_of(app).form.errors) == {"lr", wrong}


async def test_batch_size_full_and_custom_target_are_accepted() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_into(pilot, app, "batch_size", "full")
        app.query_one("#target", Select).value = "custom"
        await pilot.pause()
        assert app.query_one("#custom-row").display
        await type_into(pilot, app, "target-custom", "x^3")
        config, errors = screen_of(app).form.check()
        assert errors == {}
        assert config == SMALL.replace(target="x**3", batch_size=None)
        await type_into(pilot, app, "target-custom", "y+1")
        assert "target" in screen_of(app).form.errors


async def test_letter_keys_type_into_fields_and_do_not_control_the_run() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_into(pilot, app, "target-custom", "")
        theme = app.theme
        await type_into(pilot, app, "noise", "s c[]d")
        assert app.query_one("#noise", Input).value == "s c[]d"
        assert screen_of(app).worker is None and screen_of(app).neuron == 0 and app.theme == theme
        assert not app.query_one(NeuronChart).contribution


async def test_pause_step_and_resume_move_the_epoch() -> None:
    app = calm(QuadApp(LONG))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        await pilot.press("escape", "space")  # leave the form, then pause
        await until(pilot, lambda: screen.last.status is Status.PAUSED, "pause")
        paused_at = screen.last.epoch
        assert status_text(app).startswith("paused")
        await pilot.press("s")
        await until(pilot, lambda: screen.last.epoch == paused_at + 1, "one step")
        await pilot.press("S")
        await until(pilot, lambda: screen.last.epoch == paused_at + 101, "a big step")
        assert screen.last.status is Status.PAUSED
        await pilot.press("space")
        await until(pilot, lambda: screen.last.epoch > paused_at + 101, "resume")
        assert status_text(app).startswith("training")


async def test_step_before_any_run_starts_a_paused_run() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await pilot.press("f7")  # works while a field has focus
        await until(pilot, lambda: screen.last is not None and screen.last.epoch == 1, "one epoch")
        assert screen.last.status is Status.PAUSED and screen.running


async def test_speed_and_live_learning_rate() -> None:
    app = QuadApp(LONG, speed=None)  # full speed (the command line's --speed full)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await pilot.press("ctrl+r")  # a paused run at epoch 0
        await until(pilot, lambda: screen.last is not None, "the reset run")
        assert status_text(app).startswith("ready")
        await pilot.press("escape", "minus", "minus")
        assert screen.speed == SPEEDS[-3] and "speed 1000/s" in status_text(app)
        await pilot.press("plus")
        assert screen.speed == SPEEDS[-2] and "speed 3000/s" in status_text(app)
        await pilot.press("greater_than_sign", "greater_than_sign", "less_than_sign")  # ×2 ×2 ÷2
        assert app.query_one("#lr", Input).value == "0.04"
        await pilot.press("s")
        await until(pilot, lambda: screen.last.epoch == 1, "a step")
        assert screen.last.config.lr == 0.04 and "lr 0.04" in status_text(app)
        await type_into(pilot, app, "lr", "0.01")
        await pilot.press("ctrl+l", "f7")
        await until(pilot, lambda: screen.last.epoch == 2, "a step")
        assert screen.last.config.lr == 0.01


async def test_neuron_keys_select_and_contribution_change_the_neuron_chart() -> None:
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        chart = app.query_one(NeuronChart)
        select = app.query_one("#neuron", Select)
        await pilot.pause()
        first = chart.plain
        assert chart.border_title.startswith("neuron 0 of 4")
        await pilot.press("escape", "right_square_bracket")
        await pilot.pause()
        assert chart.neuron == 1 and select.value == 1
        assert chart.border_title.startswith("neuron 1 of 4") and chart.plain != first
        await pilot.press(*["right_square_bracket"] * 9)
        assert chart.neuron == 3  # the last neuron; there is no neuron 4
        assert [str(option.prompt) for option in select.query_one(OptionList).options] == ["0", "1", "2", "3"]
        await pilot.press(*["left_square_bracket"] * 9)
        await pilot.pause()
        assert chart.neuron == 0 and chart.plain == first
        await pilot.press("c")
        await pilot.pause()
        assert chart.contribution and "contribution" in chart.border_title and chart.plain != first
        select.value = 2
        await pilot.pause()
        assert chart.neuron == 2 and screen_of(app).neuron == 2


async def test_flags_prefill_form_pick_neuron_and_autorun() -> None:
    config = Config(lr=0.05, epochs=120, hidden=6, activation="tanh", batch_size=20, target="sin(x)")
    app = QuadApp(config, neuron=5, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        assert screen_of(app).form.check() == (config, {})
        assert app.query_one("#lr", Input).value == "0.05"
        assert app.query_one("#batch_size", Input).value == "20"
        assert app.query_one(NeuronChart).neuron == 5
        assert screen_of(app).last.config == config


async def test_a_new_run_cancels_the_old_and_stale_snapshots_are_not_drawn() -> None:
    app = calm(QuadApp(LONG))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last is not None, "the first run")
        old_worker, old_snap = screen.worker, screen.last
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last.run_id != old_snap.run_id, "the second run")
        assert old_worker.is_cancelled
        current = screen.last
        screen.post_message(RunUpdate(old_worker, old_snap))  # a late message of the old run
        await pilot.pause()
        assert screen.last.run_id == current.run_id != old_snap.run_id


async def test_quitting_mid_run_stops_the_training_thread_promptly(monkeypatch) -> None:
    from quadtui.tui import worker as worker_module

    real_train, ended = worker_module.train, []

    def train(*args, **kwargs):
        real_train(*args, **kwargs)
        ended.append(time.perf_counter())

    monkeypatch.setattr(worker_module, "train", train)
    app = QuadApp(LONG, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        asked = time.perf_counter()
        await pilot.press("ctrl+q")
    for _ in range(400):  # bounded wait for the thread (about 2 s at most)
        if ended:
            break
        time.sleep(0.005)
    assert ended, "the training thread did not stop"
    assert ended[0] - asked < 1.0  # measured ~0.02 s; the bound only catches a thread that ignores cancel


async def test_an_exception_in_the_worker_becomes_an_error_status(monkeypatch, notes: Notes) -> None:
    real_advance = Engine.advance

    def advance(self: Engine, n: int) -> int:
        if self.epoch >= 50:
            raise RuntimeError("boom")
        return real_advance(self, min(n, 50 - self.epoch))

    monkeypatch.setattr(Engine, "advance", advance)
    app = QuadApp(SMALL.replace(epochs=1000), autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.error is not None, "the error")
        assert status_text(app).startswith("error: RuntimeError: boom")
        await notified(pilot, notes, lambda n: "boom" in n.message and n.severity == "error", "an error notification")
        assert screen.last is not None and screen.last.epoch == 50  # the last state stays
        assert "epoch 50/" in app.query_one(LossChart).border_title


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_renders_at_small_and_large_sizes(size: tuple[int, int]) -> None:
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        await pilot.pause()
        screen = screen_of(app)
        charts = [app.query_one(kind) for kind in (LossChart, FitChart, NeuronChart)]
        visible = [chart for chart in charts if chart.region.area]
        assert app.query_one("#form").region.area
        if size == (160, 50):
            assert not screen.has_class("-narrow") and visible == charts
        else:
            assert screen.has_class("-narrow") and visible == charts[:1]
            await pilot.press("escape", "3")
            await pilot.pause()
            assert [c for c in charts if c.region.area] == charts[2:]
        for chart in visible:
            assert chart.plain.strip() and chart.draws >= 1


async def test_charts_redraw_only_when_something_changed_and_follow_size_and_theme() -> None:
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await pilot.pause()
        chart = app.query_one(FitChart)
        draws = chart.draws
        chart.refresh()
        chart.show(screen_of(app).last)
        await pilot.pause()
        assert chart.draws == draws  # same run, epoch, size, theme: cached
        await pilot.resize_terminal(130, 44)
        await until(pilot, lambda: chart.draws > draws, "a redraw after resize")
        draws, dark = chart.draws, app.current_theme.dark
        await pilot.press("escape", "d")
        assert app.current_theme.dark is not dark
        await until(pilot, lambda: chart.draws > draws, "a redraw after the theme change")


async def test_no_color_gives_plain_charts(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await pilot.pause()
        chart = app.query_one(LossChart)
        assert chart.plain.strip()
        assert not any(span.style for span in chart._text.spans)


async def test_too_small_terminal_says_so() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert screen_of(app).has_class("-too-small")
        assert "terminal too small" in str(app.query_one("#too-small", Static).render())
        assert not app.query_one("#body").region.area


async def test_form_collapses_and_help_explains_every_key() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LossChart)
        await pilot.pause()
        narrow = chart.region.width
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not app.query_one("#form").display and chart.region.width > narrow
        assert app.focused is app.query_one("#charts")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("Markdown").source
        for binding in TrainScreen.key_bindings():
            assert binding.tooltip in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_the_controls() -> None:
    app = QuadApp(LONG)
    async with app.run_test(size=(120, 40)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in (
            "Train",
            "Pause / resume",
            "Step",
            "Reset",
            "Next neuron",
            "Slower (fewer epochs per second)",
            "Double the learning rate",
            "Help",
            "Light/dark theme",
        ):
            assert title in commands
        screen = screen_of(app)
        await commands["Step 100"].callback()
        await until(pilot, lambda: screen.last is not None and screen.last.epoch == 100, "100 epochs")


async def test_divergence_is_reported_with_its_epoch_and_a_hint() -> None:
    config = Config(lr=5.0, epochs=200)
    expected = Engine(config).run()
    assert expected.status is Status.DIVERGED
    app = QuadApp(config, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        assert status_text(app).startswith(f"diverged after epoch {expected.epoch}: lower the learning rate")
        assert screen_of(app).last.epoch == expected.epoch


def test_snapshots_of_one_run_coalesce_and_others_do_not() -> None:
    engine = Engine(SMALL)
    first = engine.snapshot()
    engine.advance(3)
    later = engine.snapshot()
    worker, other_worker = object(), object()
    assert RunUpdate(worker, first).can_replace(RunUpdate(worker, later))
    assert not RunUpdate(worker, first).can_replace(RunUpdate(other_worker, later))
    engine.reset()
    assert not RunUpdate(worker, first).can_replace(RunUpdate(worker, engine.snapshot()))


async def test_worker_hands_the_engine_its_cancel_event_and_a_redraw_interval(monkeypatch) -> None:
    seen = {}

    def run(self: Engine, cancel=None, control=None, on_snapshot=None, interval=None, **_):
        seen.update(cancel=cancel, control=control, interval=interval)
        return self.snapshot()

    monkeypatch.setattr(Engine, "run", run)
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.worker is not None, "a run")
        await screen.worker.wait()
        assert seen["cancel"] is screen.worker.cancelled_event
        assert seen["control"] is screen.control
        assert 1 / 20 <= seen["interval"] <= 1 / 10


def test_the_app_module_chain_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, quadtui.cli, quadtui.tui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_charts_under_a_dialog_are_not_built_and_catch_up_when_it_closes() -> None:
    app = calm(QuadApp(LONG, autorun=True))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        charts = [c for c in app.query(Chart) if c.region.area]
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        covered_at = screen.last.epoch
        await until(pilot, lambda: screen.last.epoch > covered_at + 30, "training under the help")
        # the charts were given nothing new, so nothing was built that nobody could see
        assert all(c.snapshot.epoch <= covered_at for c in charts)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the charts again")
        await until(
            pilot,
            lambda: all(c.snapshot is not None and c.snapshot.epoch > covered_at + 30 for c in charts),
            "the charts to catch up",
        )
        await drawn(pilot, app)


async def test_the_palette_runs_the_commands_of_the_screens_components() -> None:
    from quadtui.tui.widgets.runs_table import RunsTable

    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        table = app.query_one(RunsTable)
        assert not table.has_class("-shown")
        await commands["Runs table: compare finished runs"].callback()  # CompareControls' action
        await until(pilot, lambda: table.has_class("-shown") and app.focused is table, "the runs table")
        await commands["Network view: every unit of every layer / back to the charts"].callback()  # NetworkView's
        await until(pilot, lambda: app.query_one("#network-chart").region.area > 0, "the network view")


async def test_a_new_theme_recolours_the_charts_through_the_theme_signal() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        chart = app.query_one(LossChart)
        await until(pilot, lambda: chart.colours.get()[0][0] == app.theme, "the chart's colours")
        before = chart.colours.get()[1]
        app.action_toggle_dark()
        await until(pilot, lambda: chart.colours.get()[0][0] == app.theme, "the new theme's colours")
        assert chart.colours.get()[1].dark != before.dark


async def test_the_footer_lists_the_screens_keys_before_its_components_keys() -> None:
    from textual.widgets._footer import FooterKey

    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:

        def shown() -> list[str]:
            return [key.description for key in app.screen.query(FooterKey) if key.region.area]

        await until(pilot, lambda: "Network" in shown(), "the footer")
        keys = shown()
        assert keys[:4] == ["Train", "Pause", "Quit", "Help"] and keys[-1] == "palette"
        order = [keys.index(name) for name in ("Step", "Form", "Runs", "Sweep", "Network")]
        assert order == sorted(order)


async def test_after_the_terminal_was_too_small_the_components_keys_work_again() -> None:
    from quadtui.tui.widgets.runs_table import RunsTable

    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await pilot.resize_terminal(20, 6)
        await until(pilot, lambda: screen.too_small, "the too-small line")
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: not screen.too_small and app.focused is not None, "a focus again")
        await pilot.press("r")  # the runs table's key belongs to a component: it needs a focus inside it
        await until(pilot, lambda: app.query_one(RunsTable).has_class("-shown"), "the runs table")
