"""The one place that talks to plotext: a declarative chart spec in, exact-size ANSI text out.

Chart modules describe *what* to draw (:class:`Chart`, :class:`Trace`, :class:`Axis`)
with plain numpy; :func:`render` lays out ticks for the size it is given, draws with a
fresh plotext figure, and returns exactly ``height`` lines of ``width`` cells.

plotext keeps module-level state and its C kernel is not documented as thread-safe,
so every render builds its own figure *and* holds :data:`_LOCK` (renders are a few
milliseconds; the app draws from one thread anyway).  plotext is imported on first
use, so importing :mod:`quadtui.charts` costs the app's first paint nothing.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from quadtui.charts.theme import RGB, ChartTheme

MIN_WIDTH = 16  # below this (or MIN_HEIGHT) a chart is replaced by its centred title
MIN_HEIGHT = 6
_THEME_NAME = "quadtui"  # one plotext theme slot, overwritten on every render (never grows)
_LOCK = threading.Lock()
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# runs of characters known to take one cell: ASCII, Latin-1, box drawing, blocks, braille
_NARROW = re.compile("[\x20-\x7e\u00a0-\u00ff\u2010-\u2027\u2500-\u259f\u2800-\u28ff]+")
_KEYS = {"hd": "▀▄", "fhd": "▀▄", "braille": "⠒⠤"}  # legend glyph per line marker
_DASHED_KEY = "▀ ▄"
_DASH = 3  # points on, then points off, along a dashed line


@dataclass(frozen=True)
class Trace:
    """One series: finite points are drawn, NaN/inf ones leave a gap."""

    x: np.ndarray
    y: np.ndarray
    marker: str = "hd"  # plotext marker: "hd", "braille" or a single character
    color: RGB | None = None
    lines: bool = True
    dashed: bool = False
    label: str | None = None
    key: str | None = None  # legend glyph; derived from the marker when None


@dataclass(frozen=True)
class Axis:
    """A numeric range; ``log`` means values (and limits) are already log10."""

    lo: float = 0.0
    hi: float = 1.0
    log: bool = False
    integer: bool = False  # counts (epochs): whole-number ticks, 25k / 1.5M labels
    ticks: tuple[float, ...] | None = None  # preferred positions (used when they fit)


@dataclass(frozen=True)
class Chart:
    title: str
    traces: Sequence[Trace] = ()
    x: Axis = field(default_factory=Axis)
    y: Axis = field(default_factory=Axis)
    note: str | None = None  # centred text on the canvas (empty charts)


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


def render(chart: Chart, width: int, height: int, theme: ChartTheme) -> str:
    """``chart`` as exactly ``height`` lines of ``width`` visible cells; never raises."""
    width, height = max(0, int(width)), max(0, int(height))
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        return message(chart.title, width, height)
    try:
        with _LOCK:
            text = _draw(chart, width, height, theme)
    except Exception as error:  # a chart must never take the app down
        return message(f"{chart.title} · chart failed: {type(error).__name__}", width, height)
    return fit_block(text, width, height)


def message(text: str, width: int, height: int) -> str:
    """``text`` centred in a blank ``width`` × ``height`` block (plain, no escapes)."""
    width, height = max(0, int(width)), max(0, int(height))
    lines = [" " * width] * height
    if height:
        line = clip(clean(text), width)
        pad = width - cell_width(line)
        lines[(height - 1) // 2] = " " * (pad // 2) + line + " " * (pad - pad // 2)
    return "\n".join(lines)


# -- drawing -----------------------------------------------------------------------------
def _draw(chart: Chart, width: int, height: int, theme: ChartTheme) -> str:
    import plotext  # deferred: ~80 ms of imports the app's first frame does not need
    from plotext import colorize, marker, pixel

    terminal = type(plotext.terminal)()  # a private terminal + figure: no shared plot state
    terminal.limit(False, False)  # never clamp to the size of the terminal we run in
    fig = terminal._master
    fig.plot_size(width, height)
    plotext.add_theme(_THEME_NAME, canvas=theme.background if theme.color else None,
                      text=theme.foreground if theme.color else None)
    fig.theme(_THEME_NAME)

    drawn = [_add_trace(fig, trace, chart, theme, marker, pixel) for trace in chart.traces]
    rows = height - 4  # title, top frame, bottom frame, x tick labels
    if any(drawn):
        yticks = axis_ticks(chart.y, max(2, rows // 3 + 1), rows)
        label_width = max((cell_width(label) for label in yticks[1]), default=0)
        cols = width - label_width - 2
        xticks = axis_ticks(chart.x, max(2, cols // 9), cols)
    else:  # an empty frame: numbers on it would mean nothing
        xticks = yticks = ([], [])
        cols = width - 2
    if chart.note:
        fg = pixel(foreground=theme.foreground) if theme.color and theme.foreground else pixel()
        note = fig.text((chart.x.lo + chart.x.hi) / 2, (chart.y.lo + chart.y.hi) / 2,
                        colorize(clip(clean(chart.note), max(1, cols - 2)), fg), alignment="center")
        _register(fig, note)

    fig.ruler("x").lim(chart.x.lo, chart.x.hi)
    fig.ruler("y").lim(chart.y.lo, chart.y.hi)
    fig.ruler("x").ticks(*xticks)
    fig.ruler("y").ticks(*yticks)
    fig.title(_title(chart, drawn, width, theme, colorize, pixel))
    return fig.build().string(colorless=not theme.color)


def _add_trace(fig, trace: Trace, chart: Chart, theme: ChartTheme, marker, pixel) -> bool:
    """Draw ``trace``; False when it has no finite point."""
    x = np.asarray(trace.x, dtype=np.float64).ravel()
    y = np.asarray(trace.y, dtype=np.float64).ravel()
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    index = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if not index.size:
        return False
    # Far-off points stay far off, but within what plotext's rescaling handles well.
    xs = _clip(x[index], chart.x)
    ys = _clip(y[index], chart.y)
    colour = trace.color if theme.color else None
    style = marker(trace.marker, pixel(foreground=colour) if colour else pixel())
    signal = _signal(fig, xs.tolist(), ys.tolist(), style)
    if trace.lines and index.size > 1:
        joined = np.diff(index) == 1  # a gap (NaN) breaks the line
        if trace.dashed:
            joined &= (np.arange(1, index.size) // _DASH) % 2 == 0
        connect = getattr(signal, "_set_connected", signal.line)
        for i in (np.flatnonzero(joined) + 1).tolist():
            connect(i, True)
    _register(fig, signal)
    return True


def _clip(values: np.ndarray, axis: Axis) -> np.ndarray:
    span = (axis.hi - axis.lo) or 1.0
    return np.clip(values, axis.lo - 8 * span, axis.hi + 8 * span)


def _signal(fig, x: list[float], y: list[float], style):
    """``fig.signal(x, y, marker=style)``, minus a Python copy of the marker per point
    (the C kernel copies it anyway): a third of the cost of a long line.  Falls back to
    the public call if plotext's internals move."""
    try:
        from plotext._signal.signal import signal_class

        signal = signal_class(len(x))
        append = signal._append_point
        for xi, yi in zip(x, y):
            append(xi, yi, style)
        return signal._set_xside(0)._set_yside(0)
    except (ImportError, AttributeError):
        return fig.signal(x, y, marker=style)


