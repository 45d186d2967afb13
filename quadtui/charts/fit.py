"""What the network computes: its fit against the data, and one hidden neuron."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from quadtui.charts.canvas import Chart, Trace, never_raises, render
from quadtui.charts.units import hidden_layers, knockout
from quadtui.charts.theme import ChartTheme
from quadtui.charts.ticks import Axis

if TYPE_CHECKING:
    from quadtui.core.engine import Snapshot

MAX_SAMPLES = 300  # sample dots drawn at most (an even, deterministic subset)
MAX_OVERLAYS = 8
SAMPLE_MARK = "•"


@dataclass(frozen=True)
class FitOverlay:
    """An earlier run's prediction on its own grid, drawn faint and dashed."""

    label: str
    grid: np.ndarray
    prediction: np.ndarray


@never_raises("fit")
def fit_chart(
    snap: Snapshot | None,
    width: int,
    height: int,
    theme: ChartTheme,
    overlays: Sequence[FitOverlay] = (),
    hint: str = "no run yet",
) -> str:
    """The true function (braille), the model (block line) and the samples (dots, on top)
    over the view, plus earlier runs' predictions faint and dashed.

    The y range comes from the target and the samples only, so a wild prediction runs
    off the edge instead of squashing everything else flat.  More than MAX_SAMPLES
    samples are thinned to an evenly spaced, deterministic subset.
    """
    if snap is None:
        return render(Chart("fit", note=hint), width, height, theme)
    grid = _floats(snap.grid)
    x_lo, x_hi = _range(grid, (-1.0, 1.0))
    sx, sy = _samples(_floats(snap.x_samples), _floats(snap.y_samples), x_lo, x_hi)
    target = _floats(snap.grid_target)
    prediction = _floats(snap.prediction)
    y_lo, y_hi = _range(np.concatenate((sy, target)), _range(prediction, (-1.0, 1.0)), pad=0.06)

    traces = [Trace(grid, target, "braille", theme.muted, label="target", rank=1)]
    for i, overlay in enumerate(list(overlays)[:MAX_OVERLAYS]):
        ox, oy = _thin(_floats(overlay.grid), _floats(overlay.prediction), 4 * int(width))
        traces.append(Trace(ox, oy, "hd", theme.faint(theme.series(2 + i)), dashed=True, label=overlay.label,
                            rank=3))
    traces.append(Trace(grid, prediction, "hd", theme.series(0), label="model"))
    traces.append(Trace(sx, sy, SAMPLE_MARK, theme.series(1), lines=False, label="samples", rank=2))
    title = f"fit · epoch {snap.epoch:,}/{snap.config.epochs:,}"
    chart = Chart(title, traces, Axis(x_lo, x_hi), Axis(y_lo, y_hi), short_title="fit")
    return render(chart, width, height, theme)


@never_raises("neuron")
def neuron_chart(
    snap: Snapshot | None,
    neuron: int,
    contribution: bool,
    width: int,
    height: int,
    theme: ChartTheme,
    hint: str = "no run yet",
    layer: int | None = None,
) -> str:
    """One unit of a hidden layer (``layer``, 1-based; None: the last) over the view grid.

    ``neuron`` is the 0-based column of the layer, shown as given: the title
    "neuron 3 of 8" means index 3 of the layer's 8 units (0 to 7); with more than one
    hidden layer it starts "layer 2 · ".  With ``contribution`` the chart shows what the
    unit adds to the output: for the last layer ``out_weights[neuron] * h(x)``, over the
    faint sum of all units (prediction minus output bias), titled "neuron 3 of 8 ·
    contribution w·h(x)"; for an earlier layer ŷ minus ŷ with the unit switched off.
    """
    if snap is None:
        return render(Chart("neuron", note=hint), width, height, theme)
    layers = hidden_layers(snap)
    index = len(layers) if layer is None else layer
    hidden = np.asarray(layers[index - 1] if 1 <= index <= len(layers) else snap.hidden, dtype=np.float64)
    units = hidden.shape[1] if hidden.ndim == 2 else 0
    title = (f"layer {index} · " if len(layers) > 1 else "") + f"neuron {neuron} of {units}"
    if not 0 <= neuron < units or not 1 <= index <= len(layers):
        note = f"no neuron {neuron}: choose 0 to {units - 1}" if units else "no hidden units"
        if not 1 <= index <= len(layers):
            note = f"no layer {index}: choose 1 to {len(layers)}"
        return render(Chart(title, note=note), width, height, theme)
    grid = _floats(snap.grid)
    x_lo, x_hi = _range(grid, (-1.0, 1.0))
    h = hidden[:, neuron]
    effect = knockout(snap, index, neuron) if contribution and index < len(layers) else None
    if effect is not None:  # an earlier layer: its effect on the output, through the layers above
        traces = [Trace(grid, _floats(snap.prediction), "braille", theme.muted, label="ŷ"),
                  Trace(grid, effect, "hd", theme.series(0), label="ŷ − ŷ without it")]
        title += " · contribution to ŷ"
        values = np.concatenate((effect, _floats(snap.prediction), [0.0]))
    elif contribution and index == len(layers):
        weight = float(np.ravel(snap.out_weights)[neuron])
        mine = weight * h
        total = _floats(snap.prediction) - float(snap.out_bias)
        traces = [Trace(grid, total, "braille", theme.muted, label="all units ŷ−b"),
                  Trace(grid, mine, "hd", theme.series(0), label=f"w·h  w={weight:.3g}")]
        title += " · contribution w·h(x)"
        values = np.concatenate((mine, total, [0.0]))
    else:
        activation = getattr(snap.config, "activation", "activation")
        traces = [Trace(grid, h, "hd", theme.series(0), label=f"h(x) {activation}")]
        values = np.concatenate((h, [0.0]))  # 0 in view: a dead or saturated unit reads as such
    y_lo, y_hi = _range(values, (-1.0, 1.0), pad=0.06)
    return render(Chart(title, traces, Axis(x_lo, x_hi), Axis(y_lo, y_hi)), width, height, theme)


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
