#!/usr/bin/env python
"""Write SVG screenshots of the live app into screenshots/ (Textual's save_screenshot).

    python scripts/screenshots.py

Shots: the notebook's run mid-way and finished at 120×40 and at 80×24 (there the fit chart when done),
the light theme, the F1 help screen (also at 80×24), the code screen (ctrl+g) and the how-many-neurons
lesson, three runs compared (runs table, overlays), the sweep dialog and a sweep of hidden — those at
120×40 and at 80×24, the size of a fresh SSH window — the network view at 120×40 and 80×24, a run
scrubbed back to epoch 150, the where-are-the-kinks lesson's run in the network view at epoch 300, and a
weight being set by hand (``e``) at 80×24.  Each session waits on the app's state (never a fixed sleep).  Name
sessions to make only those: ``python3 scripts/screenshots.py network network-small``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
sys.path.insert(0, str(ROOT))

from quadtui.core.config import Config  # noqa: E402
from quadtui.core.lesson import load_lesson  # noqa: E402
from quadtui.tui.app import QuadApp  # noqa: E402
from quadtui.tui.screens.code import CodeScreen  # noqa: E402
from quadtui.tui.screens.help import HelpScreen  # noqa: E402
from quadtui.tui.screens.sweep import SweepScreen  # noqa: E402
from quadtui.tui.screens.weight_edit import WeightEditScreen  # noqa: E402

NOTEBOOK = Config()  # the notebook's run: seed 19, 8 ReLU units, SGD lr 0.02, 5000 epochs


async def until(pilot, condition: Callable[[], bool], rounds: int = 6000) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise TimeoutError("the app did not get there")


async def settled(pilot, app: QuadApp) -> None:
    """Every visible chart, and the status line, show the latest snapshot (a running run's status numbers
    follow twice a second: a shot waits for a moment when both show the same epoch)."""
    from quadtui.tui.widgets.status import StatusBar

    charts = [chart for chart in app.query("Chart") if chart.region.area]
    status = app.screen.query(StatusBar).first() if app.screen.query(StatusBar) else None
    last = getattr(app.screen, "last", None)

    def shown() -> bool:
        latest = getattr(app.screen, "last", last)
        return all(chart.up_to_date for chart in charts) and (status is None or status.snapshot is latest)

    await until(pilot, shown)
    await pilot.pause()


def save(app: QuadApp, name: str) -> None:
    app.save_screenshot(filename=name, path=str(OUT))
    print(OUT.name + "/" + name)


async def session(size: tuple[int, int], shots: dict[str, str], neuron: int = 3, keys: tuple[str, ...] = ()) -> None:
    """shots: moment ('running' | 'done' | 'light' | 'help') -> file name; ``keys`` are pressed
    once the run is done, before the 'done' shot (e.g. choose the fit chart on a small terminal)."""
    app = QuadApp(NOTEBOOK, neuron=neuron)  # at the app's pace, 1,000 epochs/s: it can be caught mid-run
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.engine_loaded)
        await pilot.press("ctrl+t")
        if "running" in shots:
            await until(pilot, lambda: screen.last is not None and screen.last.epoch >= 1500)
            await settled(pilot, app)
            save(app, shots["running"])
            await pilot.press("escape", "f")  # full speed for the rest
        await until(pilot, lambda: screen.last is not None and screen.last.finished)
        if keys:
            await pilot.press(*keys)
        await settled(pilot, app)
        if "done" in shots:
            save(app, shots["done"])
        if "light" in shots:
            await pilot.press("escape", "d")
            await settled(pilot, app)
            save(app, shots["light"])
        if "help" in shots:
            await pilot.press("f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.pause()
            save(app, shots["help"])


def sized(name: str, size: tuple[int, int]) -> str:
    return f"{name}-{size[0]}x{size[1]}.svg"


async def code_and_lesson(size: tuple[int, int]) -> None:
    """The code screen over a finished run, and the how-many-neurons lesson after one run."""
    lesson = load_lesson("how-many-neurons")
    app = QuadApp(lesson.apply(), lesson=lesson, speed=None)
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.engine_loaded)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last is not None and screen.last.finished)
        await settled(pilot, app)
        save(app, sized("lesson", size))
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, CodeScreen))
        await pilot.pause()
        save(app, sized("code", size))


async def runs_and_sweep(size: tuple[int, int]) -> None:
    """Three runs compared (runs table open, earlier runs dashed on the charts), then a sweep of hidden."""
    app = QuadApp(NOTEBOOK, speed=None)
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.engine_loaded)
        for lr, hidden in (("0.01", "8"), ("0.02", "16"), ("0.02", "8")):  # the notebook's run last
            app.query_one("#lr").value, app.query_one("#hidden").value = lr, hidden
            count = len(screen.runs)
            await pilot.press("ctrl+t")
            await until(pilot, lambda: len(screen.runs) > count and screen.last is not None and screen.last.finished)
        await pilot.press("escape", "r")
        await settled(pilot, app)
        save(app, sized("runs", size))
        await pilot.press("r", "v")
        await until(pilot, lambda: app.screen is not screen)
        app.screen.query_one("#sweep-param").value = "hidden"
        await pilot.pause()
        await pilot.press(*"1,2,4,8,16")
        save(app, sized("sweep-dialog", size))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.result is not None)
        await settled(pilot, app)
        save(app, sized("sweep", size))


async def network(size: tuple[int, int], name: str, keys: tuple[str, ...] = ()) -> None:
    """The network view (--view network) of a finished two-layer run, a unit selected with the arrows."""
    app = QuadApp(Config(hidden=12, layers=2, epochs=3000), autorun=True, view="network")
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.last is not None and screen.last.finished)
        await pilot.press(*keys)
        await settled(pilot, app)
        save(app, name)


async def travel(size: tuple[int, int], name: str) -> None:
    """The notebook's run, finished, looked at as it was at epoch 150 (time travel)."""
    app = QuadApp(NOTEBOOK, autorun=True)
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.last is not None and screen.last.finished)
        await pilot.press("escape", "home", *["full_stop"] * 150)
        await until(pilot, lambda: screen.travel == 150)
        await settled(pilot, app)
        save(app, name)


