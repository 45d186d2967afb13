"""Snapshot → chart text: pure functions over numpy (no Textual, no plotting library).

Every chart function returns exactly ``height`` lines of ``width`` visible cells with
ANSI colour codes (none at all when ``theme.color`` is False), is safe to call from
any thread, and never raises on odd data: it draws what it can, or a centred note.
With ``header=False`` a chart has no title line: the app shows the title (``titles``)
and the legend (``*_legend``) in the chart's border instead.
"""

from quadtui.charts.canvas import LegendEntry, legend_line
from quadtui.charts.fit import (
    FitOverlay,
    fit_chart,
    fit_legend,
    fit_signature,
    neuron_chart,
    neuron_legend,
    neuron_signature,
)
from quadtui.charts.loss import LossOverlay, loss_chart, loss_legend
from quadtui.charts.sweep import sweep_chart, sweep_legend, sweep_title
from quadtui.charts.theme import ChartTheme
from quadtui.charts.titles import fit_title, loss_axis_label, loss_title, neuron_title

__all__ = [
    "ChartTheme",
    "FitOverlay",
    "LegendEntry",
    "LossOverlay",
    "fit_chart",
    "fit_legend",
    "fit_signature",
    "fit_title",
    "legend_line",
    "loss_axis_label",
    "loss_chart",
    "loss_legend",
    "loss_title",
    "neuron_chart",
    "neuron_legend",
    "neuron_signature",
    "neuron_title",
    "sweep_chart",
    "sweep_legend",
    "sweep_title",
]
