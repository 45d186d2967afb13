"""What the network computes: its fit against the data, and one hidden neuron."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from quadtui.charts.canvas import ChartSpec, LegendEntry, Trace, legend_entries, never_raises, render, signature
from quadtui.charts.theme import ChartTheme
from quadtui.charts.ticks import Axis, fmt_number
from quadtui.charts.titles import fit_title, neuron_title
from quadtui.charts.units import hidden_layers, knockout

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

MAX_SAMPLES = 300  # sample dots drawn at most (an even, deterministic subset)
MAX_OVERLAYS = 8
SAMPLE_MARK = "·"  # a small dot: the samples sit under the prediction, not over it
SAMPLE_FADE = 0.35  # how far the samples' colour is mixed towards the background
REACH = 0.5  # the y range grows by at most this share of the target's span a side to show the prediction


@dataclass(frozen=True)
class FitOverlay:
    """An earlier run's prediction on its own grid, drawn faint and dashed."""

    label: str
    grid: np.ndarray
    prediction: np.ndarray
    slot: int | None = None  # its colour among the earlier runs (as on the loss chart); None: its place here


@never_raises("fit")
def fit_chart(
    snap: Snapshot | None,
    width: int,
    height: int,
    theme: ChartTheme,
    overlays: Sequence[FitOverlay] = (),
    hint: str = "no run yet",
    header: bool = True,
) -> str:
    """The model's prediction (block line, on top of everything), the samples (dim dots under it),
    the true function (braille) and earlier runs' predictions (faint, dashed) over the view.

    The prediction is what the lesson is about, so it is drawn last: where it passes, its cells
    are its own; the samples show beside it.  The y range comes from the target and the samples,
    grown on a side by at most REACH of their span to take in the prediction, so a wild prediction
    (a diverged run's 1e13) runs off the edge instead of squashing everything else flat, and the
    chart says so on the canvas ("prediction off the chart: 1e13", see :func:`off_chart`).  More
    than MAX_SAMPLES samples are thinned to an evenly spaced, deterministic subset.  Without
    ``header`` the chart is untitled (the caller shows :func:`fit_title` and :func:`fit_legend`).
    """
    return render(_fit_spec(snap, width, theme, overlays, hint), width, height, theme, header)


def fit_signature(
    snap: Snapshot | None, width: int, height: int, theme: ChartTheme, overlays: Sequence[FitOverlay] = ()
) -> tuple[object, ...]:
    """What the fit chart (without header) is drawn from: equal signatures draw the same picture
    (see :func:`quadtui.charts.canvas.signature`)."""
    return signature(_fit_spec(snap, width, theme, overlays), width, height)


def _fit_spec(
    snap: Snapshot | None, width: int, theme: ChartTheme, overlays: Sequence[FitOverlay], hint: str = "no run yet"
) -> ChartSpec:
    if snap is None:
        return ChartSpec("fit", note=hint)
    grid = _floats(snap.grid)
    x_lo, x_hi = _range(grid, (-1.0, 1.0))
    traces = _fit_traces(snap, theme, overlays, int(width), x_lo, x_hi)
    sy, target, prediction = traces[-2].y, traces[0].y, traces[-1].y
    y_lo, y_hi = _range(np.concatenate((sy, target)), _range(prediction, (-1.0, 1.0)), pad=0.06)
    y_lo, y_hi = _take_in(prediction, y_lo, y_hi)
    return ChartSpec(
        fit_title(snap),
        traces,
        Axis(x_lo, x_hi),
        Axis(y_lo, y_hi),
        note=off_chart(prediction, y_lo, y_hi),
        short_title="fit",
    )


