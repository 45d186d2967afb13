"""The loss curve: train loss (min/max envelope per column), eval loss, earlier runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from quadtui.charts.canvas import Chart, Trace, never_raises, render
from quadtui.charts.theme import ChartTheme
from quadtui.charts.ticks import Axis, fmt_number
from quadtui.core.history import LossHistory

if TYPE_CHECKING:  # the engine imports torch; charts only read snapshot fields
    from quadtui.core.engine import Snapshot

BINS_PER_COLUMN = 1  # each bin is drawn low→high: two points a column, hd's resolution
MAX_OVERLAYS = 8


@dataclass(frozen=True)
class LossOverlay:
    """An earlier run's train loss, drawn faint and dashed under the current one."""

    label: str
    history: LossHistory


@never_raises("loss")
def loss_chart(
    snap: Snapshot | None,
    width: int,
    height: int,
    theme: ChartTheme,
    overlays: Sequence[LossOverlay] = (),
    hint: str = "no run yet",
    mark: int | None = None,
) -> str:
    """Loss per epoch on a log scale, titled "loss · epoch 1234/5000"; ``mark``: an epoch to
    mark with a vertical line (the timeline's cursor).

    The train curve comes from ``snap.history.decimate`` (a bin per column, drawn from
    its lowest to its highest loss: two points a column, so a one-epoch spike stays visible);
    the cost depends on ``width`` only, never on the number of epochs.  Losses <= 0 sit
    on the bottom edge; NaN/inf are skipped.  ``hint`` is shown when ``snap`` is None.
    """
    if snap is None:
        return render(Chart("loss", note=hint), width, height, theme)
    bins = max(8, BINS_PER_COLUMN * int(width))
    traces: list[Trace] = []
    for i, overlay in enumerate(list(overlays)[:MAX_OVERLAYS]):
        x, y = _envelope(overlay.history, max(4, bins // 2))  # faint and dashed: half the detail
        traces.append(Trace(x, y, "hd", theme.faint(theme.series(2 + i)), dashed=True, label=overlay.label,
                            rank=1))
    x, y = _binned(snap.eval_epochs, snap.eval_loss, max(4, bins // 2))  # eval is smooth
    if x.size:  # under the train curve: train is what the optimiser sees
        traces.append(Trace(x, y, "braille", theme.series(1), label=_labelled("eval", snap.eval_now),
                            short="eval"))
    x, y = _envelope(snap.history, bins)
    traces.append(Trace(x, y, "hd", theme.series(0), label=_labelled("train", snap.train_now), short="train"))

    lo, hi = _log_limits([trace.y for trace in traces])
    if mark is not None:
        at = float(max(1, mark))  # epoch 0 (before any update) sits on the axis' first epoch
        traces.insert(0, Trace(np.array([at, at]), np.array([10.0**lo, 10.0**hi]), "braille", theme.series(2),
                               label=f"epoch {mark:,}", rank=3))
    last = max([float(snap.epoch), 2.0] + [float(trace.x[-1]) for trace in traces if trace.x.size])
    note = None if len(snap.history) or overlays else "no epochs yet"
    chart = Chart(_title(snap), [_on_log_axis(trace, lo) for trace in traces],
                  Axis(1, last, integer=True), Axis(lo, hi, log=True), note, short_title=f"loss · {snap.epoch:,}")
    return render(chart, width, height, theme)


def _title(snap: Snapshot) -> str:
    title = f"loss · epoch {snap.epoch:,}/{snap.config.epochs:,}"
    status = getattr(snap.status, "value", str(snap.status))
    if snap.diverged_at is not None:
        return f"{title} · diverged at {snap.diverged_at:,}"
    if status in ("stopped", "error", "paused"):
        return f"{title} · {status}"
    return title


def _labelled(name: str, value: float | None) -> str:
    """The legend entry with the curve's latest value, e.g. "train 0.0123"."""
    return f"{name} {fmt_number(value)}" if value is not None and math.isfinite(value) else name


def _envelope(history: LossHistory, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Points that zig-zag from each bin's low to its high: spikes survive decimation."""
    if history is None or len(history) == 0:
        return np.empty(0), np.empty(0)
    series = history.decimate(bins)
    lo = np.asarray(series.lo, dtype=np.float64)
    hi = np.asarray(series.hi, dtype=np.float64)
    x = np.repeat(np.asarray(series.x, dtype=np.float64), 2)
    y = np.column_stack((lo, hi)).ravel()
    keep = np.ones(y.size, dtype=bool)
    keep[1::2] = hi != lo  # a bin of one value needs one point
    return x[keep], y[keep]


def _binned(epochs: np.ndarray, losses: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Eval points as they are, or as a low/high zig-zag when there are more than ``bins``."""
    n = min(np.size(epochs), np.size(losses))
    x = np.asarray(epochs, dtype=np.float64).ravel()[:n]
    y = np.asarray(losses, dtype=np.float64).ravel()[:n]
    if n <= bins:
        return x, y
    edges = np.unique(np.linspace(0, n, bins + 1).astype(np.int64))[:-1]
    finite = np.where(np.isfinite(y), y, np.nan)
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduceat(finite, edges)
        hi = np.fmax.reduceat(finite, edges)
    centre = np.add.reduceat(x, edges) / np.diff(np.append(edges, n))
    return np.repeat(centre, 2), np.column_stack((lo, hi)).ravel()


def _log_limits(curves: Sequence[np.ndarray]) -> tuple[float, float]:
    """log10 limits from every finite positive loss, a little padded."""
    lows, highs = [], []
    for y in curves:
        good = y[np.isfinite(y) & (y > 0)]
        if good.size:
            lows.append(float(good.min()))
            highs.append(float(good.max()))
    if not lows:
        return -1.0, 1.0
    lo, hi = math.log10(min(lows)), math.log10(max(highs))
    if hi - lo < 0.2:  # a flat curve: show a small band around it
        mid = (hi + lo) / 2
        return mid - 0.1, mid + 0.1
    pad = (hi - lo) * 0.04
    return lo - pad, hi + pad


def _on_log_axis(trace: Trace, floor: float) -> Trace:
    """The trace with y in log10; losses <= 0 are drawn on the bottom edge."""
    y = np.asarray(trace.y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.where(np.isfinite(y), floor, np.nan))
    return replace(trace, y=logged)
