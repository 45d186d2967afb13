"""Axis ticks: round positions and short labels (0.02, 1.5, 25k, 1.5M, 3e-5)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from quadtui.charts.text import cell_width

MIN_TICKS = 4  # labelled ticks an axis gets whenever they fit
ROWS_PER_TICK = 3  # with room to spare: about one label this many rows apart
COLS_PER_TICK = 10  # and this many columns apart
MAX_CANDIDATE = 60


@dataclass(frozen=True)
class Axis:
    """A numeric range; ``log`` means values (and limits) are already log10."""

    lo: float = 0.0
    hi: float = 1.0
    log: bool = False
    integer: bool = False  # counts (epochs): whole-number ticks, 25k / 1.5M labels
    ticks: tuple[float, ...] | None = None  # preferred positions (used when they fit)


def axis_ticks(axis: Axis, cells: int, label_cells: float | None = None) -> tuple[list[float], list[str]]:
    """Tick positions and labels for ``axis`` drawn over ``cells`` rows or columns.

    ``label_cells`` None means a vertical axis (a label takes one row); else a horizontal
    one, where a label takes its width and may reach ``label_cells`` left of the first cell.
    At least four labelled ticks whenever they fit without crowding; more when there is
    room (about one every ``ROWS_PER_TICK`` rows or ``COLS_PER_TICK`` columns); always
    round values (1, 2, 2.5 or 5 × 10^k apart; decades, 1-3 or 1-2-5 steps on a log axis).
    """
    lo, hi = float(axis.lo), float(axis.hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or cells < 2:
        return [], []
    horizontal = label_cells is not None
    target = max(MIN_TICKS, cells // (COLS_PER_TICK if horizontal else ROWS_PER_TICK) + (0 if horizontal else 1))

    def inside(ticks: tuple[list[float], list[str]]) -> tuple[list[float], list[str]]:
        """Without the end labels that would stick out past the plot (or the y labels on the left)."""
        positions, labels = list(ticks[0]), list(ticks[1])
        if horizontal:
            while positions and _place(positions[-1], lo, hi, cells) + cell_width(labels[-1]) / 2 > cells:
                positions.pop(), labels.pop()
            while positions and _place(positions[0], lo, hi, cells) - cell_width(labels[0]) / 2 < -label_cells:
                positions.pop(0), labels.pop(0)
        return positions, labels

    def fits(ticks: tuple[list[float], list[str]], gap: float) -> bool:
        places = [_place(p, lo, hi, cells) for p in ticks[0]]
        if not horizontal:
            return all(b - a >= gap for a, b in zip(places, places[1:]))
        sizes = [cell_width(label) for label in ticks[1]]
        return all(b - a >= (wa + wb) / 2 + gap for a, b, wa, wb in zip(places, places[1:], sizes, sizes[1:]))

    if axis.ticks is not None:  # preferred positions, when they fit
        given = [t for t in axis.ticks if math.isfinite(t) and lo <= t <= hi]
        preferred = inside((given, [fmt_number(10**t if axis.log else t, integer=axis.integer) for t in given]))
        if preferred[0] and len(preferred[0]) <= target and fits(preferred, 1.0):
            return preferred
    candidates = _log_candidates(lo, hi, axis.integer) if axis.log else _linear_candidates(lo, hi, axis.integer)
    candidates = [inside(c) for c in candidates]
    chosen: tuple[list[float], list[str]] = ([], [])
    for gap in (2.0, 1.0):  # roomy first; crowded only to reach MIN_TICKS
        usable = sorted((c for c in candidates if c[0] and fits(c, gap)), key=lambda c: len(c[0]))
        if usable:  # sorted is stable: of equal counts the widest step (listed first) wins
            chosen = _choose(usable, target)
        if len(chosen[0]) >= MIN_TICKS:
            break
    return chosen


def _place(position: float, lo: float, hi: float, cells: int) -> float:
    return (position - lo) / (hi - lo) * (cells - 1)


def _choose(usable: list[tuple[list[float], list[str]]], target: int) -> tuple[list[float], list[str]]:
    """The most ticks up to ``target``; if that is under MIN_TICKS, the fewest from MIN_TICKS up."""
    under = [c for c in usable if len(c[0]) <= target]
    if under and len(under[-1][0]) >= MIN_TICKS:
        return _best_of(under, len(under[-1][0]))
    enough = [c for c in usable if len(c[0]) >= MIN_TICKS]
    if enough:
        return _best_of(enough, len(enough[0][0]))
    return _best_of(usable, len(usable[-1][0]))


def _best_of(candidates: list[tuple[list[float], list[str]]], count: int) -> tuple[list[float], list[str]]:
    return next(c for c in candidates if len(c[0]) == count)


def _linear_candidates(lo: float, hi: float, integer: bool) -> list[tuple[list[float], list[str]]]:
    """Every round spacing of [lo, hi] with 2 to MAX_CANDIDATE ticks, the widest step first."""
    top = math.floor(math.log10(hi - lo))
    out = []
    for k in range(top + 1, top - 4, -1):
        for m in (5, 2.5, 2, 1):
            step = m * 10.0**k
            if integer and (step < 1 or not float(step).is_integer()):
                continue
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            if not 1 <= last - first + 1 <= MAX_CANDIDATE:
                continue
            positions = [i * step for i in range(first, last + 1)]
            out.append((positions, [fmt_number(p, step=step, integer=integer) for p in positions]))
    return out


def _log_candidates(lo: float, hi: float, integer: bool) -> list[tuple[list[float], list[str]]]:
    """Round values on a log10 axis [lo, hi]: every n-th decade, then 1-3 and 1-2-5 steps,
    then (for a range under two decades) evenly spaced round values."""
    out = []
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    for every in (50, 20, 10, 5, 4, 3, 2, 1):
        picked = [d for d in decades if d % every == 0]
        if picked and (every == 1 or len(picked) >= 2):
            out.append(picked)
    for mantissas in ((1, 3), (1, 2, 5)):
        values = [m * 10.0**k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in mantissas]
        out.append([math.log10(v) for v in values if lo - 1e-9 <= math.log10(v) <= hi + 1e-9])
    found = [([float(p) for p in c], [fmt_number(10.0**p, integer=integer) for p in c]) for c in out if c]
    if hi - lo < 2:
        for positions, _ in _linear_candidates(10**lo, 10**hi, integer):
            if len(positions) > 1 and positions[0] > 0:
                step = positions[1] - positions[0]
                found.append(([math.log10(v) for v in positions],
                              [fmt_number(v, step=step, integer=integer) for v in positions]))
    return [c for c in found if len(c[0]) <= MAX_CANDIDATE]


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


