"""Each chart's one title: its name and the live facts (``loss · epoch 5,000 · 0.0632``).

The app shows these in the charts' borders, above legend-only plots; a chart drawn on
its own (``header=True``) puts the same title in its first line, so the words are never
said twice either way.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from quadtui.charts.ticks import fmt_number

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot


def epoch_text(snap: Snapshot) -> str:
    """``epoch 5,000`` at the end of a run, ``epoch 1,234/5,000`` before it."""
    total = snap.config.epochs
    return f"epoch {snap.epoch:,}" if snap.epoch >= total else f"epoch {snap.epoch:,}/{total:,}"


def loss_title(snap: Snapshot | None) -> str:
    """``loss · epoch 1,234/5,000 · 0.0632``: the train loss now, then the run's state if not plain
    (a diverged run: ``· diverged``; its epoch is the last one it kept, as the status line says)."""
    if snap is None:
        return "loss"
    title = f"loss · {epoch_text(snap)}"
    now = snap.train_now
    if now is not None and math.isfinite(now):
        title += f" · {fmt_number(now)}"
    status = getattr(snap.status, "value", str(snap.status))
    if snap.diverged_at is not None:
        status = "diverged"
    return f"{title} · {status}" if status in ("stopped", "error", "paused", "diverged") else title


def loss_axis_label(log_x: bool) -> str:
    """What the loss chart's x axis shows, and on which scale."""
    return "epoch, log scale" if log_x else "epoch"


def fit_title(snap: Snapshot | None) -> str:
    """``fit · epoch 1,234/5,000``."""
    return "fit" if snap is None else f"fit · {epoch_text(snap)}"


def neuron_title(snap: Snapshot | None, neuron: int, contribution: bool, layer: int | None = None) -> str:
    """``neuron 3 of 8: h3(x)``, or ``neuron 3 of 8: contribution w3·h3(x)`` (index 3 of 0..7).

    With more than one hidden layer it names the layer (1-based; None: the last):
    ``layer 2 · neuron 3 of 16: h3(x)``; an earlier layer's contribution is "contribution to ŷ".
    """
    layers = tuple(getattr(snap, "layers", ()) or ()) if snap is not None else ()
    index = layer or len(layers)
    if len(layers) > 1 and 1 <= index <= len(layers):
        units: int | None = layers[index - 1].shape[1]
    else:
        units = snap.units if snap is not None else None
    of = f" of {units}" if units else ""
    what = f"contribution w{neuron}·h{neuron}(x)" if contribution else f"h{neuron}(x)"
    if len(layers) > 1:
        if contribution and index < len(layers):
            what = "contribution to ŷ"
        return f"layer {index} · neuron {neuron}{of}: {what}"
    return f"neuron {neuron}{of}: {what}"