def _take_in(prediction: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """The y range grown on a side to show all of the prediction there, if that takes at most
    REACH of its span; a side the prediction leaves by more stays as the target set it."""
    good = prediction[np.isfinite(prediction)]
    if not good.size:
        return lo, hi
    reach, pad = REACH * (hi - lo), 0.03 * (hi - lo)
    low, high = float(good.min()) - pad, float(good.max()) + pad
    return (low if lo - reach <= low < lo else lo), (high if hi < high <= hi + reach else hi)


def off_chart(prediction: np.ndarray, lo: float, hi: float) -> str | None:
    """What the canvas says when the prediction leaves the y range: its value furthest out
    ("prediction off the chart: 1e13"), or that it is not a number at all; None when it shows."""
    values = _floats(prediction)
    if not values.size:
        return None
    good = values[np.isfinite(values)]
    if not good.size:
        return "prediction is not a number"
    low, high = float(good.min()), float(good.max())
    if low >= lo and high <= hi:
        return None
    furthest = high if high - hi >= lo - low else low
    return f"prediction off the chart: {fmt_number(furthest)}"


def fit_legend(snap: Snapshot | None, theme: ChartTheme, overlays: Sequence[FitOverlay] = ()) -> list[LegendEntry]:
    """The fit chart's legend: model, target, samples, earlier runs."""
    if snap is None:
        return []
    x_lo, x_hi = _range(_floats(snap.grid), (-1.0, 1.0))
    return legend_entries(_fit_traces(snap, theme, overlays, 8, x_lo, x_hi))


def _fit_traces(
    snap: Snapshot, theme: ChartTheme, overlays: Sequence[FitOverlay], width: int, x_lo: float, x_hi: float
) -> list[Trace]:
    """Bottom to top: target, earlier runs, samples, prediction."""
    grid = _floats(snap.grid)
    sx, sy = _samples(_floats(snap.x_samples), _floats(snap.y_samples), x_lo, x_hi)
    traces = [Trace(grid, _floats(snap.grid_target), "braille", theme.muted, label="target", rank=1)]
    for i, overlay in enumerate(list(overlays)[:MAX_OVERLAYS]):
        ox, oy = _thin(_floats(overlay.grid), _floats(overlay.prediction), 4 * width)
        slot = i if overlay.slot is None else overlay.slot
        traces.append(
            Trace(ox, oy, "hd", theme.faint(theme.series(2 + slot)), dashed=True, label=overlay.label, rank=3)
        )
    traces.append(
        Trace(sx, sy, SAMPLE_MARK, theme.faint(theme.series(1), SAMPLE_FADE), lines=False, label="samples", rank=2)
    )
    traces.append(Trace(grid, _floats(snap.prediction), "hd", theme.series(0), label="model"))
    return traces


@never_raises("neuron")
def neuron_chart(
    snap: Snapshot | None,
    neuron: int,
    contribution: bool,
    width: int,
    height: int,
    theme: ChartTheme,
    hint: str = "no run yet",
    header: bool = True,
    layer: int | None = None,
) -> str:
    """One unit of a hidden layer (``layer``, 1-based; None: the last) over the view grid.

    ``neuron`` is the 0-based column of the layer, shown as given: "neuron 3 of 8" means
    index 3 of the layer's 8 units (0 to 7); with more than one hidden layer the title (see
    :func:`neuron_title`) starts "layer 2 · ".  With ``contribution`` the chart shows what the
    unit adds to the output: for the last layer ``out_weights[neuron] * h(x)`` over the faint
    sum of all units (prediction minus output bias); for an earlier layer ŷ minus ŷ with the
    unit switched off.  Without ``header`` the chart is untitled.
    """
    spec = _neuron_spec(snap, neuron, contribution, theme, hint, layer)
    return render(spec, width, height, theme, header)


def neuron_signature(
    snap: Snapshot | None,
    neuron: int,
    contribution: bool,
    width: int,
    height: int,
    theme: ChartTheme,
    layer: int | None = None,
) -> tuple[object, ...]:
    """What the neuron chart (without header) is drawn from (see :func:`quadtui.charts.canvas.signature`)."""
    return signature(_neuron_spec(snap, neuron, contribution, theme, layer=layer), width, height)


def _neuron_spec(
    snap: Snapshot | None,
    neuron: int,
    contribution: bool,
    theme: ChartTheme,
    hint: str = "no run yet",
    layer: int | None = None,
) -> ChartSpec:
    if snap is None:
        return ChartSpec("neuron", note=hint)
    title = neuron_title(snap, neuron, contribution, layer)
    traces, units, index, count = _neuron_traces(snap, neuron, contribution, theme, layer)
    if not traces:
        if not 1 <= index <= count:
            note = f"no layer {index}: choose 1 to {count}"
        else:
            note = f"no neuron {neuron}: choose 0 to {units - 1}" if units else "no hidden units"
        return ChartSpec(title, note=note)
    values = np.concatenate([trace.y for trace in traces] + [[0.0]])  # 0 in view: a dead unit reads as such
    x_lo, x_hi = _range(_floats(snap.grid), (-1.0, 1.0))
    y_lo, y_hi = _range(values, (-1.0, 1.0), pad=0.06)
    return ChartSpec(title, traces, Axis(x_lo, x_hi), Axis(y_lo, y_hi))


def neuron_legend(
    snap: Snapshot | None, neuron: int, contribution: bool, theme: ChartTheme, layer: int | None = None
) -> list[LegendEntry]:
    """The neuron chart's legend: the activation, or what the unit adds to the output."""
    if snap is None:
        return []
    return legend_entries(_neuron_traces(snap, neuron, contribution, theme, layer)[0])


def _neuron_traces(
    snap: Snapshot, neuron: int, contribution: bool, theme: ChartTheme, layer: int | None = None
) -> tuple[list[Trace], int, int, int]:
    """The chart's curves (none for a unit that does not exist), the layer's units, its index, the layers."""
    layers = hidden_layers(snap)
    count = len(layers)
    index = count if layer is None else layer
    hidden = np.asarray(layers[index - 1] if 1 <= index <= count else snap.hidden, dtype=np.float64)
    units = hidden.shape[1] if hidden.ndim == 2 else 0
    if not 0 <= neuron < units or not 1 <= index <= count:
        return [], units, index, count
    grid = _floats(snap.grid)
    h = hidden[:, neuron]
    effect = knockout(snap, index, neuron) if contribution and index < count else None
    if effect is not None:  # an earlier layer: its effect on the output, through the layers above
        return (
            [
                Trace(grid, _floats(snap.prediction), "braille", theme.muted, label="ŷ"),
                Trace(grid, effect, "hd", theme.series(0), label="ŷ − ŷ without it"),
            ],
            units,
            index,
            count,
        )
    if contribution and index == count:
        weight = float(np.ravel(snap.out_weights)[neuron])
        total = _floats(snap.prediction) - float(snap.out_bias)
        return (
            [
                Trace(grid, total, "braille", theme.muted, label="all units ŷ−b"),
                Trace(grid, weight * h, "hd", theme.series(0), label=f"w{neuron}={weight:.3g}"),
            ],
            units,
            index,
            count,
        )
    activation = getattr(snap.config, "activation", "activation")
    return [Trace(grid, h, "hd", theme.series(0), label=str(activation))], units, index, count


def _floats(values: object) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return np.empty(0)


def _range(values: np.ndarray, fallback: tuple[float, float], pad: float = 0.0) -> tuple[float, float]:
    """Finite min/max of ``values`` (padded by ``pad`` of the span), else ``fallback``."""
    good = values[np.isfinite(values)]
    if not good.size:
        return fallback
    lo, hi = float(good.min()), float(good.max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        half = max(abs(lo) * 0.1, 1.0)
        return lo - half, hi + half
    span = hi - lo
    return lo - pad * span, hi + pad * span


def _thin(x: np.ndarray, y: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` evenly spaced points of a curve (grids are 100 points; this guards the rest)."""
    n = min(x.size, y.size)
    if n <= most:
        return x[:n], y[:n]
    pick = np.linspace(0, n - 1, max(2, most)).round().astype(np.int64)
    return x[pick], y[pick]


def _samples(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The samples inside the view, at most MAX_SAMPLES of them, evenly picked (deterministic)."""
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    inside = np.flatnonzero((x >= lo) & (x <= hi) & np.isfinite(y))
    if inside.size > MAX_SAMPLES:
        inside = inside[np.linspace(0, inside.size - 1, MAX_SAMPLES).round().astype(np.int64)]
    return x[inside], y[inside]
