"""Every chart's one way to the screen: a declarative chart spec in, exact-size ANSI text out.

Chart modules describe *what* to draw (:class:`ChartSpec`, :class:`Trace`, :class:`Axis`)
with plain numpy; :func:`render` lays out ticks for the size it is given, draws the curves
into a grid of cells (:mod:`quadtui.charts.raster`), and returns exactly ``height`` lines
of ``width`` cells.  A render keeps no state but small caches of what depends on the size and
the ticks alone (a frame's axes and labels, read-only, see :func:`_frame`): any thread may draw.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from quadtui.charts.raster import Cells
from quadtui.charts.text import cell_width, clean, clip, fit_block, message, single_cells
from quadtui.charts.theme import RGB, ChartTheme
from quadtui.charts.ticks import Axis, axis_ticks

MIN_WIDTH = 16  # below this (or MIN_HEIGHT) a chart is replaced by its centred title
MIN_HEIGHT = 6
_KEYS = {"hd": "▀▄", "fhd": "▀▄", "braille": "⠒⠤"}  # legend glyph per line marker
_DASHED_KEY = "▀ ▄"
_DASH = 3  # points on, then points off, along a dashed line


@dataclass(frozen=True)
class Trace:
    """One series: finite points are drawn, NaN/inf ones leave a gap."""

    x: np.ndarray
    y: np.ndarray
    marker: str = "hd"  # "hd" (2×2 dots a cell), "braille" (2×4) or a single character
    color: RGB | None = None
    lines: bool = True
    dashed: bool = False
    label: str | None = None
    key: str | None = None  # legend glyph; derived from the marker when None
    rank: int = 0  # legend order: lower first (then the top-most trace first)
    short: str | None = None  # the legend label when ``label`` does not fit


@dataclass(frozen=True)
class ChartSpec:
    """What one chart shows (title, traces, axes, a note), for :func:`render` to draw."""

    title: str
    traces: Sequence[Trace] = ()
    x: Axis = field(default_factory=Axis)
    y: Axis = field(default_factory=Axis)
    note: str | None = None  # centred text on the canvas (empty charts)
    short_title: str | None = None  # used instead of ``title`` when that leaves legend entries out


# -- public entry points ----------------------------------------------------------------
def never_raises(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Wrap a chart function so that any failure becomes a centred note, not an exception."""

    def wrap(chart: Callable[..., str]) -> Callable[..., str]:
        signature = inspect.signature(chart)

        @functools.wraps(chart)
        def safe(*args: Any, **kwargs: Any) -> str:
            try:
                return chart(*args, **kwargs)
            except Exception as error:
                try:
                    bound = signature.bind(*args, **kwargs).arguments
                    width, height = int(bound["width"]), int(bound["height"])
                except Exception:
                    raise error from None  # not even a size to draw in: a caller bug
                return message(f"{name} · chart failed: {type(error).__name__}", width, height)

        return safe

    return wrap


def render(chart: ChartSpec, width: int, height: int, theme: ChartTheme, header: bool = True) -> str:
    """``chart`` as exactly ``height`` lines of ``width`` visible cells; never raises.

    With ``header`` the first line holds the title and the legend; without it (a widget
    that shows both in its border) every line but the x axis and its labels is plot.
    """
    width, height = max(0, int(width)), max(0, int(height))
    if width < MIN_WIDTH or height < MIN_HEIGHT - (0 if header else 1):
        return message(chart.title, width, height)
    chart = _sane_chart(chart)
    try:
        text, exact = _draw(chart, width, height, theme, header)
    except Exception as error:  # a chart must never take the app down
        return message(f"{chart.title} · chart failed: {type(error).__name__}", width, height)
    return text if exact else fit_block(text, width, height)


#: a signature places each point (and limit, and tick) to 1/SIGNATURE_STEPS of a dot (braille's 2×4 a cell,
#: the finest a marker draws): fine enough that a point must sit that close to a dot's edge to cross it
#: unseen, coarse enough that a settled fit's last sub-dot moves keep its signature
SIGNATURE_STEPS = 16