async def kinks(size: tuple[int, int], name: str) -> None:
    """The where-are-the-kinks lesson: its run in the network view, scrubbed back to epoch 300."""
    lesson = load_lesson("where-are-the-kinks")
    app = QuadApp(lesson.apply(), lesson=lesson, speed=None, autorun=True, view="network")
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.last is not None and screen.last.finished)
        await pilot.press("escape", "home", *["full_stop"] * 300, "down", "down", "down")
        await until(pilot, lambda: screen.travel == 300)
        await settled(pilot, app)
        save(app, name)


async def hand_edit(size: tuple[int, int], name: str) -> None:
    """The notebook's run paused at epoch 400, neuron 3's bias being set by hand (e), the form hidden."""
    app = QuadApp(NOTEBOOK.replace(epochs=100_000), speed=None, view="network")
    screen = app.train_screen
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: screen.engine_loaded)
        await pilot.press("ctrl+b", "s", "s")  # the form hidden; a first step starts the run, paused
        await until(pilot, lambda: screen.last is not None and screen.last.epoch == 2)
        await pilot.press("S", "S", "S", "S")
        await until(pilot, lambda: screen.last.epoch == 402)
        await pilot.press("down", "down", "down", "e")
        await until(pilot, lambda: isinstance(app.screen, WeightEditScreen))
        await pilot.press("down", *"-2.5", "up")
        await settled(pilot, app)
        await pilot.pause()
        save(app, name)


SESSIONS = {
    "app": lambda: session(
        (120, 40), {"running": "app-120x40-running.svg", "done": "app-120x40-done.svg", "light": "app-120x40-light.svg"}
    ),
    "small": lambda: session(
        (80, 24),
        {"running": "app-80x24-running.svg", "done": "app-80x24-done.svg", "help": "help-80x24.svg"},
        keys=("escape", "2"),
    ),  # done: the fit chart
    "help": lambda: session((100, 34), {"help": "help.svg"}),
    "lesson": lambda: code_and_lesson((120, 40)),
    "lesson-small": lambda: code_and_lesson((80, 24)),
    "runs": lambda: runs_and_sweep((120, 40)),
    "runs-small": lambda: runs_and_sweep((80, 24)),
    "network": lambda: network((120, 40), "network-120x40.svg", ("down", "down", "right")),
    "network-small": lambda: network((80, 24), "network-80x24.svg", ("ctrl+b",)),
    "travel": lambda: travel((120, 40), "travel-120x40.svg"),
    "kinks": lambda: kinks((120, 40), "kinks-120x40.svg"),
    "hand-edit-small": lambda: hand_edit((80, 24), "hand-edit-80x24.svg"),
}


async def main(names: list[str]) -> None:
    """Every session, or only those named (python scripts/screenshots.py network network-small)."""
    unknown = [name for name in names if name not in SESSIONS]
    if unknown:
        raise SystemExit(f"unknown session {unknown[0]!r}: choose from {', '.join(SESSIONS)}")
    OUT.mkdir(exist_ok=True)
    for name in names or SESSIONS:
        await SESSIONS[name]()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
