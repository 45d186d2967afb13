"""The grid of cells that every chart's curves are drawn into (quadtui.charts.raster)."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quadtui.charts.raster import BRAILLE_GLYPHS, HD_GLYPHS, Cells

RED, BLUE = (200, 0, 0), (0, 0, 200)


def plotted(
    x: list[float], y: list[float], marker: str = "hd", join: bool = True, width: int = 10, height: int = 4
) -> Cells:
    cells = Cells(width, height)
    joined = np.full(len(x), join)
    cells.plot((0, 0, height, width), np.array(x, float), np.array(y, float), joined, marker, RED)
    return cells


def rows(cells: Cells) -> list[str]:
    return cells.ansi(color=False).split("\n")


def test_each_dot_of_a_cell_is_its_own_glyph():
    # one point in each corner of a 1×1 grid of hd dots (2×2) and braille dots (2×4)
    corners = {(0.0, 1.0): "▘", (1.0, 1.0): "▝", (0.0, 0.0): "▖", (1.0, 0.0): "▗"}
    for (x, y), glyph in corners.items():
        assert rows(plotted([x], [y], width=1, height=1)) == [glyph]
    assert rows(plotted([0.0], [1.0], "braille", width=1, height=1)) == [BRAILLE_GLYPHS[0x01]]
    assert rows(plotted([1.0], [0.0], "braille", width=1, height=1)) == [BRAILLE_GLYPHS[0x80]]
    assert rows(plotted([0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0], join=False, width=1, height=1)) == [HD_GLYPHS[15]]


def test_a_line_joins_its_points_without_gaps():
    # a diagonal from the top left to the bottom right crosses every column and every row
    cells = plotted([0.0, 1.0], [1.0, 0.0], width=20, height=6)
    assert all(any(c != " " for c in row) for row in rows(cells))
    assert all(any(row[col] != " " for row in rows(cells)) for col in range(20))
    # unjoined, the same two points are two dots
    assert (
        sum(c != " " for row in rows(plotted([0.0, 1.0], [1.0, 0.0], join=False, width=20, height=6)) for c in row) == 2
    )


def test_points_outside_the_area_are_not_drawn_but_lines_to_them_are():
    assert rows(plotted([2.0, 3.0], [0.5, 0.5], join=False)) == [" " * 10] * 4
    line = rows(plotted([0.5, 5.0], [0.5, 0.5], width=10, height=1))[0]
    assert line[:5] == " " * 5  # from the middle...
    assert len(set(line[5:])) == 1 and line[9] in "▀▄"  # ...to the right edge, one row of dots


def test_a_later_curve_covers_an_earlier_one_and_keeps_its_colour():
    cells = Cells(10, 1)
    everywhere = (np.linspace(0, 1, 20), np.full(20, 0.5), np.ones(20, bool))
    cells.plot((0, 0, 1, 10), *everywhere, "hd", RED)
    cells.plot((0, 0, 1, 5), *everywhere, "braille", BLUE)
    text = cells.ansi(color=True)
    assert text.count("\x1b[0;38;2;200;0;0m") == 1 and text.count("\x1b[0;38;2;0;0;200m") == 1  # one code a run
    blue, red = re.findall(r"\x1b\[0;38;2;0;0;200m(.*?)\x1b\[0;38;2;200;0;0m(.*?)\x1b\[0m", text)[0]
    assert len(blue) == 5 and all(0x2800 < ord(c) < 0x2900 for c in blue)
    assert len(red) == 5 and set(red) <= set(HD_GLYPHS)


def test_text_and_background():
    cells = Cells(6, 2, text_colour=(9, 9, 9))
    cells.text(0, 4, "abc")  # cut at the right edge
    cells.text(5, 0, "off the grid")
    cells.column(0, 2, 0, "│")
    assert rows(cells) == ["│   ab", "│     "]
    coloured = cells.ansi(background=(1, 2, 3)).split("\n")
    assert all(line.startswith("\x1b[0;48;2;1;2;3;38;2;9;9;9m") and line.endswith("\x1b[0m") for line in coloured)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-3, 3), min_size=1, max_size=40),
    st.lists(st.floats(-3, 3), min_size=1, max_size=40),
    st.sampled_from(["hd", "braille", "•"]),
    st.integers(1, 30),
    st.integers(1, 10),
)
def test_any_curve_fits_its_area(xs, ys, marker, width, height):
    n = min(len(xs), len(ys))
    cells = plotted(xs[:n], ys[:n], marker, width=width, height=height)
    lines = rows(cells)
    assert len(lines) == height and all(len(line) == width for line in lines)
