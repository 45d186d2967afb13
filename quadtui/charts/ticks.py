"""Axis ticks: round positions and short labels (0.02, 1.5, 25k, 1.5M, 3e-5)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Axis:
    """A numeric range; ``log`` means values (and limits) are already log10."""

    lo: float = 0.0
    hi: float = 1.0
    log: bool = False
    integer: bool = False  # counts (epochs): whole-number ticks, 25k / 1.5M labels
    ticks: tuple[float, ...] | None = None  # preferred positions (used when they fit)


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