def _register(fig, signal) -> None:
    """``fig.draw(signal)`` without its per-point scan for colours to retire from the
    automatic colour cycle (we colour every trace ourselves): that scan is half the cost
    of a long line.  Falls back to ``draw`` if plotext's internals move."""
    signals = getattr(fig, "_signals", None)
    if callable(getattr(signals, "_add", None)):
        signals._add(signal)
    else:
        fig.draw(signal)


def _title(chart: Chart, drawn: list[bool], width: int, theme: ChartTheme, colorize, pixel):
    """The title, then a one-line legend (key glyph + label) for as many traces as fit.

    Entries run from the top-most trace (drawn last) down, so the main series comes first.
    """
    fg = pixel(foreground=theme.foreground) if theme.color and theme.foreground else pixel()
    budget = width - 2
    title = clip(clean(chart.title), budget)
    used = cell_width(title)
    out = colorize(title, fg).matrix()
    for trace, shown in reversed(list(zip(chart.traces, drawn))):
        if not (trace.label and shown):
            continue
        key = trace.key or (_DASHED_KEY if trace.dashed and trace.lines else _KEYS.get(trace.marker, trace.marker))
        label = clip(clean(trace.label), 40)
        entry = 3 + cell_width(key) + 1 + cell_width(label)
        if used + entry > budget:
            continue  # a shorter entry further on may still fit
        colour = pixel(foreground=trace.color) if theme.color and trace.color else fg
        out = out + colorize("   ", fg).matrix() + colorize(key, colour).matrix()
        out = out + colorize(" " + label, fg).matrix()
        used += entry
    return out