def signature(chart: ChartSpec, width: int, height: int) -> tuple[object, ...]:
    """What :func:`render` draws ``chart`` from, to within a fraction of a dot (1/SIGNATURE_STEPS):
    each point's place, and the axes' limits as places on the plot.  Charts with equal signatures
    draw the same text but for a point (or a limit) that crossed a dot's edge by less than that,
    so a picture whose signature did not change need not be drawn again (for long).

    The title is not drawn here (a widget shows it in its border) unless the chart is too small
    for a plot; everything else is taken exactly.
    """
    chart = _sane_chart(chart)
    x_dots, y_dots = 2 * SIGNATURE_STEPS * max(1, width), 4 * SIGNATURE_STEPS * max(1, height)
    small = width < MIN_WIDTH or height < MIN_HEIGHT - 1  # too small for a plot: the title is drawn instead
    x_span, y_span = chart.x.hi - chart.x.lo, chart.y.hi - chart.y.lo
    parts: list[object] = [
        width,
        height,
        chart.note,
        chart.title if small else None,
        replace(chart.x, lo=_step(chart.x.lo, x_span, x_dots), hi=_step(chart.x.hi, x_span, x_dots)),
        replace(chart.y, lo=_step(chart.y.lo, y_span, y_dots), hi=_step(chart.y.hi, y_span, y_dots)),
    ]
    if not small:  # the ticks as drawn: their labels exactly, their places as the points'
        (x_at, x_labels), (y_at, y_labels), _ = _ticks(chart, width, height, header=False)
        places = [math.floor((p - chart.x.lo) / x_span * x_dots) for p in x_at]
        parts += [tuple(x_labels), tuple(y_labels), tuple(places)]
        parts += [tuple(math.floor((p - chart.y.lo) / y_span * y_dots) for p in y_at)]
    with np.errstate(invalid="ignore", over="ignore"):
        for trace in chart.traces:
            x = np.asarray(trace.x, dtype=np.float64).ravel()
            y = np.asarray(trace.y, dtype=np.float64).ravel()
            n = min(x.size, y.size)
            at = np.empty((2, n))  # the points' places, x then y, in steps (in place: a few calls in all)
            np.subtract(x[:n], chart.x.lo, out=at[0])
            at[0] /= x_span
            at[0] *= x_dots
            np.subtract(y[:n], chart.y.lo, out=at[1])
            at[1] /= y_span
            at[1] *= y_dots
            np.floor(at, out=at)
            np.clip(at, -(2**40), 2**40, out=at)
            at[np.isnan(at)] = -(2**41)
            parts += [trace.marker, trace.color, trace.lines, trace.dashed, at.astype(np.int64).tobytes()]
    return tuple(parts)


def _step(limit: float, span: float, dots: int) -> float:
    """``limit`` in steps of ``span / dots`` (a limit that moves less than that keeps its signature)."""
    return math.floor(limit / span * dots) if span > 0 else limit


