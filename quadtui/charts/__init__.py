"""Snapshot → chart text: pure functions over plotext 6, no Textual.

Every chart function returns exactly ``height`` lines of ``width`` visible cells with
ANSI colour codes (none at all when ``theme.color`` is False), is safe to call from
any thread, and never raises on odd data: it draws what it can, or a centred note.
"""

from quadtui.charts.fit import FitOverlay, fit_chart, neuron_chart
from quadtui.charts.loss import LossOverlay, loss_chart
from quadtui.charts.sweep import sweep_chart
from quadtui.charts.theme import ChartTheme

__all__ = [
    "ChartTheme",
    "FitOverlay",
    "LossOverlay",
    "fit_chart",
    "loss_chart",
    "neuron_chart",
    "sweep_chart",
]
