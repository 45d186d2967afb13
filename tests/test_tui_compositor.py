"""The train screen's compositor writes what Textual's writes, asking fewer widgets for fewer rows (issue 15).

:class:`RowsCompositor` overrides how Textual's compositor gathers rows for a partial update.
Each test paints the same updates both ways on the same screen, its own and Textual's
(``Compositor._get_renders``), and compares what each writes on the terminal: every cell's
character and style (Textual's also moves the cursor, now and then, to a place where it then
writes nothing).
"""

from __future__ import annotations

import random
from types import MethodType

import pytest
from rich.cells import cell_len
from rich.segment import ControlType
from rich.style import Style
from textual._compositor import Compositor
from textual.geometry import Region

from quadtui.tui.app import QuadApp
from quadtui.tui.screens.live import RowsCompositor
from quadtui.tui.widgets.run_charts import LossChart
from tests.conftest import SMALL, finish, until


def painted(
    app: QuadApp, compositor: Compositor, regions: list[Region], textuals: bool
) -> dict[tuple[int, int], tuple[str, Style | None]]:
    """What a partial update of ``regions`` writes on the terminal, gathered our way or Textual's:
    each cell written, (x, y) → (character, style)."""
    if textuals:
        compositor._get_renders = MethodType(Compositor._get_renders, compositor)  # type: ignore[method-assign]
    try:
        compositor._dirty_regions.update(regions)
        update = compositor.render_update(screen_stack=app._background_screens)
        assert update is not None
        cells: dict[tuple[int, int], tuple[str, Style | None]] = {}
        x = y = 0
        for segment in update.__rich_console__(app.console, app.console.options):
            for code in segment.control or ():
                if code[0] is ControlType.CURSOR_MOVE_TO:
                    x, y = code[1], code[2]  # type: ignore[misc]
            if segment.control or segment.text == "\n":  # a line's end: the next one starts with a move
                continue
            for character in segment.text:
                cells[x, y] = (character, segment.style)
                x += cell_len(character)
        return cells
    finally:
        compositor.__dict__.pop("_get_renders", None)


def some_regions(rng: random.Random, width: int, height: int) -> list[Region]:
    regions = []
    for _ in range(rng.randint(1, 4)):
        x, y = rng.randrange(width), rng.randrange(height)
        regions.append(Region(x, y, rng.randint(1, width - x), rng.randint(1, min(3, height - y))))
    return regions


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_partial_update_writes_what_textuals_compositor_writes(size: tuple[int, int]) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        compositor = app.train_screen._compositor
        assert isinstance(compositor, RowsCompositor) and RowsCompositor.usable
        rng = random.Random(15)
        width, height = size
        for _ in range(300):
            regions = some_regions(rng, width, height)
            ours = painted(app, compositor, regions, textuals=False)
            assert ours, f"{regions} painted nothing"
            assert ours == painted(app, compositor, regions, textuals=True), f"{regions} painted differently"
        ours_whole = [list(strip) for strip in compositor.render_strips()]  # a whole screen: every widget not behind
        compositor._get_renders = MethodType(Compositor._get_renders, compositor)  # type: ignore[method-assign]
        assert ours_whole == [list(strip) for strip in compositor.render_strips()]


async def test_a_charts_update_asks_the_chart_alone_for_its_rows() -> None:
    """What the override is for: a frame that changed a chart's rows asks that chart, not the form,
    the footer, the status line and every container behind the chart for all of their rows."""
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        loss = app.query_one(LossChart)
        inside = loss.content_region
        changed = Region(inside.x, inside.y + 2, inside.width, 3)
        compositor = app.train_screen._compositor
        ours = [(clip.height, strips) for _, clip, strips in compositor._get_renders(changed)]
        textuals = list(Compositor._get_renders(compositor, changed))
        assert len(ours) == 1 and ours[0][0] == 3 and len(ours[0][1]) == 3
        assert len(textuals) > 5
        assert sum(len(strips) for _, _, strips in textuals) > 10 * 3