def _sane(axis: Axis) -> Axis:
    """Finite limits with lo < hi, whatever the chart computed (the axis itself when it has them)."""
    lo, hi = float(axis.lo), float(axis.hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = (lo, lo + 1.0) if math.isfinite(lo) else (hi - 1.0, hi) if math.isfinite(hi) else (0.0, 1.0)
    if hi <= lo:
        lo, hi = (hi, lo) if hi < lo else (lo - 0.5, lo + 0.5)
    if type(axis.lo) is float and type(axis.hi) is float and lo == axis.lo and hi == axis.hi:
        return axis  # already float, finite and in order (-0.0 == 0.0 but would draw the same)
    return replace(axis, lo=lo, hi=hi)


def _sane_chart(chart: ChartSpec) -> ChartSpec:
    """``chart`` with sane axes (see :func:`_sane`): the chart itself when they are."""
    x, y = _sane(chart.x), _sane(chart.y)
    return chart if x is chart.x and y is chart.y else replace(chart, x=x, y=y)


# -- drawing -----------------------------------------------------------------------------
def _draw(chart: ChartSpec, width: int, height: int, theme: ChartTheme, header: bool) -> tuple[str, bool]:
    """The chart into a grid of cells: y labels and axis on the left, the x axis and its labels
    below, the curves in between (a later trace over an earlier one), the title line on top.
    Its text, and whether each line is exactly ``width`` cells (:attr:`Cells.narrow`)."""
    top = int(header)
    rows = height - 2 - top  # the plot: all but the header, the x axis and its labels
    points = [_points(trace, chart) for trace in chart.traces]
    drawn = [p is not None for p in points]
    if any(drawn):
        (x_at, x_labels), (y_at, y_labels), cols = _ticks(chart, width, height, header)
    else:  # an empty frame: numbers on it would mean nothing
        x_at, x_labels, y_at, y_labels, cols = [], [], [], [], width - 1
    axis = width - cols - 1  # the y axis' column (the labels' width)
    x_lo, x_hi, y_lo, y_hi = chart.x.lo, chart.x.hi, chart.y.lo, chart.y.hi
    y_marks = tuple((top + round((y_hi - at) / (y_hi - y_lo) * (rows - 1)), label) for at, label in zip(y_at, y_labels))
    x_marks = tuple(
        (axis + 1 + round((at - x_lo) / (x_hi - x_lo) * (cols - 1)), label) for at, label in zip(x_at, x_labels)
    )
    frame, narrow = _frame(width, height, top, rows, cols, y_marks, x_marks)
    cells = Cells(width, height, theme.foreground if theme.color else None, frame, narrow)
    area = (top, axis + 1, rows, cols)
    cells.curves(
        area,
        [
            (*placed, trace.marker, trace.color if theme.color else None)
            for trace, placed in zip(chart.traces, points)
            if placed is not None
        ],
    )
    if chart.note:
        note = clip(clean(chart.note), max(1, cols - 2))
        cells.text(top + (rows - 1) // 2, axis + 1 + (cols - len(note)) // 2, note)
    if header:
        pieces = _title(chart, drawn, width, theme)
        col = (width - sum(len(text) for text, _ in pieces)) // 2
        for text, colour in pieces:
            cells.text(0, col, text, colour)
            col += len(text)
    return cells.ansi(theme.color, theme.background), cells.narrow


#: frames kept (:func:`_frame`): a chart's frame changes only when a tick moves or its labels change
FRAMES_KEPT = 32


@functools.lru_cache(maxsize=FRAMES_KEPT)
def _frame(
    width: int,
    height: int,
    top: int,
    rows: int,
    cols: int,
    y_marks: tuple[tuple[int, str], ...],
    x_marks: tuple[tuple[int, str], ...],
) -> tuple[np.ndarray, bool]:
    """The characters of a chart's frame, in the text's colour (ink 0): the y axis (in the column left
    of the ``cols`` plot columns) with its labels (``y_marks``: their rows), the x axis under the
    ``rows`` plot rows from ``top`` with its ticks and labels (``x_marks``: their columns); and
    whether each is one printable character a cell.  Read-only: a chart draws on a copy.

    All of it depends on the size and the ticks' places and labels only, so a training run's
    frames, whose axes move a little, draw on the same frame until a tick moves by a cell.
    """
    lines = [" " * width] * height  # built as strings: a frame is drawn whenever a tick moves a cell
    texts: list[str] = []

    def put(row: int, col: int, text: str) -> None:  # as Cells.text does
        start, stop = max(col, 0), min(col + len(text), width)
        if 0 <= row < height and text and start < stop:
            part = text[start - col : stop - col]
            lines[row] = lines[row][:start] + part + lines[row][stop:]
            texts.append(part)

    axis = width - cols - 1
    if 0 <= axis < width:  # the y axis: "│" down the plot's rows
        plot_rows = range(max(top, 0), min(top + rows, height))
        lines[plot_rows.start : plot_rows.stop] = [" " * axis + "│" + " " * (width - axis - 1)] * len(plot_rows)
        texts.append("│")
    for row, label in y_marks:
        put(row, 0, label.rjust(axis) + "┤")
    put(top + rows, axis, "└" + "─" * cols)
    for col, label in x_marks:
        put(top + rows, col, "┬")
        put(top + rows + 1, min(max(0, col - (len(label) - 1) // 2), width - len(label)), label)
    chars = np.array("".join(lines)).reshape(1).view("<U1").reshape(height, width)
    chars.flags.writeable = False
    return chars, single_cells("".join(texts))


def _ticks(
    chart: ChartSpec, width: int, height: int, header: bool
) -> tuple[tuple[list[float], list[str]], tuple[list[float], list[str]], int]:
    """(x ticks, y ticks, the plot's columns): the y labels' width leaves the x axis its room."""
    rows = height - 2 - int(header)  # the plot: all but the header, the x axis and its labels
    yticks = axis_ticks(chart.y, rows)
    label_width = max((cell_width(label) for label in yticks[1]), default=0)
    cols = width - label_width - 1
    return axis_ticks(chart.x, cols, label_cells=label_width), yticks, cols


def _points(trace: Trace, chart: ChartSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The trace's finite points as shares of the plot (x: 0..1 left to right, y: bottom to top), and
    which of them join the next one with a line; None when it has no finite point."""
    x = np.asarray(trace.x, dtype=np.float64).ravel()
    y = np.asarray(trace.y, dtype=np.float64).ravel()
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.all():  # most curves: no gap to look for
        if not n:
            return None
        gaps = None
    else:
        index = np.flatnonzero(finite)
        if not index.size:
            return None
        x, y, n = x[index], y[index], index.size
        gaps = np.diff(index) != 1  # a gap (NaN) breaks the line
    # Far-off points stay far off, but a line to them is drawn only to a few plot sizes away.
    fx = (_clip(x, chart.x) - chart.x.lo) / (chart.x.hi - chart.x.lo)
    fy = (_clip(y, chart.y) - chart.y.lo) / (chart.y.hi - chart.y.lo)
    joined = np.zeros(n, dtype=bool)
    if trace.lines and n > 1:
        joined[:-1] = True if gaps is None else ~gaps
        if trace.dashed:
            joined[:-1] &= (np.arange(1, n) // _DASH) % 2 == 0
    return fx, fy, joined


def _clip(values: np.ndarray, axis: Axis) -> np.ndarray:
    span = (axis.hi - axis.lo) or 1.0
    clipped: np.ndarray = np.minimum(np.maximum(values, axis.lo - 8 * span), axis.hi + 8 * span)  # np.clip, faster
    return clipped


@dataclass(frozen=True)
class LegendEntry:
    """One series in a legend: its key glyph, its label (and a shorter one) and its colour."""

    key: str
    label: str
    color: RGB | None = None
    short: str | None = None


def legend_entries(traces: Sequence[Trace], drawn: Sequence[bool] | None = None) -> list[LegendEntry]:
    """The labelled traces (those drawn, when ``drawn`` says), by rank, then the top-most (drawn last) first."""
    shown = list(zip(traces, drawn if drawn is not None else [True] * len(traces)))
    ordered = sorted(shown[::-1], key=lambda e: e[0].rank)  # noqa: C415  (sorted is stable: ties stay top-most first)
    return [
        LegendEntry(_key(trace), trace.label, trace.color, trace.short) for trace, ok in ordered if trace.label and ok
    ]


def _key(trace: Trace) -> str:
    return trace.key or (_DASHED_KEY if trace.dashed and trace.lines else _KEYS.get(trace.marker, trace.marker))


def legend_within(
    entries: Sequence[LegendEntry], budget: int, title: str = "", short: bool = False
) -> tuple[str, list[LegendEntry], int]:
    """The title clipped to ``budget`` cells, the entries that fit after it (each as its label, or
    its short label when that does not fit or ``short`` asks for it), and how many did not fit."""
    title = clip(clean(title), max(0, budget))
    used = cell_width(title)
    legend: list[LegendEntry] = []
    left_out = 0
    for entry in entries:
        for text in (entry.short or entry.label,) if short else (entry.label, entry.short):
            label = clip(clean(text or ""), 40)
            size = (3 if used else 0) + cell_width(entry.key) + 1 + cell_width(label)
            if text and used + size <= budget:
                legend.append(replace(entry, label=label))
                used += size
                break
        else:
            left_out += 1  # neither form fits; a lesser, shorter entry further on may
    return title, legend, left_out


def legend_line(entries: Sequence[LegendEntry], budget: int) -> list[LegendEntry]:
    """The entries that fit in ``budget`` cells: long labels, or short ones when that leaves fewer out."""
    long, short = legend_within(entries, budget), legend_within(entries, budget, short=True)
    return (short if short[2] < long[2] else long)[1]


def _title(chart: ChartSpec, drawn: list[bool], width: int, theme: ChartTheme) -> list[tuple[str, RGB | None]]:
    """The title, then a one-line legend (key glyph + label) for as many traces as fit, as pieces of
    text and their colours (None: the text's).

    Entries run by rank, then from the top-most trace (drawn last) down, so the main series
    take the room first (in their short form when the long one does not fit).  When entries
    are left out and the chart has a short title, the short title, then short labels, make
    room for them.
    """
    entries = legend_entries(chart.traces, drawn)
    # the long title and labels; then, while entries are left out, the short title; then short labels
    tries = [(chart.title, False)] + (
        [(chart.short_title, False), (chart.short_title, True)] if chart.short_title else []
    )
    best: tuple[str, list[LegendEntry], int] | None = None
    for text, short in tries:
        made = legend_within(entries, width - 2, text, short)
        if best is None or made[2] < best[2]:
            best = made
        if not made[2]:
            break
    assert best is not None  # there is always a first try
    title, legend, _ = best
    pieces: list[tuple[str, RGB | None]] = [(title, None)]
    for entry in legend:
        pieces += [("   ", None), (entry.key, entry.color if theme.color else None), (" " + entry.label, None)]
    return pieces
