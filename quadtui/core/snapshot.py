"""A run at one moment (:class:`Snapshot`) and its status: what the UI, the charts and the summaries read.

Apart from the engine, because the app's UI process holds snapshots but never
trains: it must not pay for torch (~150 MB a session on a shared server) just to
read one.  numpy only; :meth:`Snapshot.trained_model` imports torch when called.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from quadtui.core.config import Config
from quadtui.core.history import LossHistory

if TYPE_CHECKING:
    import torch

    from quadtui.core.hand_edit import WeightEdit
    from quadtui.core.timeline import TimelineView

_run_ids = itertools.count(1)


def new_run_id() -> int:
    """A run id never used before in this process (engines and the app's mirrors of child runs share them)."""
    return next(_run_ids)


class Status(str, Enum):
    READY = "ready"
    TRAINING = "training"
    PAUSED = "paused"
    DONE = "done"
    DIVERGED = "diverged"
    STOPPED = "stopped"
    ERROR = "error"


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Snapshot:
    """Everything a chart or a summary needs, at one moment of one run."""

    run_id: int
    config: Config
    status: Status
    epoch: int  # epochs completed
    train_loss: np.ndarray  # float32, one per epoch (read-only view)
    history: LossHistory = field(repr=False)  # frozen at the snapshot, for O(width) decimation
    eval_epochs: np.ndarray  # epochs at which eval loss was measured
    eval_loss: np.ndarray
    eval_now: float  # eval loss of the current model
    grid: np.ndarray  # x of the view grid
    grid_target: np.ndarray  # true function on the grid
    prediction: np.ndarray  # model on the grid
    hidden: np.ndarray  # (grid points, units): last hidden layer on the grid
    out_weights: np.ndarray  # (units,): weights of the output layer
    out_bias: float
    x_samples: np.ndarray
    y_samples: np.ndarray
    epochs_per_s: float  # over about the last second of wall time
    elapsed: float  # wall-clock seconds of training so far, pauses left out (see Engine.run)
    diverged_at: int | None = None
    error: str | None = None
    #: seconds spent computing epochs (Engine.advance), without pacing, snapshots or pauses: the run's cost
    compute_seconds: float = 0.0
    #: the network's parameters at this moment (weight, bias per layer), float32 copies
    weights: tuple[np.ndarray, ...] = field(default=(), repr=False)
    #: when the learning rate was changed during the run: ((0, first lr), (epoch, lr from then on), ...)
    lr_schedule: tuple[tuple[int, float], ...] = ()
    #: every hidden layer on the grid, first to last, each (grid points, units); ``hidden`` is the last
    layers: tuple[np.ndarray, ...] = field(default=(), repr=False)
    #: per hidden layer, (units,) bools: the unit is zero on every training sample (a dead ReLU)
    dead: tuple[np.ndarray, ...] = field(default=(), repr=False)
    #: the parameters at the epochs kept so far (see quadtui.core.timeline)
    timeline: TimelineView | None = field(default=None, repr=False)
    #: parameters set by hand in the network view, in order (see quadtui.core.hand_edit)
    weight_edits: tuple[WeightEdit, ...] = ()

    def trained_model(self) -> torch.nn.Module:
        """An ``nn.Sequential`` holding this snapshot's weights (for export)."""
        import torch

        from quadtui.core.model import build_model

        if not self.weights:
            raise ValueError("this snapshot carries no weights")
        model = build_model(self.config)
        with torch.no_grad():
            for param, value in zip(model.parameters(), self.weights):
                param.copy_(torch.from_numpy(value))
        return model

    @property
    def train_now(self) -> float | None:
        return float(self.train_loss[-1]) if self.train_loss.size else None

    @property
    def units(self) -> int:
        return int(self.hidden.shape[1])

    @property
    def finished(self) -> bool:
        return self.status in (Status.DONE, Status.DIVERGED, Status.STOPPED, Status.ERROR)

    def summary(self) -> dict[str, Any]:
        """The run in numbers (what ``--headless --json`` prints)."""
        losses = self.train_loss
        out: dict[str, Any] = {
            "config": self.config.to_json(),
            "status": self.status.value,
            "epochs_run": self.epoch,
            "first_loss": float(losses[0]) if losses.size else None,
            "final_loss": float(losses[-1]) if losses.size else None,
            "best_loss": float(losses.min()) if losses.size else None,
            "eval_loss": self.eval_now if math.isfinite(self.eval_now) else None,
            "seconds": round(self.elapsed, 4),  # wall time, as "elapsed" in the app
            # per second of compute: what the epochs cost, not slowed by progress output
            "epochs_per_s": round(self.epoch / self.compute_seconds, 1) if self.compute_seconds > 0 else None,
        }
        if self.diverged_at is not None:
            out["diverged_at"] = self.diverged_at
        if self.error is not None:
            out["error"] = self.error
        return out
