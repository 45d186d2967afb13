"""The charts' caches and fast paths never change a picture (issue 15: chart drawing at half the cost).

A chart's frame (axes, ticks, labels), the map from dots to glyph bits, the markers' glyphs and the
colour codes are cached by what they depend on; a grid of one-cell characters is read without
measuring.  Each test here draws with those caches warm from other charts (other sizes, themes,
markers, kinds of chart) and compares with the same chart drawn cold, or checks a fast path
against the slow one it replaces, so that a cache keyed on too little fails.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quadtui.charts import (
    ChartTheme,
    canvas,
    fit_chart,
    fit_signature,
    loss_chart,
    neuron_chart,
    neuron_signature,
    raster,
    ticks,
)
from quadtui.charts.canvas import ChartSpec, Trace, render
from quadtui.charts.raster import BRAILLE_GLYPHS, HD_GLYPHS, Cells
from quadtui.charts.text import cell_width, fit_block, visible
from quadtui.charts.ticks import Axis
from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.history import bin_edges
from quadtui.core.snapshot import Snapshot

DARK = ChartTheme.from_textual(True, "#e0e0e0", "#1e1e1e", ["#0178d4", "#ffa62b", "#4ebf71"], True)
LIGHT = ChartTheme.from_textual(False, "#1e1e1e", "#f0f0f0", ["#0178d4"], True)
THEMES = {"dark": DARK, "light": LIGHT, "NO_COLOR": dataclasses.replace(DARK, color=False)}
#: the app's content sizes at 80×24 (the loss tab) and 120×40 (loss and fit; the neuron chart), and others
SIZES = [(47, 17), (40, 16), (83, 17), (41, 16), (40, 15), (60, 20)]
CACHES: list[Any] = [
    canvas._frame,
    raster._dot_places,
    raster._dots,
    raster._codes,
    ticks._axis_ticks,
    ticks.fmt_number,
]


def clear_caches() -> None:
    for cache in CACHES:
        cache.cache_clear()


#: where the run's snapshots are taken: its first epochs (few points, moving axes) to its end
EPOCHS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 500, 610, 800, 987, 1200, 1597, 2000, 2584, 3000)


@pytest.fixture(scope="module")
def run() -> list[Snapshot]:
    """Two dozen snapshots of a real training run, from before its first epoch to its end."""
    engine = Engine(Config(epochs=EPOCHS[-1]))
    snaps = []
    for epoch in EPOCHS:
        engine.advance(epoch - engine.epoch)
        snaps.append(engine.snapshot())
    return snaps


Draw = Callable[[Snapshot, int, int, ChartTheme], object]
CHARTS: dict[str, Draw] = {
    "loss": lambda s, w, h, t: loss_chart(s, w, h, t, header=False),
    "loss, titled, log x": lambda s, w, h, t: loss_chart(s, w, h, t, log_x=True),
    "loss, marked": lambda s, w, h, t: loss_chart(s, w, h, t, header=False, mark=max(1, s.epoch // 2)),
    "fit": lambda s, w, h, t: fit_chart(s, w, h, t, header=False),
    "fit, titled": lambda s, w, h, t: fit_chart(s, w, h, t),
    "neuron": lambda s, w, h, t: neuron_chart(s, 3, False, w, h, t, header=False),
    "contribution": lambda s, w, h, t: neuron_chart(s, 5, True, w, h, t, header=False),
    "fit signature": lambda s, w, h, t: fit_signature(s, w, h, t),
    "neuron signature": lambda s, w, h, t: neuron_signature(s, 3, False, w, h, t),
}
CASES = st.tuples(
    st.integers(0, len(EPOCHS) - 1),  # a snapshot of the run
    st.sampled_from(sorted(CHARTS)),
    st.sampled_from(SIZES),
    st.sampled_from(sorted(THEMES)),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(CASES, min_size=2, max_size=12))
def test_a_chart_drawn_after_others_is_the_chart_drawn_with_every_cache_empty(
    run: list[Snapshot], cases: list[tuple[int, str, tuple[int, int], str]]
) -> None:
    # cold first, each on its own; then all of them in a row, each on the caches the others left
    cold = []
    for index, chart, (width, height), theme in cases:
        clear_caches()
        cold.append(CHARTS[chart](run[index], width, height, THEMES[theme]))
    clear_caches()
    warm = [CHARTS[chart](run[index], width, height, THEMES[theme]) for index, chart, (width, height), theme in cases]
    assert warm == cold


def test_every_chart_of_a_run_at_every_size_and_theme_draws_the_same_warm_as_cold(run: list[Snapshot]) -> None:
    # the other way round: everything drawn once warm (sizes and themes interleaved), then each cold
    cases = [
        (index, chart, size, theme)
        for index in range(0, len(run), 3)
        for size in SIZES[:4]
        for theme in THEMES
        for chart in ("loss", "fit", "neuron")
    ]
    warm = [CHARTS[chart](run[i], *size, THEMES[theme]) for i, chart, size, theme in cases]
    for (i, chart, size, theme), picture in zip(cases, warm):
        clear_caches()
        assert CHARTS[chart](run[i], *size, THEMES[theme]) == picture, (i, chart, size, theme)


def test_a_frame_cached_at_one_size_is_never_the_frame_of_another() -> None:
    chart = ChartSpec("t", [Trace(np.array([0.0, 1.0]), np.array([0.0, 1.0]))], Axis(0, 1), Axis(0, 1))
    clear_caches()
    cold = {(size, header): render(chart, *size, DARK, header) for size in SIZES for header in (False, True)}
    for size in SIZES:  # each size, header or not, right after every other
        for header in (False, True):
            for other in SIZES:
                render(chart, *other, DARK, not header)
                assert render(chart, *size, DARK, header) == cold[size, header]


@pytest.mark.parametrize(
    "shapes",
    [((2, 2),), ((4, 2),), ((1, 1),), ((4, 2), (2, 2)), ((2, 2), (4, 2)), ((4, 2), (1, 1), (2, 2), (2, 2))],
)
def test_the_dot_map_sends_each_dot_to_its_own_cell_and_glyph_bit(shapes: tuple[tuple[int, int], ...]) -> None:
    bits = {(2, 2): np.array([[1, 2], [4, 8]]), (4, 2): np.array([[1, 8], [2, 16], [4, 32], [64, 128]])}
    for rows, cols in [(3, 5), (5, 3), (15, 43), (3, 5)]:  # warm from other grids (and the same again)
        places, bases = raster._dot_places(rows, cols, shapes)
        for k, (down, across) in enumerate(shapes):
            dy, dx = np.mgrid[0 : rows * down, 0 : across * cols]
            cell = (k * rows + dy // down) * cols + dx // across
            bit = bits.get((down, across), np.ones((1, 1), dtype=np.int64))[dy % down, dx % across]
            expected = cell * 8 + np.log2(bit).astype(np.int64)
            got = places[bases[k] : bases[k] + dy.size]
            assert np.array_equal(got, expected.ravel()), (rows, cols, k)


def plotted_one_by_one(area: tuple[int, int, int, int], curves: list[raster.Curve]) -> Cells:
    cells = Cells(area[1] + area[3] + 1, area[0] + area[2] + 1)
    for curve in curves:
        cells.plot(area, *curve)
    return cells


SHARE = st.one_of(st.floats(-0.5, 1.5), st.just(float("nan")))  # of the area: some off it, some gaps
CURVE = st.tuples(
    st.lists(SHARE, min_size=1, max_size=30),
    st.lists(SHARE, min_size=30, max_size=30),
    st.lists(st.booleans(), min_size=30, max_size=30),
    st.sampled_from(["hd", "braille", "fhd", "·", "x"]),
    st.sampled_from([None, (200, 0, 0), (0, 0, 200), (0, 200, 0)]),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(CURVE, min_size=1, max_size=4), st.integers(0, 2), st.integers(0, 3), st.integers(1, 9), st.integers(1, 20)
)
def test_curves_in_one_pass_are_the_curves_plotted_one_after_the_other(
    drawn: list[Any], top: int, left: int, rows: int, cols: int
) -> None:
    curves: list[raster.Curve] = []
    for xs, ys, joins, marker, colour in drawn:
        n = len(xs)
        curves.append((np.array(xs), np.array(ys[:n]), np.array(joins[:n]), marker, colour))
    area = (top, left, rows, cols)
    together = Cells(area[1] + area[3] + 1, area[0] + area[2] + 1)
    with np.errstate(invalid="ignore"):  # NaN points: not drawn
        together.curves(area, curves)
        apart = plotted_one_by_one(area, [curves[-1]]) if len(curves) == 1 else None
        one_by_one = Cells(together.width, together.height)
        for curve in curves:
            one_by_one.curves(area, [curve])
    assert together.ansi(color=True) == one_by_one.ansi(color=True)
    assert together.ansi(color=False) == one_by_one.ansi(color=False)
    if apart is not None:
        assert together.ansi(color=True) == apart.ansi(color=True)


def test_a_later_curve_of_one_pass_covers_an_earlier_one_cell_by_cell() -> None:
    everywhere = (np.linspace(0, 1, 20), np.full(20, 0.5), np.ones(20, bool))
    cells = Cells(10, 1)
    cells.curves((0, 0, 1, 10), [(*everywhere, "hd", (1, 1, 1)), (*everywhere, "braille", (2, 2, 2))])
    row = cells.ansi(color=False)
    assert all(c in BRAILLE_GLYPHS[1:] for c in row)  # the braille line, drawn last, everywhere
    assert "\x1b[0;38;2;1;1;1m" not in cells.ansi() and "\x1b[0;38;2;2;2;2m" in cells.ansi()
    cells = Cells(10, 1)
    cells.curves((0, 0, 1, 10), [(*everywhere, "braille", (2, 2, 2)), (*everywhere, "hd", (1, 1, 1))])
    assert set(cells.ansi(color=False)) <= set(HD_GLYPHS)


#: one-cell characters, and characters that are not (wide, combining, escape, newline, NUL, soft hyphen)
ONE_CELL = "ab1 │┤└─┬·•▀▄" + BRAILLE_GLYPHS[1:40]
OTHERS = "界\u0301\x1b\n\x00\u00ad\u2028ŷ−"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-2, 6), st.integers(-3, 12), st.text(ONE_CELL + OTHERS, min_size=1, max_size=6)),
        max_size=8,
    ),
    st.lists(st.sampled_from([None, (1, 2, 3), (4, 5, 6)]), min_size=8, max_size=8),
    st.sampled_from([None, (9, 9, 9)]),
)
def test_text_read_straight_from_the_grid_is_the_text_read_cell_by_cell(
    texts: list[tuple[int, int, str]], colours: list[Any], background: Any
) -> None:
    cells = Cells(10, 5, (7, 7, 7))
    for (row, col, text), colour in zip(texts, colours):
        cells.text(row, col, text, colour)
    by_cell = Cells(10, 5, (7, 7, 7), cells.chars, narrow=False)
    by_cell.inks[:], by_cell.colours = cells.inks, list(cells.colours)
    for color in (True, False):
        assert cells.ansi(color, background) == by_cell.ansi(color, background)
    if cells.narrow:  # then every line is exactly the grid's width: nothing to measure or cut
        text = cells.ansi(True, background)
        assert fit_block(text, 10, 5) == text
        assert all(cell_width(visible(line)) == 10 for line in text.split("\n"))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5_000_000), st.integers(1, 5000))
def test_bin_edges_are_linspace_s(size: int, bins: int) -> None:
    assert np.array_equal(bin_edges(size, bins), np.unique(np.linspace(0, size, bins + 1).astype(np.int64)))


@pytest.mark.parametrize("cache", CACHES, ids=lambda c: c.__name__)
def test_every_cache_is_bounded(cache: functools._lru_cache_wrapper[Any]) -> None:
    maxsize = cache.cache_info().maxsize
    assert maxsize is not None and maxsize <= 4096
