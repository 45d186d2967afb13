"""Pilot tests: the app refuses a run or a sweep over the memory budget, and announces a slow one."""

from __future__ import annotations

from textual.widgets import Select, Static

from quadtui.core import budget
from quadtui.core.config import Config
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.sweep import SweepDialog, SweepScreen
from tests.conftest import SMALL, Notes, notified, open_dialog, screen_of, type_into, until

BIG = Config(samples=100000, hidden=256, layers=4)


async def test_ctrl_t_over_the_budget_says_why_and_starts_nothing(notes: Notes) -> None:
    app = QuadApp(SMALL, max_memory=1 << 30)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await until(pilot, lambda: screen_of(app).engine_loaded, "torch")
        await type_into(pilot, app, "samples", "100000")
        await type_into(pilot, app, "hidden", "256")
        await type_into(pilot, app, "layers", "4")
        await pilot.press("ctrl+t")
        note = await notified(pilot, notes, lambda n: n.title == "Not started: too big", "the refusal")
        need = budget.estimate(SMALL.replace(samples=100000, hidden=256, layers=4)).bytes
        assert note.message.startswith(
            f"this run needs about {budget.format_size(need)} of memory, over the budget of 1.0G ("
        )
        await pilot.press("ctrl+r", "escape", "s")  # reset and step (from the charts) are refused alike
        await until(pilot, lambda: notes.titles().count("Not started: too big") == 3, "the refusals of reset and step")
        assert screen_of(app).worker is None and screen_of(app).last is None
        await type_into(pilot, app, "samples", "100")  # small enough again: it trains
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen_of(app).worker is not None, "the run")


async def test_the_sweep_dialog_shows_the_refusal_on_its_error_line() -> None:
    app = QuadApp(BIG.replace(epochs=10), max_memory=4 << 30)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#sweep-param", Select).value = "seed"
        await pilot.pause()
        await pilot.press(*"0:63:64", "enter")
        error = dialog.query_one("#sweep-error", Static)
        await until(pilot, lambda: error.display, "the error line")
        assert str(error.render()).startswith("this sweep of 64 runs needs about ")
        assert "over the budget of 4.0G" in str(error.render())
        assert app.screen is dialog and not any(isinstance(s, SweepScreen) for s in app.screen_stack)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SweepDialog), "the dialog to close")
        assert not [w for w in app.workers if w.group == "sweep"]


async def test_the_apps_sweep_over_the_budget_never_starts(notes: Notes) -> None:
    app = QuadApp(BIG.replace(epochs=10), sweep="seed=0:63:64", max_memory=4 << 30)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        note = await notified(pilot, notes, lambda n: n.title == "Sweep not started: too big", "the refusal")
        assert note.message.startswith("this sweep of 64 runs needs about ") and "budget of 4.0G" in note.message
        assert app.screen is screen_of(app) and not [w for w in app.workers if w.group == "sweep"]


async def test_a_slow_run_is_announced_when_it_starts(monkeypatch, notes: Notes) -> None:
    monkeypatch.setattr(budget, "SLOW_EPOCH_SECONDS", 0.0)  # every run counts as slow
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        note = await notified(pilot, notes, lambda n: n.title == "A slow run", "the warning")
        assert note.message.startswith("this run may take about ") and " an epoch (" in note.message
        await until(pilot, lambda: screen_of(app).worker is not None, "the run, started all the same")
