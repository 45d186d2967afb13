"""What a sweep reports: its members, its progress and its result — numpy and plain values, no torch.

They cross from the process that trains a sweep to the app's UI process, which must
not import torch (:mod:`quadtui.core.sweep.jobs`): so they live here, apart from the
training in :mod:`quadtui.core.sweep.runner` (which imports torch), where unpickling
them imports only this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quadtui.core.config import Config, json_value
from quadtui.core.history import LossHistory

FINISHED = ("done", "diverged", "stopped")  # a member's status once it has ended


@dataclass
class SweepMember:
    value: Any
    config: Config
    status: str = "ready"  # 'done' | 'diverged' | 'stopped' when finished
    final_loss: float | None = None
    eval_loss: float | None = None
    diverged_at: int | None = None
    epochs_run: int = 0
    prediction: np.ndarray | None = None  # on the view grid, for overlaying fits
    history: LossHistory | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "status": self.status,
            "epochs_run": self.epochs_run,
            "final_loss": _finite_or_none(self.final_loss),
            "eval_loss": _finite_or_none(self.eval_loss),
        }
        if self.diverged_at is not None:
            out["diverged_at"] = self.diverged_at
        return out


@dataclass
class SweepResult:
    param: str
    values: list[Any]
    members: list[SweepMember]
    grid: np.ndarray
    grid_target: np.ndarray
    seconds: float
    groups: list[list[int]]  # member indices trained together

    @property
    def all_done(self) -> bool:
        return all(m.status == "done" for m in self.members)

    def to_dict(self) -> dict[str, Any]:
        results = [{**m.summary(), "value": json_value(self.param, m.value)} for m in self.members]
        return {"param": self.param, "results": results}


@dataclass(frozen=True)
class SweepProgress:
    epoch: int  # epochs done by the group training now
    losses: list[float | None]  # each member's latest loss (None before it starts)
    completed: int  # member-epochs done, of
    total: int
    #: per member, live: epochs run, status ('ready' before it starts, 'training', then as SweepMember's),
    #: and its fit on the view grid once it has finished (None before: a batched model is not evaluated mid-run)
    epochs: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    predictions: list[np.ndarray | None] = field(default_factory=list)

    @property
    def finished(self) -> int:
        """How many members have ended (done, diverged or stopped)."""
        return sum(status in FINISHED for status in self.statuses)


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
