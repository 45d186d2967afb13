"""Axis ticks: round positions and short labels (0.02, 1.5, 25k, 1.5M, 3e-5)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
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
    """Tick positions and labels for ``axis`` over ``cells`` (see :func:`_axis_ticks`); a chart redrawn
    for a new epoch mostly asks again for the axes it had (a loss axis moves with new lows only)."""
    positions, labels = _axis_ticks(axis, cells, label_cells)
    return list(positions), list(labels)


@functools.lru_cache(maxsize=256)
def _axis_ticks(axis: Axis, cells: int, label_cells: float | None) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Tick positions and labels for ``axis`` drawn over ``cells`` rows or columns.

    ``label_cells`` None means a vertical axis (a label takes one row); else a horizontal
    one, where a label takes its width and may reach ``label_cells`` left of the first cell.
    At least four labelled ticks whenever they fit without crowding; more when there is
    room (about one every ``ROWS_PER_TICK`` rows or ``COLS_PER_TICK`` columns); always
    round values (1, 2, 2.5 or 5 × 10^k apart; decades, 1-3 or 1-2-5 steps on a log axis).
    """
    lo, hi = float(axis.lo), float(axis.hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or cells < 2:
        return (), ()
    horizontal = label_cells is not None
    target = max(MIN_TICKS, cells // (COLS_PER_TICK if horizontal else ROWS_PER_TICK) + (0 if horizontal else 1))

    def inside(ticks: _Ticks) -> _Ticks:
        """Without the end labels that would stick out past the plot (or the y labels on the left)."""
        if label_cells is None:  # not horizontal
            return ticks
        first, last = 0, len(ticks.positions)
        while last > first and _place(ticks.positions[last - 1], lo, hi, cells) + ticks.width(last - 1) / 2 > cells:
            last -= 1
        while first < last and _place(ticks.positions[first], lo, hi, cells) - ticks.width(first) / 2 < -label_cells:
            first += 1
        return ticks.part(first, last)

    def fits(ticks: _Ticks, gap: float) -> bool:
        places = [_place(p, lo, hi, cells) for p in ticks.positions]
        if not horizontal:
            return all(b - a >= gap for a, b in zip(places, places[1:]))
        sizes = [cell_width(label) for label in ticks.labels()]
        return all(b - a >= (wa + wb) / 2 + gap for a, b, wa, wb in zip(places, places[1:], sizes, sizes[1:]))

    if axis.ticks is not None:  # preferred positions, when they fit
        given = [float(t) for t in axis.ticks if math.isfinite(t) and lo <= t <= hi]
        preferred = inside(_Ticks(given, lambda t: fmt_number(10**t if axis.log else t, integer=axis.integer)))
        if preferred.positions and len(preferred.positions) <= target and fits(preferred, 1.0):
            return tuple(preferred.positions), tuple(preferred.labels())
    candidates = _log_candidates(lo, hi, axis.integer) if axis.log else _linear_candidates(lo, hi, axis.integer)
    ordered = _preferred([inside(c) for c in candidates], target)
    chosen = None
    for gap in (2.0, 1.0):  # roomy first; crowded only to reach MIN_TICKS
        chosen = next((c for c in ordered if fits(c, gap)), chosen)
        if chosen is not None and len(chosen.positions) >= MIN_TICKS:
            break
    return (tuple(chosen.positions), tuple(chosen.labels())) if chosen is not None else ((), ())


class _Ticks:
    """Candidate tick positions; labels are made only for the candidates looked at (formatting is most
    of the cost of choosing)."""

    __slots__ = ("positions", "_label", "_labels")

    def __init__(self, positions: list[float], label: Callable[[float], str]) -> None:
        self.positions, self._label = positions, label
        self._labels: list[str] | None = None

    def labels(self) -> list[str]:
        if self._labels is None:
            self._labels = [self._label(p) for p in self.positions]
        return self._labels

    def width(self, i: int) -> int:
        return cell_width(self._label(self.positions[i]))

    def part(self, first: int, last: int) -> _Ticks:
        return self if (first, last) == (0, len(self.positions)) else _Ticks(self.positions[first:last], self._label)


def _place(position: float, lo: float, hi: float, cells: int) -> float:
    return (position - lo) / (hi - lo) * (cells - 1)


def _preferred(candidates: list[_Ticks], target: int) -> list[_Ticks]:
    """Best first: the most ticks up to ``target`` (from MIN_TICKS up), then the fewest above ``target``,
    then the most below MIN_TICKS; of equal counts the widest step (listed first)."""

    def rank(c: _Ticks) -> tuple[int, int]:
        n = len(c.positions)
        return (0, -n) if MIN_TICKS <= n <= target else (1, n) if n > target else (2, -n)

    return sorted((c for c in candidates if c.positions), key=rank)  # stable


def _linear_candidates(lo: float, hi: float, integer: bool) -> list[_Ticks]:
    """Every round spacing of [lo, hi] with 1 to MAX_CANDIDATE ticks, the widest step first."""
    top = math.floor(math.log10(hi - lo))
    out = []
    for k in range(top + 1, top - 4, -1):
        for m in (5, 2.5, 2, 1):
            step = m * 10.0**k
            if integer and (step < 1 or not float(step).is_integer()):
                continue
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            if 1 <= last - first + 1 <= MAX_CANDIDATE:
                out.append(
                    _Ticks(
                        [i * step for i in range(first, last + 1)],
                        functools.partial(fmt_number, step=step, integer=integer),
                    )
                )
    return out


def _log_candidates(lo: float, hi: float, integer: bool) -> list[_Ticks]:
    """Round values on a log10 axis [lo, hi]: every n-th decade, then 1-3 and 1-2-5 steps,
    then (for a range under two decades) evenly spaced round values."""
    out: list[Sequence[float]] = []
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    for every in (50, 20, 10, 5, 4, 3, 2, 1):
        picked = [d for d in decades if d % every == 0]
        if picked and (every == 1 or len(picked) >= 2):
            out.append(picked)
    for mantissas in ((1, 3), (1, 2, 5)):
        values = [m * 10.0**k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in mantissas]
        out.append([math.log10(v) for v in values if lo - 1e-9 <= math.log10(v) <= hi + 1e-9])
    found = [_Ticks([float(p) for p in c], _log_label(integer)) for c in out if c]
    if hi - lo < 2:
        for linear in _linear_candidates(10**lo, 10**hi, integer):
            positions = linear.positions
            if len(positions) > 1 and positions[0] > 0:
                step = positions[1] - positions[0]
                found.append(_Ticks([math.log10(v) for v in positions], _log_label(integer, step)))
    return [c for c in found if len(c.positions) <= MAX_CANDIDATE]


def _log_label(integer: bool, step: float | None = None) -> Callable[[float], str]:
    """The label of a position on a log10 axis: the number it stands for."""
    return lambda p: fmt_number(10.0**p, step=step, integer=integer)


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
    inside = [v for v in values if lo - 1e-9 <= math.log10(v) <= hi + 1e-9]
    if not 2 <= len(inside) <= most:  # a narrow range: round values, evenly spaced
        linear = [v for v in nice_ticks(10**lo, 10**hi, most) if v > 0]
        spacing = linear[1] - linear[0] if len(linear) > 1 else None
        return [math.log10(v) for v in linear], [fmt_number(v, step=spacing) for v in linear]
    return [math.log10(v) for v in inside], [fmt_number(v) for v in inside]


@functools.lru_cache(maxsize=4096)  # a chart's labels are the same few numbers frame after frame
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
    decade: float = 10 ** math.floor(math.log10(step))
    return round(step / decade, 6)


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number
