"""The status line: one widget that draws its two rows itself (issue 15: a class on two cores).

What it shows is what the row of labels and Textual's progress bar showed; a new frame of a
run repaints only the row whose words changed, and the widget is never laid out again.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.color import Color
from textual.geometry import Region
from textual.pilot import Pilot
from textual.renderables.bar import Bar

from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.snapshot import Snapshot
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.status import BAR_CELLS, StatusBar, bar_cells
from tests.conftest import finish, screen_of, screen_text, until


class StatusOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    engine = Engine(Config(epochs=10))
    engine.run()
    return engine.snapshot()


def at(snap: Snapshot, epoch: int, total: int, **changes: Any) -> Snapshot:
    """``snap`` as if it were at ``epoch`` of a run of ``total`` epochs."""
    return dataclasses.replace(snap, config=snap.config.replace(epochs=total), epoch=epoch, **changes)


async def show(pilot: Pilot, status: StatusBar, snap: Snapshot) -> None:
    status.latest = snap
    await until(pilot, partial(lambda shown: status.snapshot is shown, snap), f"epoch {snap.epoch} shown")


def textual_bar(halves: int) -> str:
    """What Textual's progress bar draws for a fill of ``halves`` half cells (its ``Bar`` renderable)."""
    console = Console(width=BAR_CELLS, color_system=None)
    with console.capture() as drawn:
        console.print(Bar(highlight_range=(0, halves / 2)), end="")
    return drawn.get()


def test_the_bar_has_the_characters_of_textuals_bar_at_every_fill() -> None:
    for halves in range(2 * BAR_CELLS + 1):
        fill, track = bar_cells(halves)
        assert fill + track == textual_bar(halves), halves
        assert len(fill + track) == BAR_CELLS


@pytest.mark.parametrize(
    "epoch, bar, percent",
    [(0, "━" * 12, "0%"), (500, "━" * 6 + "╺" + "━" * 5, "50%"), (1000, "━" * 12, "100%")],
)
async def test_the_bar_and_its_percentage_at_0_50_and_100_percent(
    snap: Snapshot, epoch: int, bar: str, percent: str
) -> None:
    app = StatusOnly()
    async with app.run_test(size=(80, 4)) as pilot:
        status = app.query_one(StatusBar)
        await show(pilot, status, at(snap, epoch, 1000))
        row = status.rows[0]
        assert row.startswith(f" {status.state_words} epoch {epoch} of 1000 ")
        assert f" {bar} {percent:>4} " in row
        assert f"epoch {epoch} of 1000" in screen_text(app) and bar in screen_text(app)
        segments = list(status.render_line(0))
        [(first, style), *_] = [(s.text, s.style) for s in segments if s.text and set(s.text) <= set("━╸") and s.style]
        colours = app.get_css_variables()
        if epoch == 0:  # all track: drawn in the bar's background colour
            assert first == bar and style.color == Color.parse(colours["surface"]).rich_color
        else:  # the fill in the bar's colour; complete in the theme's success colour
            done = colours["success"] if epoch == 1000 else colours["primary"]
            assert first.startswith("━" * 6) and style.color == Color.parse(done).rich_color


async def test_the_bar_moves_only_a_half_cell_at_a_time_and_says_the_rounded_percentage(snap: Snapshot) -> None:
    app = StatusOnly()
    async with app.run_test(size=(80, 4)) as pilot:
        status = app.query_one(StatusBar)
        for epoch, halves, percent in [(200, 0, 2), (417, 1, 4), (9999, 23, 100), (10_000, 24, 100)]:
            await show(pilot, status, at(snap, epoch, 10_000))
            assert status.progress == (halves, percent)