# -- ticks -------------------------------------------------------------------------------
def axis_ticks(axis: Axis, most: int, cells: int) -> tuple[list[float], list[str]]:
    """Tick positions and labels for ``axis``: at most ``most`` of them, readable in ``cells``."""
    lo, hi = float(axis.lo), float(axis.hi)
    most = max(2, most)
    if axis.ticks is not None:
        given = [t for t in axis.ticks if math.isfinite(t) and lo <= t <= hi]
        labels = [fmt_number(10**t if axis.log else t, integer=axis.integer) for t in given]
        needed = sum(len(label) + 1 for label in labels)
        if 0 < len(given) <= most and needed <= cells:
            return given, labels
    if axis.log:
        return log_ticks(lo, hi, most)
    positions = nice_ticks(lo, hi, most, integer=axis.integer)
    step = positions[1] - positions[0] if len(positions) > 1 else 1.0
    return positions, [fmt_number(p, step=step, integer=axis.integer) for p in positions]


def nice_ticks(lo: float, hi: float, most: int, integer: bool = False) -> list[float]:
    """Round positions (1, 2 or 5 × 10^k apart) inside [lo, hi], at most ``most`` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, most - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    positions = [k * step for k in range(first, last + 1)]
    return positions[:most] if positions else [lo, hi]


def log_ticks(lo: float, hi: float, most: int) -> tuple[list[float], list[str]]:
    """Ticks for a log10 axis [lo, hi]: decades when there are two or more, else 1-2-5 steps."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [], []
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        step = math.ceil(len(decades) / most)
        picked = [d for d in decades if d % step == 0] or decades[:1]
        return [float(d) for d in picked], [fmt_number(10.0**d) for d in picked]
    values = [m * 10.0**k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
    picked = [v for v in values if lo - 1e-9 <= math.log10(v) <= hi + 1e-9]
    if not 2 <= len(picked) <= most:  # a narrow range: round values, evenly spaced
        linear = [v for v in nice_ticks(10**lo, 10**hi, most) if v > 0]
        step = linear[1] - linear[0] if len(linear) > 1 else None
        return [math.log10(v) for v in linear], [fmt_number(v, step=step) for v in linear]
    return [math.log10(v) for v in picked], [fmt_number(v) for v in picked]


def fmt_number(value: float, step: float | None = None, integer: bool = False) -> str:
    """A short tick label: 0.02, 1.5, 250, 25k, 1.5M, 3e-05 → "3e-5"."""
    if not math.isfinite(value):
        return str(value)
    if step:
        value = round(value / step) * step  # hide float noise like 0.30000000000000004
    if value == 0:
        return "0"
    size = abs(value)
    if (integer or (size >= 1 and float(value).is_integer())) and size < 1e9:
        if size < 10_000:
            return str(int(round(value)))
        unit, scale = ("M", 1e6) if size >= 1e6 else ("k", 1e3)
        return _trim(f"{value / scale:.2f}") + unit
    if 1e-3 <= size < 1e5:
        decimals = 3 - math.floor(math.log10(size)) - 1  # three significant digits
        if step:
            decimals = max(0, -math.floor(math.log10(step) + 1e-9) + (1 if _mantissa(step) == 2.5 else 0))
        return _trim(f"{value:.{max(0, decimals)}f}")
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{_trim(mantissa)}e{int(exponent)}"


def _mantissa(step: float) -> float:
    return round(step / 10 ** math.floor(math.log10(step)), 6)


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


# -- text --------------------------------------------------------------------------------
def clean(text: object) -> str:
    """One printable line: control characters and escapes become spaces."""
    return "".join(c if c.isprintable() else " " for c in _ESCAPE.sub("", str(text)))


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (wide CJK = 2, combining marks = 0)."""
    rest = _NARROW.sub("", text)  # chart glyphs are all one cell: only look at the others
    return len(text) - len(rest) + sum(_char_width(c) for c in rest)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, with an ellipsis when cut."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for c in text:
        w = _char_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def visible(text: str) -> str:
    """``text`` without its escape codes."""
    return _ESCAPE.sub("", text)


def fit_block(text: str, width: int, height: int) -> str:
    """Pad or cut rendered lines to exactly ``height`` lines of ``width`` cells, escapes kept."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and len(lines) > height:
        lines.pop()
    lines = lines[:height] + [""] * (height - len(lines))
    return "\n".join(_fit_line(line, width) for line in lines)


def _fit_line(line: str, width: int) -> str:
    size = cell_width(visible(line))
    if size == width:
        return line
    if size < width:
        return line + " " * (width - size)
    out, used, pos = [], 0, 0
    for match in _ESCAPE.finditer(line):
        used = _take(line[pos : match.start()], width, used, out)
        out.append(match.group())
        pos = match.end()
    used = _take(line[pos:], width, used, out)
    return "".join(out) + " " * (width - used)


def _take(chunk: str, width: int, used: int, out: list[str]) -> int:
    for c in chunk:
        w = _char_width(c)
        if used + w > width:
            break
        out.append(c)
        used += w
    return used


def _char_width(c: str) -> int:
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
