"""The three charts of a run: its loss, its fit and one hidden neuron.

:class:`LossChart` draws the run's train and eval losses by epoch (earlier runs' under them) and
keeps the log-scale, all-runs and timeline-mark settings; :class:`FitChart` draws the prediction
over the samples and the true function, and says what its picture moves with (the prediction), so
that a settled fit is not drawn again; :class:`NeuronChart` draws one hidden unit's activation or its
contribution to the output, and keeps which unit and layer.  Apart from the base they share,
:class:`~quadtui.tui.widgets.chart.Chart`, which caches, keeps and paints a picture for any chart
(the network's, a sweep's heatmap too): these only say what a run's chart draws.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
from textual.reactive import var

from quadtui.charts import (
    ChartTheme,
    LegendEntry,
    fit_chart,
    fit_legend,
    fit_signature,
    fit_title,
    loss_axis_label,
    loss_chart,
    loss_legend,
    loss_title,
    neuron_chart,
    neuron_legend,
    neuron_signature,
    neuron_title,
)
from quadtui.charts.units import hidden_layers
from quadtui.tui.widgets.chart import Chart

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot


class LossChart(Chart):
    TITLE = "loss"
    #: an epoch marked with a line (the timeline's cursor), or None
    mark: var[int | None] = var(None)
    #: epochs on a log scale (the l key): the first epochs get room
    log_x = var(False)
    #: the x axis spans every run drawn (the a key), not just the run on screen
    all_runs = var(False)
    watch_mark = watch_log_x = watch_all_runs = Chart._mode_changed

    def title(self) -> str:
        title = loss_title(self.snapshot)
        return title if self.mark is None else f"{title} · ◆ epoch {self.mark:,}"

    def legend(self, theme: ChartTheme) -> list[LegendEntry]:
        return loss_legend(self.snapshot, theme, self.overlays)

    def caption(self) -> str:
        if self.snapshot is None:
            return ""
        return loss_axis_label(self.log_x) + (", all runs" if self.all_runs and self.overlays else "")

    def mode(self) -> Hashable:
        return (self.log_x, self.mark, self.all_runs)

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return loss_chart(
            self.snapshot,
            width,
            height,
            theme,
            overlays=self.overlays,
            log_x=self.log_x,
            header=False,
            mark=self.mark,
            all_runs=self.all_runs,
        )


class FitChart(Chart):
    TITLE = "fit"

    def title(self) -> str:
        return fit_title(self.snapshot)

    def legend(self, theme: ChartTheme) -> list[LegendEntry]:
        return fit_legend(self.snapshot, theme, self.overlays)

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return fit_chart(self.snapshot, width, height, theme, overlays=self.overlays, header=False)

    def signature(self, width: int, height: int, theme: ChartTheme) -> Hashable:
        return fit_signature(self.snapshot, width, height, theme, self.overlays)

    def moving(self) -> tuple[tuple[np.ndarray, ...], float] | None:
        # the prediction moves; the y axis shows at least the target's span (it is grown to the samples and
        # the prediction, never cut)
        snap = self.snapshot
        if snap is None:
            return None
        prediction, target = np.asarray(snap.prediction), np.asarray(snap.grid_target, dtype=np.float64)
        return ((prediction,), float(np.ptp(target)) if target.size else 0.0)


class NeuronChart(Chart):
    """One hidden neuron: its activation hᵢ(x), or its contribution wᵢ·hᵢ(x) to the output."""

    neuron = var(0)
    #: 1-based; None: the last hidden layer
    hidden_layer: var[int | None] = var(None)
    contribution = var(False)
    watch_neuron = watch_hidden_layer = watch_contribution = Chart._mode_changed

    def __init__(
        self, neuron: int = 0, *, hidden_layer: int | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(NeuronChart.neuron, neuron)
        self.set_reactive(NeuronChart.hidden_layer, hidden_layer)

    def title(self) -> str:
        return neuron_title(self.snapshot, self.neuron, self.contribution, self.hidden_layer)

    def legend(self, theme: ChartTheme) -> list[LegendEntry]:
        return neuron_legend(self.snapshot, self.neuron, self.contribution, theme, self.hidden_layer)

    def show(self, snapshot: Snapshot | None) -> None:
        layers = len(getattr(snapshot, "layers", ()) or (None,))
        if snapshot is not None and self.hidden_layer is not None and self.hidden_layer >= layers:
            self.hidden_layer = None  # the last layer, or a run with fewer layers: "the last"
        super().show(snapshot)

    def mode(self) -> Hashable:
        return (self.neuron, self.contribution, self.hidden_layer)

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return neuron_chart(
            self.snapshot, self.neuron, self.contribution, width, height, theme, header=False, layer=self.hidden_layer
        )

    def signature(self, width: int, height: int, theme: ChartTheme) -> Hashable:
        return neuron_signature(
            self.snapshot, self.neuron, self.contribution, width, height, theme, layer=self.hidden_layer
        )

    def moving(self) -> tuple[tuple[np.ndarray, ...], float] | None:
        # the unit's activation, its y axis at least its span; what a unit adds to the output moves with
        # the weights too: signed every time
        snap = self.snapshot
        if snap is None or self.contribution:
            return None
        layers = hidden_layers(snap)
        index = len(layers) if self.hidden_layer is None else self.hidden_layer
        layer = np.asarray(layers[index - 1]) if 1 <= index <= len(layers) else None
        if layer is None or layer.ndim != 2 or not 0 <= self.neuron < layer.shape[1]:
            return None
        unit = layer[:, self.neuron]
        return ((unit,), float(np.ptp(unit)) if unit.size else 0.0)
