"""Text snapshots of the main screens at 80×24 and 120×40, each over a finished run.

The engine trains bit for bit, so a finished run draws the same screen every time: any change
to what these screens say shows up here as a diff of plain text.  The snapshots are files in
``tests/__snapshots__/test_tui_snapshots/``, one per screen and size; after a change you meant,
rewrite them with ``python3 -m pytest tests/test_tui_snapshots.py --snapshot-update`` and read
the diff before committing it.  What depends on the machine (epochs/s, seconds) is masked by
``screen_text``; the locale and colour settings of the shell are pinned (``plain_terminal``).
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from textual.pilot import Pilot

from quadtui.core.config import Config
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.code import CodeScreen
from quadtui.tui.screens.help import HelpScreen
from quadtui.tui.widgets.network import NetworkChart
from quadtui.tui.widgets.runs_table import RunsTable
from tests.conftest import finish, screen_text, type_into, until

#: the notebook's run, shorter: a second of training
RUN = Config(epochs=300)
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

pytestmark = pytest.mark.usefixtures("plain_terminal")


class ScreenText(SingleFileSnapshotExtension):
    """One UTF-8 text file per snapshot: the screen as it reads, easy to review in a diff."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(ScreenText)


async def steady_text(pilot: Pilot, app: QuadApp) -> str:
    """The screen's text once two reads, with the app idle in between, agree (layout and Markdown settle)."""
    text = screen_text(app)
    for _ in range(50):
        await pilot.pause()
        again = screen_text(app)
        if again == text:
            return text
        text = again
    raise AssertionError("the screen kept changing")


@pytest.mark.parametrize("size", SIZES)
async def test_train_screen(size: tuple[int, int], snapshot: SnapshotAssertion) -> None:
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        assert await steady_text(pilot, app) == snapshot


@pytest.mark.parametrize("size", SIZES)
async def test_code_view(size: tuple[int, int], snapshot: SnapshotAssertion) -> None:
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, CodeScreen), "the code view")
        assert await steady_text(pilot, app) == snapshot


@pytest.mark.parametrize("size", SIZES)
async def test_runs_table(size: tuple[int, int], snapshot: SnapshotAssertion) -> None:
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        await type_into(pilot, app, "hidden", "4")
        await pilot.press("enter")
        await until(pilot, lambda: len(app.train_screen.runs) == 2, "the second run")
        await finish(pilot, app)
        await pilot.press("escape", "r")
        table = app.query_one(RunsTable)
        await until(pilot, lambda: bool(table.region.area) and table.row_count == 2, "the runs table")
        assert await steady_text(pilot, app) == snapshot


@pytest.mark.parametrize("size", SIZES)
async def test_network_view(size: tuple[int, int], snapshot: SnapshotAssertion) -> None:
    app = QuadApp(RUN.replace(hidden=12, layers=2), autorun=True, view="network")
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        network = app.query_one(NetworkChart)
        await until(pilot, lambda: bool(network.region.area) and network.up_to_date, "the network view")
        assert await steady_text(pilot, app) == snapshot


@pytest.mark.parametrize("size", SIZES)
async def test_help(size: tuple[int, int], snapshot: SnapshotAssertion) -> None:
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        assert await steady_text(pilot, app) == snapshot
