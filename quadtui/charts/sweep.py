"""A sweep: the final loss of one run per value of a hyperparameter."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from quadtui.charts.canvas import ChartSpec, LegendEntry, Trace, legend_entries, never_raises, render
from quadtui.charts.theme import ChartTheme
from quadtui.charts.ticks import Axis, fmt_number

MISSING_MARK = "x"


@never_raises("sweep")
def sweep_chart(
    param: str,
    values: Sequence[float],
    final_losses: Sequence[float | None],
    width: int,
    height: int,
    theme: ChartTheme,
    log_x: bool = False,
    header: bool = True,
) -> str:
    """Final loss (log scale) against the swept value, a dot per run; the legend names the best.

    Runs without a usable loss (None, NaN, inf: not finished or diverged) are marked
    with an ``x`` on the top edge ("no loss"), so a sweep's failures stay in sight.  With ``log_x``,
    values <= 0 cannot be placed and are left out.  Without ``header`` the chart is untitled
    (the caller shows :func:`sweep_title` and :func:`sweep_legend`).
    """
    spec = _spec(param, values, final_losses, theme, log_x)
    return render(spec, width, height, theme, header)


def sweep_title(param: str, values: Sequence[float], final_losses: Sequence[float | None], log_x: bool = False) -> str:
    """``final loss by lr · 4/5 runs``: how many runs have a usable loss so far."""
    return _spec(param, values, final_losses, ChartTheme(color=False), log_x).title


def sweep_legend(
    param: str, values: Sequence[float], final_losses: Sequence[float | None], theme: ChartTheme, log_x: bool = False
) -> list[LegendEntry]:
    """The sweep chart's legend: the best run, and the runs without a loss."""
    return legend_entries(_spec(param, values, final_losses, theme, log_x).traces)


def _spec(
    param: str, values: Sequence[float], final_losses: Sequence[float | None], theme: ChartTheme, log_x: bool
) -> ChartSpec:
    name = str(param) or "value"
    numbers = [(_number(v), _number(loss)) for v, loss in zip(values, final_losses)]
    pairs = [(v, loss) for v, loss in numbers if v is not None and math.isfinite(v) and (v > 0 or not log_x)]
    if not pairs:
        return ChartSpec(f"final loss by {name}", note="no results yet")
    pairs.sort(key=lambda p: p[0])
    x = np.array([math.log10(v) if log_x else v for v, _ in pairs])
    loss = np.array([np.nan if lv is None else lv for _, lv in pairs], dtype=np.float64)
    ok = np.isfinite(loss) & (loss > 0)

    y_lo, y_hi = _log_limits(loss[ok])
    y = np.full(x.size, np.nan)
    y[ok] = np.log10(loss[ok])
    x_lo, x_hi = float(x.min()), float(x.max())
    if x_hi - x_lo < 1e-12:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    else:
        pad = (x_hi - x_lo) * 0.04  # keep the end dots off the frame
        x_lo, x_hi = x_lo - pad, x_hi + pad

    traces = [Trace(x[ok], y[ok], "hd", theme.faint(theme.series(0), 0.4))]
    if not ok.all():
        top = np.full(int((~ok).sum()), y_hi)
        traces.append(Trace(x[~ok], top, MISSING_MARK, theme.series(3), lines=False, label="no loss"))
    traces.append(Trace(x[ok], y[ok], "•", theme.series(0), lines=False, label=_best(name, pairs)))
    title = f"final loss by {name} · {int(ok.sum())}/{len(pairs)} runs"
    axis_x = Axis(x_lo, x_hi, log=log_x, ticks=tuple(float(v) for v in x))
    return ChartSpec(title, traces, axis_x, Axis(y_lo, y_hi, log=True))


def _best(name: str, pairs: list[tuple[float, float | None]]) -> str:
    usable = [(loss, v) for v, loss in pairs if loss is not None and math.isfinite(loss) and loss > 0]
    if not usable:
        return "runs"
    loss, value = min(usable)
    return f"best {fmt_number(value)} → {fmt_number(loss)}"


def _number(value: object) -> float | None:
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _log_limits(losses: np.ndarray) -> tuple[float, float]:
    if not losses.size:
        return -1.0, 1.0
    lo, hi = math.log10(float(losses.min())), math.log10(float(losses.max()))
    if hi - lo < 0.2:
        mid = (lo + hi) / 2
        return mid - 0.15, mid + 0.15
    pad = (hi - lo) * 0.08
    return lo - pad, hi + pad
