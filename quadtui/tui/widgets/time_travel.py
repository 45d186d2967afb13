"""Time travel, as one component of the main screen: the charts show the network as it was at a checkpoint.

:class:`TimeTravel` wraps the rest of the screen's body (so its keys work wherever the
focus is there) and is handed every snapshot of the current run to show
(:meth:`TimeTravel.show_charts`).  While the cursor is on a checkpoint (``,`` ``.``
``home`` or ``p``), the fit, neuron and network charts show that moment
(:func:`quadtui.core.timeline.state_at`: the same float ops as the engine), the loss
chart marks its epoch and the timeline bar says where it is; the status line goes on
showing the run itself, which keeps training.  ``end``, stepping past the last
checkpoint or a new run go back to the live state.

In a real terminal the app's process has no torch (a student's session would cost
~150 MB more): the states around the cursor are computed a batch at a time in a
process forked from the fork server, and the nearest known one is shown meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Container
from textual.reactive import var

from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.run_charts import LossChart
from quadtui.tui.widgets.timeline import TimelineBar

if TYPE_CHECKING:
    from textual.timer import Timer

    from quadtui.core.snapshot import Snapshot
    from quadtui.core.timeline import TimelineView

#: a replay shows the run in about this many seconds, at this many frames a second
REPLAY_SECONDS, REPLAY_FPS = 6.0, 15.0
_CACHE = 64  # past states kept, to step back and forth without recomputing
#: past states computed at a time in another process (the app in a real terminal has no torch)
PAST_BATCH = 16


class TimeTravel(Container):
    """The keys that step the charts back through the run's checkpoints, and the moment they show."""

    DEFAULT_CSS = "TimeTravel { height: 1fr; }"  # the bar's display: app.tcss (TimeTravel.-travelling)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "comma",
            "travel(-1)",
            "Back",
            id="travel-back",
            show=False,
            tooltip="Time travel: show the network one checkpoint earlier (the run itself goes on)",
        ),
        Binding(
            "full_stop",
            "travel(1)",
            "Forward",
            id="travel-forward",
            show=False,
            tooltip="Time travel: one checkpoint later (past the last one: back to the run as it is now)",
        ),
        Binding(
            "home",
            "travel_to('start')",
            "Start",
            id="travel-start",
            show=False,
            tooltip="Time travel: the network at epoch 0, before any training",
        ),
        Binding(
            "end",
            "travel_to('end')",
            "Now",
            id="travel-end",
            show=False,
            tooltip="Time travel: back to the run as it is now",
        ),
        Binding(
            "p",
            "replay",
            "Replay",
            id="replay",
            show=False,
            tooltip="Replay the run: every chart steps through the checkpoints from epoch 0 (again: stop)",
        ),
    ]

    #: longer names than the footer's, for searching the palette
    PALETTE_TITLES: ClassVar[dict[str, str]] = {
        "travel-back": "Time travel: one checkpoint back",
        "travel-forward": "Time travel: one checkpoint forward",
        "travel-start": "Time travel: epoch 0",
        "travel-end": "Time travel: back to now",
        "replay": "Replay the run (an animation of the checkpoints)",
    }

    #: the charts show an earlier checkpoint: the timeline bar is shown
    travelling = var(False, toggle_class="-travelling")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.last: Snapshot | None = None  # the run's latest state, as last shown
        self.travel: int | None = None  # the timeline index shown, or None: the live state
        self._travel_run: int | None = None
        self._replay: Timer | None = None
        self._replay_step = 1
        self._past: LRUCache[tuple[int, int], Snapshot] = LRUCache(maxsize=_CACHE)
        self._charts: list[Chart] | None = None
        self._fetching = False  # past states are being computed in another process

    @property
    def charts(self) -> list[Chart]:
        """The charts inside (composed once, never remounted: looked up once, not on every frame)."""
        if self._charts is None:
            self._charts = list(self.query(Chart))
        return self._charts

    # -- what the charts show ------------------------------------------------------------
    def show_charts(self, snap: Snapshot) -> None:
        """Show ``snap`` (the run's latest state) in every chart, or the moment the cursor is on."""
        self.last = snap
        if snap.run_id != self._travel_run:  # a new run: back to the live state
            self._travel_run, self.travel = snap.run_id, None
            self._past = LRUCache(maxsize=_CACHE)
            self._stop_replay()
        timeline = snap.timeline
        if self.travel is not None and (timeline is None or not len(timeline)):
            self.travel = None
        past = self._state(snap, self.travel) if self.travel is not None else None
        for chart in self.charts:
            if isinstance(chart, LossChart):
                chart.mark = None if past is None else past.epoch  # a reactive: redrawn only when it changed
                chart.show(snap)
            else:
                chart.show(past or snap)
        if self.travelling != (self.travel is not None):
            self.travelling = self.travel is not None
        self.query_one(TimelineBar).show_moment(snap, self.travel, self._replay is not None)

    def _state(self, snap: Snapshot, index: int) -> Snapshot | None:
        """The moment at checkpoint ``index`` — or, while it is being computed elsewhere, the nearest one known."""
        key = (snap.run_id, index)
        past = self._past.get(key)
        if past is not None:
            return past
        from quadtui.core.timeline import state_at
        from quadtui.tui.worker import trains_in_child

        if not trains_in_child(self.app):
            past = state_at(snap, index)
            self._past.set(key, past)
            return past
        # the UI process has no torch: a process forked from the fork server computes the states
        # around the cursor (those a replay or the next keys will want), a batch at a time
        ahead = (
            range(index, index + PAST_BATCH * self._replay_step, self._replay_step)
            if self._replay
            else range(index - PAST_BATCH // 4, index + PAST_BATCH)
        )
        if not self._fetching:  # one batch at a time; when it is in, the charts ask again
            wanted = [i for i in ahead if 0 <= i < len(snap.timeline or ()) and (snap.run_id, i) not in self._past]
            self._fetching = True
            self._fetch_past(snap, wanted)
        cached = self._past.keys()  # (an LRUCache: no iteration of its own)
        known = [i for run, i in cached if run == snap.run_id]
        return self._past.get((snap.run_id, min(known, key=lambda i: abs(i - index)))) if known else None

    @work(thread=True, group="timeline", exit_on_error=False)
    def _fetch_past(self, snap: Snapshot, indices: list[int]) -> None:
        from quadtui.core import remote
        from quadtui.core.timeline import PastQuestion, past_states

        assert snap.timeline is not None
        try:
            fields = remote.call(past_states, PastQuestion.of(snap), [snap.timeline.rows[i] for i in indices])
        except Exception as exc:  # the server is gone, or the state could not be computed: say so
            self.app.call_from_thread(self._past_failed, f"Time travel: {exc}")
            return
        self.app.call_from_thread(self._got_past, snap, indices, fields)

    def _past_failed(self, error: str) -> None:
        self._fetching = False
        self.travel = None
        self._stop_replay()
        self.notify(error, severity="error", timeout=5)
        if self.last is not None:
            self.show_charts(self.last)

    def _got_past(self, snap: Snapshot, indices: list[int], fields: list[dict[str, object]]) -> None:
        from quadtui.core.timeline import state_at

        self._fetching = False
        if snap.run_id != self._travel_run:
            return  # a new run started meanwhile
        for index, found in zip(indices, fields):
            self._past.set((snap.run_id, index), state_at(snap, index, found))
        if self.travel is not None and self.last is not None:
            self.show_charts(self.last)

    def _go(self, index: int | None) -> None:
        self.travel = index
        if self.last is not None:
            self.show_charts(self.last)

    # -- the keys -------------------------------------------------------------------------
    def _timeline_or_say_why(self) -> tuple[Snapshot, TimelineView] | None:
        snap = self.last
        if snap is None or snap.timeline is None or not len(snap.timeline):
            self.notify("No checkpoints yet: train first.", timeout=3)
            return None
        return snap, snap.timeline

    def action_travel(self, step: int) -> None:
        found = self._timeline_or_say_why()
        if found is None:
            return
        snap, timeline = found
        self._stop_replay()
        epochs = timeline.epochs
        if self.travel is None:  # from now: the checkpoint before it (at or before, going forward)
            before = int(np.searchsorted(epochs, snap.epoch)) - 1
            if step > 0:
                return
            index = before + 1 + step
        else:
            index = self.travel + step
        if index >= len(timeline) or (step > 0 and epochs[index] >= snap.epoch):
            self._go(None)  # past the last checkpoint: now
            return
        self._go(max(0, index))

    def action_travel_to(self, where: str) -> None:
        if self._timeline_or_say_why() is None:
            return
        self._stop_replay()
        self._go(0 if where == "start" else None)

    def action_replay(self) -> None:
        found = self._timeline_or_say_why()
        if found is None:
            return
        if self._replay is not None:
            self._stop_replay()
            self._go(self.travel)
            return
        self._replay_step = max(1, round(len(found[1]) / (REPLAY_SECONDS * REPLAY_FPS)))
        self._replay = self.set_interval(1 / REPLAY_FPS, self._replay_tick)
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
