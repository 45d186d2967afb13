"""Time travel on the main screen: the charts show the network as it was at an earlier checkpoint.

:class:`TimeTravel` is mixed into :class:`~quadtui.tui.screens.train.TrainScreen`,
which passes every snapshot of the current run to :meth:`TimeTravel.show_charts`.
While the cursor is on a checkpoint (``,`` ``.`` ``home`` or ``p``), the fit, neuron and
network charts show that moment (:func:`quadtui.core.timeline.state_at`: the same float
ops as the engine), the loss chart marks its epoch and the timeline bar says where it
is; the status line goes on showing the run itself, which keeps training.  ``end``,
stepping past the last checkpoint or a new run go back to the live state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from textual.binding import Binding

from quadtui.tui.widgets.chart import LossChart
from quadtui.tui.widgets.timeline import TimelineBar

if TYPE_CHECKING:
    from textual.timer import Timer

    from quadtui.core.snapshot import Snapshot

#: a replay shows the run in about this many seconds, at this many frames a second
REPLAY_SECONDS, REPLAY_FPS = 6.0, 15.0
_CACHE = 64  # past states kept, to step back and forth without recomputing

BINDINGS = [
    Binding("comma", "travel(-1)", "Back", id="travel-back", show=False,
            tooltip="Time travel: show the network one checkpoint earlier (the run itself goes on)"),
    Binding("full_stop", "travel(1)", "Forward", id="travel-forward", show=False,
            tooltip="Time travel: one checkpoint later (past the last one: back to the run as it is now)"),
    Binding("home", "travel_to('start')", "Start", id="travel-start", show=False,
            tooltip="Time travel: the network at epoch 0, before any training"),
    Binding("end", "travel_to('end')", "Now", id="travel-end", show=False,
            tooltip="Time travel: back to the run as it is now"),
    Binding("p", "replay", "Replay", id="replay", show=False,
            tooltip="Replay the run: every chart steps through the checkpoints from epoch 0 (again: stop)"),
]

PALETTE_TITLES = {
    "travel-back": "Time travel: one checkpoint back",
    "travel-forward": "Time travel: one checkpoint forward",
    "travel-start": "Time travel: epoch 0",
    "travel-end": "Time travel: back to now",
    "replay": "Replay the run (an animation of the checkpoints)",
}


class TimeTravel:
    """Actions for the keys above; the screen provides ``last``, ``charts`` and ``notify``."""

    last: Snapshot | None
    if TYPE_CHECKING:  # the screen's property

        @property
        def charts(self) -> list[Any]: ...

    travel: int | None = None  # the timeline index shown, or None: the live state
    _travel_run: int | None = None
    _replay: Timer | None = None
    _past: dict[tuple[int, int], Snapshot]

    # -- what the charts show ------------------------------------------------------------
    def show_charts(self, snap: Snapshot) -> None:
        """Show ``snap`` (the run's latest state) in every chart, or the moment the cursor is on."""
        if snap.run_id != self._travel_run:  # a new run: back to the live state
            self._travel_run, self.travel = snap.run_id, None
            self._past = {}
            self._stop_replay()
        timeline = snap.timeline
        if self.travel is not None and (timeline is None or not len(timeline)):
            self.travel = None
        past = self._state(snap, self.travel) if self.travel is not None else None
        for chart in self.charts:
            if isinstance(chart, LossChart):
                mark = None if past is None else past.epoch
                if chart.mark != mark:
                    chart.mark = mark
                    chart.changed()
                chart.show(snap)
            else:
                chart.show(past or snap)
        self.set_class(self.travel is not None, "-travelling")  # type: ignore[attr-defined]
        self.query_one(TimelineBar).show_moment(snap, self.travel, self._replay is not None)  # type: ignore[attr-defined]

    def _state(self, snap: Snapshot, index: int) -> Snapshot:
        from quadtui.core.timeline import state_at

        key = (snap.run_id, index)
        past = self._past.get(key)
        if past is None:
            if len(self._past) >= _CACHE:
                self._past.clear()
            past = self._past[key] = state_at(snap, index)
        return past

    def _go(self, index: int | None) -> None:
        self.travel = index
        if self.last is not None:
            self.show_charts(self.last)

    # -- the keys -------------------------------------------------------------------------
    def _timeline_or_say_why(self) -> Any:
        snap = self.last
        if snap is None or snap.timeline is None or not len(snap.timeline):
            self.notify("No checkpoints yet: train first.", timeout=3)  # type: ignore[attr-defined]
            return None
        return snap.timeline

    def action_travel(self, step: int) -> None:
        timeline = self._timeline_or_say_why()
        if timeline is None:
            return
        self._stop_replay()
        epochs = timeline.epochs
        if self.travel is None:  # from now: the checkpoint before it (at or before, going forward)
            before = int(np.searchsorted(epochs, self.last.epoch)) - 1  # type: ignore[union-attr]
            if step > 0:
                return
            index = before + 1 + step
        else:
            index = self.travel + step
        if index >= len(timeline) or (step > 0 and epochs[index] >= self.last.epoch):  # type: ignore[union-attr]
            self._go(None)  # past the last checkpoint: now
            return
        self._go(max(0, index))

    def action_travel_to(self, where: str) -> None:
        if self._timeline_or_say_why() is None:
            return
        self._stop_replay()
        self._go(0 if where == "start" else None)

    def action_replay(self) -> None:
        timeline = self._timeline_or_say_why()
        if timeline is None:
            return
        if self._replay is not None:
            self._stop_replay()
            self._go(self.travel)
            return
        self._replay_step = max(1, round(len(timeline) / (REPLAY_SECONDS * REPLAY_FPS)))
        self._replay = self.set_interval(1 / REPLAY_FPS, self._replay_tick)  # type: ignore[attr-defined]
        self._go(0)

    def _replay_tick(self) -> None:
        snap = self.last
        if snap is None or snap.timeline is None or self.travel is None:
            self._stop_replay()
            return
        index = self.travel + self._replay_step
        if index >= len(snap.timeline):
            self._stop_replay()
            self._go(None)  # the end of the run (or, while it trains, now)
        else:
            self._go(index)

    def _stop_replay(self) -> None:
        if self._replay is not None:
            self._replay.stop()
            self._replay = None

    @property
    def replaying(self) -> bool:
        return self._replay is not None
