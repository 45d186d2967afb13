"""The loss curve: train loss (min/max envelope per column), eval loss, earlier runs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from quadtui.charts.canvas import ChartSpec, LegendEntry, Trace, legend_entries, never_raises, render
from quadtui.charts.theme import ChartTheme
from quadtui.charts.ticks import Axis, fmt_number
from quadtui.charts.titles import loss_title
from quadtui.core.history import LossHistory, bin_edges

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

BINS_PER_COLUMN = 1  # each bin is drawn low→high: two points a column, hd's resolution
MAX_OVERLAYS = 8
MAX_BINS = 4096  # an earlier run cut to the run on screen is binned in at most twice this many bins


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
    log_x: bool = False,
    header: bool = True,
    mark: int | None = None,
    all_runs: bool = False,
) -> str:
    """Loss per epoch on a log scale, titled as :func:`loss_title` says (without ``header``, untitled:
    the caller shows :func:`loss_title` and :func:`loss_legend` itself); ``mark``: an epoch to
    mark with a vertical line (the timeline's cursor).

    The x axis follows the run on screen: earlier runs (``overlays``) are drawn up to its epoch,
    so a new run is never squashed into the first columns by a longer one; with ``all_runs`` (or
    before the run's first epoch) the axis spans the longest of them instead.

    The train curve comes from ``snap.history.decimate`` (a bin per column, drawn from
    its lowest to its highest loss: two points a column, so a one-epoch spike stays visible);
    the cost depends on ``width`` only, never on the number of epochs.  With ``log_x`` the
    epochs are on a log scale too, binned evenly in log(epoch), so the first epochs, where the
    loss falls fastest, get most of the width.  Losses <= 0 sit on the bottom edge; NaN/inf are
    skipped.  ``hint`` is shown when ``snap`` is None.
    """
    if snap is None:
        return render(ChartSpec("loss", note=hint), width, height, theme, header)
    upto = None if all_runs or not snap.epoch else _run_end(snap)
    traces = _traces(snap, theme, overlays, max(8, BINS_PER_COLUMN * int(width)), log_x, upto)
    lo, hi = _log_limits([trace.y for trace in traces])
    if mark is not None:
        at = float(max(1, mark))  # epoch 0 (before any update) sits on the axis' first epoch
        traces.insert(
            0,
            Trace(
                np.array([at, at]),
                np.array([10.0**lo, 10.0**hi]),
                "braille",
                theme.series(2),
                label=f"epoch {mark:,}",
                rank=3,
            ),
        )
    last = max([float(snap.epoch), 2.0] + [float(trace.x[-1]) for trace in traces if trace.x.size])
    last = last if upto is None else upto
    x_axis = Axis(0.0, math.log10(last), log=True, integer=True) if log_x else Axis(1.0, last, integer=True)
    traces = [_on_log_axis(trace, lo, log_x) for trace in traces]
    note = None if len(snap.history) or overlays else "no epochs yet"
    title = loss_title(snap) + (" · log x" if log_x else "")
    chart = ChartSpec(title, traces, x_axis, Axis(lo, hi, log=True), note, short_title=f"loss · {snap.epoch:,}")
    return render(chart, width, height, theme, header)


def loss_legend(snap: Snapshot | None, theme: ChartTheme, overlays: Sequence[LossOverlay] = ()) -> list[LegendEntry]:
    """The loss chart's legend: train, eval (with its latest value), earlier runs."""
    if snap is None:
        return []
    return legend_entries(_traces(snap, theme, overlays, 8, False, legend_only=True))


def _run_end(snap: Snapshot) -> float:
    """Where the run on screen's curves end: the last epoch of the x axis that follows it."""
    return max(2.0, float(snap.epoch) + 0.5)  # a bin's point sits half an epoch past its start


def _traces(
    snap: Snapshot,
    theme: ChartTheme,
    overlays: Sequence[LossOverlay],
    bins: int,
    log_x: bool,
    upto: float | None = None,
    legend_only: bool = False,
) -> list[Trace]:
    """Earlier runs (faint, dashed; up to epoch ``upto`` when given), eval, then train on top:
    what the optimiser sees.  ``legend_only``: the same traces without their points (what a
    legend reads: labels, keys, colours), for the cost of none of the binning."""
    none = (np.empty(0), np.empty(0))
    traces: list[Trace] = []
    for i, overlay in enumerate(list(overlays)[:MAX_OVERLAYS]):
        # faint and dashed: half the detail
        x, y = none if legend_only else _envelope(overlay.history, max(4, bins // 2), log_x, upto)
        traces.append(Trace(x, y, "hd", theme.faint(theme.series(2 + i)), dashed=True, label=overlay.label, rank=1))
    if np.size(snap.eval_epochs):
        x, y = none if legend_only else _binned(snap.eval_epochs, snap.eval_loss, max(4, bins // 2), log_x)  # smooth
        traces.append(Trace(x, y, "braille", theme.series(1), label=_labelled("eval", snap.eval_now), short="eval"))
    x, y = none if legend_only else _envelope(snap.history, bins, log_x)
    traces.append(Trace(x, y, "hd", theme.series(0), label="train"))
    return traces


def _labelled(name: str, value: float | None) -> str:
    """The legend entry with the curve's latest value, e.g. "train 0.0123"."""
    return f"{name} {fmt_number(value)}" if value is not None and math.isfinite(value) else name


def _envelope(
    history: LossHistory, bins: int, log_x: bool = False, upto: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points that zig-zag from each bin's low to its high: spikes survive decimation.

    With ``upto``, only the epochs up to it (and the next point, so the line reaches the edge),
    in about ``bins`` bins across them: a longer run cut to the run on screen keeps its detail.
    """
    if history is None or len(history) == 0:
        return np.empty(0), np.empty(0)
    n = len(history)
    if upto is not None and upto < n:
        share = math.log(n + 1) / math.log(upto + 1) if log_x else n / upto
        bins = int(min(bins * share + 1, 2 * MAX_BINS))
    series = history.decimate_log(bins) if log_x else history.decimate(bins)
    if upto is not None and upto < n:
        inside = int(np.searchsorted(np.asarray(series.x), upto, side="right")) + 1
        series = type(series)(series.x[:inside], series.lo[:inside], series.hi[:inside])
    y = np.empty((np.size(series.lo), 2))  # each bin's low, then its high
    y[:, 0], y[:, 1] = series.lo, series.hi
    x = np.asarray(series.x, dtype=np.float64).repeat(2)
    keep = np.ones(y.shape, dtype=bool)
    np.not_equal(y[:, 1], y[:, 0], out=keep[:, 1])  # a bin of one value needs one point
    return x[keep.ravel()], y.ravel()[keep.ravel()]


def _binned(epochs: np.ndarray, losses: np.ndarray, bins: int, log_x: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Eval points as they are, or as a low/high zig-zag when there are more than ``bins``
    (bins even in epoch, or in log(epoch) with ``log_x``)."""
    n = min(np.size(epochs), np.size(losses))
    x = np.asarray(epochs, dtype=np.float64).ravel()[:n]
    y = np.asarray(losses, dtype=np.float64).ravel()[:n]
    if n <= bins:
        return x, y
    if log_x:
        where = np.log(np.maximum(x, 1.0))
        key = np.floor((where - where[0]) / ((where[-1] - where[0]) or 1.0) * bins * (1 - 1e-9))
        edges = np.flatnonzero(np.diff(key, prepend=-1.0))
        widths = np.diff(np.append(edges, n))
    else:
        bounds = bin_edges(n, bins)
        edges, widths = bounds[:-1], bounds[1:] - bounds[:-1]
    finite = np.where(np.isfinite(y), y, np.nan)
    zigzag = np.empty((edges.size, 2))  # each bin's low, then its high
    with np.errstate(invalid="ignore"):
        np.fmin.reduceat(finite, edges, out=zigzag[:, 0])
        np.fmax.reduceat(finite, edges, out=zigzag[:, 1])
    centre = np.add.reduceat(x, edges) / widths
    return centre.repeat(2), zigzag.ravel()


def _log_limits(curves: Sequence[np.ndarray]) -> tuple[float, float]:
    """log10 limits from every finite positive loss, a little padded."""
    y = np.concatenate([np.asarray(c, dtype=np.float64).ravel() for c in curves]) if curves else np.empty(0)
    good = y[np.isfinite(y) & (y > 0)]
    if not good.size:
        return -1.0, 1.0
    lo, hi = math.log10(float(good.min())), math.log10(float(good.max()))
    if hi - lo < 0.2:  # a flat curve: show a small band around it
        mid = (hi + lo) / 2
        return mid - 0.1, mid + 0.1
    pad = (hi - lo) * 0.04
    return lo - pad, hi + pad


def _on_log_axis(trace: Trace, floor: float, log_x: bool = False) -> Trace:
    """The trace with y (and with ``log_x`` x) in log10; losses <= 0 are drawn on the bottom edge."""
    y = np.asarray(trace.y, dtype=np.float64)
    logged = np.where(np.isfinite(y), floor, np.nan)  # NaN and inf: a gap (+inf is taken below)
    np.log10(y, out=logged, where=y > 0)
    x = np.log10(np.maximum(np.asarray(trace.x, dtype=np.float64), 1.0)) if log_x else trace.x
    return replace(trace, x=x, y=logged)
