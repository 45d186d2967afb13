"""How often the UI draws a running run: as often as looks live, never more than a small CPU budget.

A teaching server runs thirty UIs beside their runs on a few cores.  Each frame of
a running run costs the UI some milliseconds (building the chart, Textual's
compositor, the terminal's bytes), so a fixed 12 frames a second costs a session
10-15 % of a core, and a class of them starves every key press.  The pacer
measures what a frame actually costs the UI thread (its CPU time over the last
frames: handling the snapshot, building the chart, Textual's compositor) and spaces frames so that drawing stays within
:data:`UI_CPU_BUDGET` of one core: fast machines and small terminals get up to
:data:`FASTEST_FPS`, big terminals fewer.  When the machine is busier than it has
cores (``os.getloadavg``), frames are spaced further, down to :data:`SLOWEST_FPS`:
a loaded server spends its CPU on keys and training, not on animation.  On an
idle machine it never drops below :data:`IDLE_FLOOR_FPS`, so a run always looks live.

Snapshots that change what the run *is* (paused, finished, failed, a new run)
are always drawn at once; only the in-between epochs of a training run are skipped.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

UI_CPU_BUDGET = 0.03
FASTEST_FPS, IDLE_FLOOR_FPS, SLOWEST_FPS = 12.0, 5.0, 1.0
#: frames over which a frame's cost is averaged
WINDOW = 12


def ui_thread_cpu() -> float:
    """CPU seconds the UI (main) thread has used; the whole process's where threads cannot be told apart."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(threading.main_thread().ident or 0))
    except (AttributeError, OSError):
        return time.process_time()


def machine_load() -> float:
    """Runnable processes per core over the last minute (0 when the platform cannot say)."""
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (AttributeError, OSError):
        return 0.0


class FramePacer:
    """Says which snapshots of a training run to draw; one per run."""

    def __init__(self, budget: float = UI_CPU_BUDGET) -> None:
        self.budget = budget
        self.interval = 1 / FASTEST_FPS
        self._last_post = -1.0
        self._last_key: tuple[object, ...] | None = None
        self._marks: deque[tuple[float, float]] = deque(maxlen=WINDOW + 1)  # (wall, cpu) at each frame
        self._load, self._load_at = 0.0, -1.0

    def due(self, snap: Snapshot) -> bool:
        """Whether ``snap`` should be drawn now (True for every change of state)."""
        from quadtui.core.snapshot import Status

        now = time.perf_counter()
        key = (snap.run_id, snap.status)
        if key != self._last_key or snap.status is not Status.TRAINING or now - self._last_post >= self.interval:
            self._last_key = key
            self._post(now)
            return True
        return False

    def _post(self, now: float) -> None:
        self._last_post = now
        self._marks.append((now, ui_thread_cpu()))
        if len(self._marks) < 3:
            return
        (_, cpu0), (_, cpu1) = self._marks[0], self._marks[-1]
        per_frame = (cpu1 - cpu0) / (len(self._marks) - 1)  # UI-thread CPU seconds a frame costs
        interval = per_frame / self.budget
        load = self._machine_load(now)
        if load > 1.0:  # more runnable work than cores: draw less, let keys and runs have the CPU
            interval *= load
            slowest = 1 / SLOWEST_FPS
        else:
            slowest = 1 / IDLE_FLOOR_FPS
        self.interval = min(max(interval, 1 / FASTEST_FPS), slowest)

    def _machine_load(self, now: float) -> float:
        if now - self._load_at >= 1.0:  # the kernel updates it every 5 s; reading it is a syscall
            self._load, self._load_at = machine_load(), now
        return self._load