async def test_a_new_frame_repaints_only_the_row_whose_words_changed_and_never_lays_out(snap: Snapshot) -> None:
    app = StatusOnly()
    async with app.run_test(size=(80, 4)) as pilot:
        status = app.query_one(StatusBar)
        first = at(snap, 5, 5000, elapsed=1.0)
        await show(pilot, status, first)
        await pilot.pause()
        asked: list[tuple[tuple[Region, ...], bool]] = []
        refresh = status.refresh

        def counted(*regions: Region, **kwargs: Any) -> StatusBar:
            asked.append((regions, kwargs.get("layout", False)))
            return refresh(*regions, **kwargs)

        status.refresh = counted  # type: ignore[method-assign]
        await show(pilot, status, dataclasses.replace(first))  # a still frame: the same words
        assert asked == []
        await show(pilot, status, dataclasses.replace(first, elapsed=2.5))  # a numbers-only change
        assert asked == [((Region(0, 1, 80, 1),), False)] and "2.5s" in status.rows[1]
        asked.clear()
        status.speed = 3000  # the screen's pace: the numbers row, at once
        assert asked == [((Region(0, 1, 80, 1),), False)]
        await until(pilot, lambda: "speed 3000/s" in screen_text(app), "the new numbers on screen")
        asked.clear()
        for epoch in (50, 500, 5000):  # the epoch gains digits, the bar moves: the first row; no layout
            await show(pilot, status, at(snap, epoch, 5000, elapsed=2.5))
        assert asked and all(regions == (Region(0, 0, 80, 1),) and not layout for regions, layout in asked)
        await until(pilot, lambda: "epoch 5000 of 5000" in screen_text(app), "the last epoch on screen")


async def test_the_bar_stays_put_as_the_epoch_gains_digits(snap: Snapshot) -> None:
    app = StatusOnly()
    async with app.run_test(size=(80, 4)) as pilot:
        status = app.query_one(StatusBar)
        places: list[int] = []
        for epoch in (5, 50, 500, 5000):  # the line is not laid out again for each new digit
            await show(pilot, status, at(snap, epoch, 5000))
            row = status.rows[0]
            assert f"epoch {epoch} of 5000" in row
            places.append(row.index("━"))
        # where it stood all along is right after "epoch 5000 of 5000" and a blank: the final look
        assert places == [status.rows[0].index("epoch 5000 of 5000") + len("epoch 5000 of 5000") + 1] * 4


def state_colour(status: StatusBar) -> Color:
    [style] = [segment.style for segment in status.render_line(0) if segment.text == status.state_words]
    assert style is not None and style.bold
    return Color.from_rich_color(style.color)


async def test_the_state_word_is_bold_in_the_themes_error_and_success_colours(snap: Snapshot) -> None:
    app = StatusOnly()
    async with app.run_test(size=(80, 4)) as pilot:
        status = app.query_one(StatusBar)

        def theme(name: str) -> Color:
            return Color.parse(app.get_css_variables()[name])

        assert status.state_words == "ready" and state_colour(status) == theme("foreground")
        status.error = "boom"
        assert status.state_words == "error: boom" and state_colour(status) == theme("error")
        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        await until(pilot, lambda: state_colour(status) == theme("error"), "the new theme's error colour")
        status.error = None
        await show(pilot, status, at(snap, 10, 10))  # done
        assert status.state_words == "done" and state_colour(status) == theme("success")
        assert state_colour(status) != theme("error")


async def test_without_colour_the_status_line_still_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = QuadApp(Config(epochs=300, hidden=4), autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await finish(pilot, app)
        status = screen_of(app).status_bar
        text = screen_text(app)
        assert " done epoch 300 of 300 ━━━━━━━━━━━━ 100%" in text
        losses = " · ".join(status.numbers_words.split(" · ")[:3])  # what the screen text masks not
        assert f"\n {losses} · " in text and text.split("\n")[-3].endswith(" · speed 1000/s")
        # half way: the fill's end is drawn (a half cell), not only coloured, and the percentage says it
        status.latest = at(status.latest, 150, 300)  # type: ignore[arg-type]
        await until(pilot, lambda: "━━━━━━╺━━━━━  50%" in screen_text(app), "half way, on screen")
