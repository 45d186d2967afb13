"""Requests from a UI to a running training loop: pause, step, speed, learning rate, weights set by hand, pace.

Torch-free, so a UI can build one before torch has loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

#: the app's pace in epochs per second: the notebook's 5,000 epochs draw in about 5 s (None would be full speed)
DEFAULT_SPEED = 1000


class Control:
    """Thread-safe requests from a UI to a running :meth:`Engine.run` loop."""

    #: epochs per second choices; None = as fast as possible
    SPEEDS: tuple[float | None, ...] = (1, 3, 10, 30, 100, 300, 1000, 3000, None)

    def __init__(self, paused: bool = False, speed: float | None = None) -> None:
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.paused = paused
        self.speed = speed
        self._steps = 0
        self._lr: float | None = None
        self._edits: list[tuple[str, tuple[int, ...], float]] = []
        #: seconds between the snapshots of a training run that the UI will draw (None: the loop's own
        #: ``interval``).  Set by the UI's frame pacer as its frame rate adapts, read by :meth:`Engine.run`
        #: at every chunk: a snapshot the UI would drop costs the trainer its making and the UI its
        #: receiving, so none is made.  Changes of state are sent at once whatever the pace.  No wake-up:
        #: a pacing sleep woken early would train ahead of its speed.
        self.pace: float | None = None

    def _poke(self) -> None:
        self.wake.set()

    def pause(self) -> None:
        self.paused = True
        self._poke()

    def resume(self) -> None:
        self.paused = False
        self._poke()

    def step(self, epochs: int = 1) -> None:
        """Run ``epochs`` more epochs, then stay paused."""
        with self._lock:
            self.paused = True
            self._steps += epochs
        self._poke()

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._poke()

    def set_lr(self, lr: float) -> None:
        with self._lock:
            self._lr = lr
        self._poke()

    def set_weights(self, changes: Sequence[tuple[str, tuple[int, ...], float]]) -> None:
        """Set parameters by hand, (name, index, value) each (see quadtui.core.hand_edit), at the next epoch."""
        with self._lock:
            self._edits.extend(changes)
        self._poke()

    def take_edits(self) -> list[tuple[str, tuple[int, ...], float]]:
        with self._lock:
            edits, self._edits = self._edits, []
            return edits

    def take_steps(self, most: int) -> int:
        with self._lock:
            n = min(most, self._steps)
            self._steps -= n
            return n

    def take_lr(self) -> float | None:
        with self._lock:
            lr, self._lr = self._lr, None
            return lr
