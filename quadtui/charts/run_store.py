"""The session's finished runs, kept to compare: no widgets here, just the bookkeeping.

Every run that ends with at least one epoch behind it (done, diverged, or stopped
by a new run) becomes a :class:`RunRecord`; sweep members can join too.  A run is
named by what differs from the run on screen — ``lr=0.05, hidden=16`` — or
``run 3`` when nothing does.  The store remembers which runs the charts overlay
(the newest ones by default, or the user's choice) and hands the charts their
overlays, rebuilt only when something they depend on changed.  The fit chart gets
only the runs that fitted the same target as the run on screen: another function's
curve under this one would only mislead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from quadtui.charts import FitOverlay, LossOverlay
from quadtui.charts.fit import MAX_OVERLAYS as FIT_OVERLAYS
from quadtui.charts.loss import MAX_OVERLAYS as LOSS_OVERLAYS
from quadtui.core.config import FIELDS, Config
from quadtui.core.history import LossHistory

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot
    from quadtui.core.sweep.results import SweepMember

#: runs kept; the oldest goes first
MAX_RUNS = 50
#: earlier runs drawn at once (the charts draw at most this many)
MAX_OVERLAYS = min(8, LOSS_OVERLAYS, FIT_OVERLAYS)
#: settings named in a label at most; more are summarised as "+N more"
LABEL_FIELDS = 3
RECORDED = ("done", "diverged", "stopped")


@dataclass(frozen=True)
class RunRecord:
    """One finished run: enough to redraw it and to train it again."""

    number: int  # 1, 2, 3… in the order runs finished this session
    config: Config
    status: str  # done | diverged | stopped
    epochs: int  # epochs trained
    history: LossHistory  # a summary(): a kept run costs at most 32 KB however long it was
    grid: np.ndarray
    prediction: np.ndarray
    final_loss: float | None
    eval_loss: float | None
    seconds: float | None  # None for sweep members (trained together, no time of their own)
    source: str = "run"  # "run", or "sweep <param>" for a sweep member
    run_id: int | None = None  # the engine's run id, for runs of the app


def value_text(name: str, value: Any) -> str:
    """A setting as a label shows it: ``lr=0.05``, ``batch_size=full``."""
    if value is None:
        return "full" if name == "batch_size" else "auto"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def difference(config: Config, reference: Config) -> str:
    """What ``config`` sets differently from ``reference``, in field order ('' if nothing)."""
    changed = config.diff(reference)
    parts = [f"{name}={value_text(name, changed[name])}" for name in FIELDS if name in changed]
    if len(parts) > LABEL_FIELDS:
        parts = [*parts[:LABEL_FIELDS], f"+{len(parts) - LABEL_FIELDS} more"]
    return ", ".join(parts)


def same_target(config: Config, reference: Config) -> bool:
    """Whether two runs fit the same function (spaces aside: ``x**2`` is ``x ** 2``)."""
    return "".join(config.target.split()) == "".join(reference.target.split())


def time_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(seconds, 60)
    if minutes:
        return f"{int(minutes)}:{secs:04.1f}"
    return f"{secs:.2f}s" if secs < 10 else f"{secs:.1f}s"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class RunStore:
    """At most :data:`MAX_RUNS` finished runs, and which of them the charts overlay."""

    def __init__(self, limit: int = MAX_RUNS) -> None:
        self.limit = limit
        self.runs: list[RunRecord] = []
        self.overlaid: list[int] = []  # run numbers, oldest first; at most MAX_OVERLAYS
        self.show_overlays = True
        self.version = 0  # bumped on every change the charts or the table care about
        self._count = 0
        self._seen: set[int] = set()  # engine run ids already recorded
        self._cache: tuple[Hashable, tuple[list[LossOverlay], list[FitOverlay]]] | None = None
        #: told of every run kept (the class folder posts them; see quadtui.tui.class_post)
        self.on_add: Callable[[RunRecord], None] | None = None

    def __len__(self) -> int:
        return len(self.runs)

    def get(self, number: int) -> RunRecord | None:
        return next((run for run in self.runs if run.number == number), None)

    # -- adding --------------------------------------------------------------------------
    def record(self, snap: Snapshot, seconds: float | None = None) -> RunRecord | None:
        """Keep ``snap``'s run if it has finished with epochs behind it (once per run)."""
        status = snap.status.value
        if status not in RECORDED or snap.epoch == 0 or snap.run_id in self._seen:
            return None
        self._seen.add(snap.run_id)
        return self._add(
            config=snap.config,
            status=status,
            epochs=snap.epoch,
            history=snap.history.summary(),
            grid=snap.grid,
            prediction=snap.prediction,
            final_loss=snap.train_now,
            eval_loss=snap.eval_now,
            seconds=snap.elapsed if seconds is None else seconds,
            run_id=snap.run_id,
        )

    def add_member(self, member: SweepMember, grid: np.ndarray, param: str) -> RunRecord | None:
        """Keep a finished sweep member (one that trained at least one epoch)."""
        if member.status not in RECORDED or not member.epochs_run or member.history is None:
            return None
        prediction = member.prediction if member.prediction is not None else np.full(len(grid), np.nan)
        return self._add(
            config=member.config,
            status=member.status,
            epochs=member.epochs_run,
            history=member.history.summary(),
            grid=grid,
            prediction=prediction,
            final_loss=member.final_loss,
            eval_loss=member.eval_loss,
            seconds=None,
            source=f"sweep {param}",
        )

    def _add(self, **fields: Any) -> RunRecord:
        self._count += 1
        fields["final_loss"], fields["eval_loss"] = _finite(fields["final_loss"]), _finite(fields["eval_loss"])
        run = RunRecord(number=self._count, **fields)
        self.runs.append(run)
        self.overlaid.append(run.number)  # the newest runs are overlaid unless the user chose otherwise
        del self.overlaid[:-MAX_OVERLAYS]
        if len(self.runs) > self.limit:
            dropped = self.runs.pop(0)
            if dropped.number in self.overlaid:
                self.overlaid.remove(dropped.number)
        self.version += 1
        if self.on_add is not None:
            self.on_add(run)
        return run

    # -- choosing overlays ---------------------------------------------------------------
    def is_overlaid(self, number: int) -> bool:
        return number in self.overlaid

    def toggle(self, number: int) -> bool:
        """Overlay run ``number`` or stop overlaying it; True if it is overlaid now.

        At most :data:`MAX_OVERLAYS` at once: choosing one more lets the longest-overlaid go.
        """
        if number in self.overlaid:
            self.overlaid.remove(number)
        elif self.get(number) is not None:
            self.overlaid.append(number)
            del self.overlaid[:-MAX_OVERLAYS]
        self.version += 1
        return number in self.overlaid

    def toggle_shown(self) -> bool:
        self.show_overlays = not self.show_overlays
        self.version += 1
        return self.show_overlays

    # -- naming --------------------------------------------------------------------------
    def label(self, run: RunRecord, reference: Config) -> str:
        """``lr=0.05, hidden=16`` (what differs from ``reference``), or ``run 3``."""
        return difference(run.config, reference) or f"run {run.number}"

    def labels(self, runs: list[RunRecord], reference: Config) -> list[str]:
        """Labels for runs drawn together: a repeated one gets its run number added."""
        names = [self.label(run, reference) for run in runs]
        return [
            name if names.count(name) == 1 or name == f"run {run.number}" else f"{name} (run {run.number})"
            for name, run in zip(names, runs)
        ]

    # -- for the charts ------------------------------------------------------------------
    def drawn(self, current: Snapshot | None) -> list[int]:
        """Numbers of the runs the charts draw, in drawing order (overlay i has colour i)."""
        if not self.show_overlays:
            return []
        current_id = None if current is None else current.run_id
        return [
            number
            for number in self.overlaid
            if (run := self.get(number)) is not None and (run.run_id is None or run.run_id != current_id)
        ]

    def overlays(
        self, current: Snapshot | None, reference: Config
    ) -> tuple[list[LossOverlay], list[FitOverlay], Hashable]:
        """The loss and fit overlays beside the run on screen, and a key that changes when they do.

        The run on screen is never overlaid on itself; the fit chart overlays only the runs of
        ``reference``'s target (each keeps the colour it has on the loss chart).
        """
        current_id = None if current is None else current.run_id
        key: Hashable = (self.version, current_id, reference)
        if self._cache is None or self._cache[0] != key:
            runs = [run for number in self.drawn(current) if (run := self.get(number)) is not None]
            names = self.labels(runs, reference)
            loss = [LossOverlay(name, run.history) for name, run in zip(names, runs)]
            fit = [
                FitOverlay(name, run.grid, run.prediction, slot)
                for slot, (name, run) in enumerate(zip(names, runs))
                if same_target(run.config, reference)
            ]
            self._cache = (key, (loss, fit))
        loss, fit = self._cache[1]
        return loss, fit, self._cache[0]
