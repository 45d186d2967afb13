"""The sweep screens' charts: loss against the swept value, and the members' fits.

Shared by the one-setting sweep (screens/sweep.py), the grid (screens/sweep_grid.py) and the
class board (:class:`FitView` makes a fit chart's snapshot from a result that is not a run).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from quadtui.charts import ChartTheme, LegendEntry, sweep_chart, sweep_legend, sweep_title
from quadtui.charts.run_store import value_text
from quadtui.core.config import FIELDS, Config
from quadtui.tui.widgets.chart import Chart, placeholder
from quadtui.tui.widgets.run_charts import FitChart


@dataclass(frozen=True)
class FitView:
    """What the fit chart reads from a snapshot, made from a sweep's best member."""

    run_id: int
    config: Config
    status: str
    epoch: int
    grid: np.ndarray
    grid_target: np.ndarray
    prediction: np.ndarray
    x_samples: np.ndarray
    y_samples: np.ndarray


class SweepChart(Chart):
    """Final loss (latest loss while training) against the swept value."""

    def __init__(self, param: str, values: list[Any], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.param = param
        choice = FIELDS[param].kind == "choice" or not all(isinstance(v, (int, float)) for v in values)
        self.x = [float(i) for i in range(len(values))] if choice else [float(v) for v in values]
        self.names = ", ".join(f"{i} {value_text(param, v)}" for i, v in enumerate(values)) if choice else ""
        positive = all(x > 0 for x in self.x)
        self.log_x = not choice and positive and max(self.x) / min(self.x) >= 8
        self.losses: list[float | None] = [None] * len(values)
        self.finished: int | None = None  # while training: how many runs have ended (None once the sweep has)
        self.version = 0

    def title(self) -> str:
        if self.finished is not None:  # the losses are the latest, not final: count only the runs that ended
            title = f"loss now by {self.param} · {self.finished}/{len(self.x)} done"
        else:
            title = sweep_title(self.param, self.x, self.losses, self.log_x)
        return f"{title} ({self.names})" if self.names else title

    def legend(self, theme: ChartTheme) -> list[LegendEntry]:
        entries = sweep_legend(self.param, self.x, self.losses, theme, self.log_x)
        if self.finished is None:
            return entries
        return [replace(e, label=e.label.replace("best ", "lowest now ", 1)) for e in entries]

    def set_losses(self, losses: list[float | None], finished: int | None = None) -> None:
        """Final losses (``finished`` None), or the latest ones while ``finished`` runs of them have ended."""
        self.losses, self.finished, self.version = list(losses), finished, self.version + 1
        self.changed()

    def mode(self) -> Hashable:
        return self.version

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return sweep_chart(self.param, self.x, self.losses, width, height, theme, log_x=self.log_x, header=False)


class SweepFitChart(FitChart):
    heading = "fits"  # names the best member once one has a fit

    def title(self) -> str:
        return self.heading

    def set_heading(self, text: str) -> None:
        """The border's title (it stays through redraws and resizes)."""
        self.heading = text
        self._label()

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        if self.snapshot is None:  # a member's fit is drawn once it has finished
            return placeholder(width, height, "fits as runs finish")
        return super().draw(width, height, theme)
