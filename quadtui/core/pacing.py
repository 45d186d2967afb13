"""How often the UI draws a running run: as often as looks live, never more than a small CPU budget.

A teaching server runs thirty UIs beside their runs on a few cores.  Each frame of
a running run costs the UI some milliseconds (building the chart, Textual's
compositor, the terminal's bytes), so a fixed 12 frames a second costs a session
10-15 % of a core, and a class of them starves every key press.  The pacer
measures, over the last frames, what a frame costs the UI thread (its CPU time)
and how long the UI thread waited for a CPU (the kernel's run delay, from
``/proc/.../schedstat``: the direct measure of a crowded machine, seen within a
second, where the load average takes a minute).  It spaces frames so that drawing
stays within :data:`UI_CPU_BUDGET` of one core, at most :data:`FASTEST_FPS`; on an
uncrowded machine never below :data:`IDLE_FLOOR_FPS`, so a run always looks live;
on a crowded one further apart, down to :data:`SLOWEST_FPS`, so that the CPU goes
to keys (every session's) and to training rather than to animation.

Snapshots that change what the run *is* (paused, finished, failed, a new run)
are always drawn at once; only the in-between epochs of a training run are skipped.
Frames are due on a schedule (one ``interval`` after the last was *due*, not after it
came): a frame can only fall on a snapshot's arrival, ~12 a second, and counting from
the arrival would draw every third one (4 a second) where the pacer asks for 5.

The trainer is told the pace (:meth:`FramePacer.trainer_pace`), so that it makes and
sends about the snapshots that will be drawn, not 12 a second of which most are
dropped.  It is told a little *less* than the interval: a snapshot must reach the UI
within every interval of the schedule, or the frame due waits for the next one (should
snapshots come once an interval, each a few ms late, the schedule would slip a whole
interval now and then).  One that comes a little *early* (:data:`SLACK`) is drawn for
the frame due, so the trainer need not send more than are drawn to be in time.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

#: the share of one core a session's UI may spend on a training run's frames: under the 3 % a class on two
#: cores allows it (issue 15), by a margin for what the pacer does not see (a frame's cost varies)
UI_CPU_BUDGET = 0.025
#: numbers that are read, not watched (the status line's, a chart title's while its picture stands), are
#: rewritten at most this often (s) while a run trains: with the first frame after that long
NUMBERS_EVERY = 0.5
FASTEST_FPS, IDLE_FLOOR_FPS, SLOWEST_FPS = 12.0, 5.0, 1.0
#: frames over which a frame's cost and the waiting are averaged
WINDOW = 12
#: the UI thread waiting this share of the time for a CPU means the machine is crowded
CROWDED = 0.02
#: the trainer is told a pace this share shorter than the frame interval, and told anew only when the
#: interval leaves [pace, pace × (1 + 2 RETELL)]: not every frame, and never a pace longer than the interval
RETELL = 0.05
#: a training snapshot that comes up to this share of the interval before its frame is due is drawn for it
#: (the schedule stays: the next frame is due an interval after this one was): the trainer's snapshots come
#: about one a frame, a little early or late, and one turned away for being a few ms early would leave the
#: frame to the next one, most of an interval later (or the trainer would have to send more than are drawn)
SLACK = 0.25


def ui_thread_times(whole_process: bool = False) -> tuple[float, float]:
    """(CPU seconds used, seconds spent waiting for a CPU) of the UI (main) thread.

    ``whole_process``: the CPU of every thread of the process (the frames, and receiving the
    run's snapshots, writing to the terminal, reading keys: what a session's UI costs the
    server), for an app whose run trains in another process.  Linux's schedstat; elsewhere the
    process's CPU time and no waiting.
    """
    try:
        ran, waited, _ = _SCHEDSTAT.read().split()
        return (time.process_time() if whole_process else int(ran) / 1e9), int(waited) / 1e9
    except (OSError, ValueError, AttributeError):
        return time.process_time(), 0.0


class _MainThreadSchedstat:
    """The main thread's ``/proc/…/schedstat``, kept open and read afresh from its start (one ``pread``
    a frame, not an open, a read and a close: a tenth of the cost in the thread that receives the run's
    snapshots).  Opened anew in a forked process (whose main thread is another)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened: tuple[int, int] | None = None  # (the pid it was opened in, the file descriptor)

    def read(self) -> bytes:
        with self._lock:
            pid = os.getpid()
            if self._opened is None or self._opened[0] != pid:
                path = f"/proc/{pid}/task/{threading.main_thread().native_id}/schedstat"
                self._opened = (pid, os.open(path, os.O_RDONLY | os.O_CLOEXEC))
            return os.pread(self._opened[1], 128, 0)


_SCHEDSTAT = _MainThreadSchedstat()


class FramePacer:
    """Says which snapshots of a training run to draw; one per run."""

    def __init__(self, budget: float = UI_CPU_BUDGET, whole_process: bool = False) -> None:
        self.budget = budget
        #: the budget is the whole process's (the run trains elsewhere), not only the UI thread's
        self.whole_process = whole_process
        self.interval = 1 / FASTEST_FPS
        self._next_due = -1.0  # when the next frame of a training run is due (perf_counter time)
        self._last_key: tuple[object, ...] | None = None
        #: (wall, cpu, waited) at each frame drawn
        self._marks: deque[tuple[float, float, float]] = deque(maxlen=WINDOW + 1)

    def due(self, snap: Snapshot) -> bool:
        """Whether ``snap`` should be drawn now (True for every change of state)."""
        from quadtui.core.snapshot import Status

        now = time.perf_counter()
        key = (snap.run_id, snap.status)
        if key != self._last_key or snap.status is not Status.TRAINING or now >= self._next_due - self._slack():
            self._last_key = key
            self._post(now)
            return True
        return False

    def trainer_pace(self, told: float | None) -> float:
        """Seconds between the training snapshots the trainer should send: ``told`` (the last pace it
        was told, None at first) while that still fits the interval, else a new one."""
        if told is not None and told <= self.interval <= told * (1 + 2 * RETELL):
            return told
        return self.interval * (1 - RETELL)

    def _post(self, now: float) -> None:
        self._pace(now)
        # on schedule: an interval after this frame was due (not after it came), unless that is long
        # past (a pause, a new run, a change of state drawn between frames): then an interval from now
        due = self._next_due
        self._next_due = (due if -self._slack() <= now - due < self.interval else now) + self.interval

    def _slack(self) -> float:
        """How early a training snapshot may come and be drawn for the frame due (see :data:`SLACK`)."""
        return SLACK * self.interval

    def _pace(self, now: float) -> None:
        """The interval between frames, from what the last frames cost and how crowded the machine is."""
        self._marks.append((now, *ui_thread_times(self.whole_process)))
        if len(self._marks) < 3:
            return
        (wall0, cpu0, waited0), (wall1, cpu1, waited1) = self._marks[0], self._marks[-1]
        per_frame = (cpu1 - cpu0) / (len(self._marks) - 1)  # the UI's CPU seconds a frame costs
        crowding = (waited1 - waited0) / max(wall1 - wall0, 1e-6)  # share of the time spent waiting for a CPU
        interval = per_frame / self.budget
        if crowding > CROWDED:  # others want the CPU: draw less, the more the more crowded
            interval *= 1 + crowding / CROWDED
            slowest = 1 / SLOWEST_FPS
        else:
            slowest = 1 / IDLE_FLOOR_FPS
        self.interval = min(max(interval, 1 / FASTEST_FPS), slowest)
