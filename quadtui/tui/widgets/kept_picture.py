"""Keeping a training run's picture: a new snapshot that moves no point of it is not drawn.

Most frames of a long run change nothing a reader can see (a fit that has settled moves its curve by
less than a sixteenth of a dot), yet drawing a chart costs a few milliseconds.  A chart tells what its
picture is drawn from (:meth:`KeptPicture.signature`) and which of the snapshot's arrays move with it
(:meth:`KeptPicture.moving`); the picture on screen then stands for the next snapshot while neither
changed, for at most :data:`KEEP_AT_MOST` seconds.  Apart from :class:`~quadtui.tui.widgets.chart.Chart`,
which draws and paints: this is only when a drawing may be skipped, for a training run and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np

from quadtui.charts.canvas import SIGNATURE_STEPS
from quadtui.core.snapshot import Status

if TYPE_CHECKING:
    from textual.geometry import Size

    from quadtui.charts import ChartTheme
    from quadtui.core.snapshot import Snapshot
    from quadtui.tui.widgets.colours import ThemedColours

#: a training run's picture that no new snapshot changes (by its signature) is drawn again after this long (s)
KEEP_AT_MOST = 1.0


class KeptPicture:
    """The picture-keeping half of :class:`~quadtui.tui.widgets.chart.Chart`: its hooks (:meth:`signature`,
    :meth:`moving`), the state of the picture on screen they are checked against, and the checks."""

    if TYPE_CHECKING:  # what the chart it is mixed into has (its widget's, and Chart's own)
        snapshot: Snapshot | None
        _key: Hashable
        colours: ThemedColours
        display: bool

        @property
        def content_size(self) -> Size: ...

        def _picture_key(self, width: int, height: int, theme_key: Hashable) -> tuple[Hashable, ...]: ...

    def _init_keeping(self) -> None:
        """The picture on screen is not known yet (called by the chart's ``__init__``)."""
        self._signature: Hashable = None  # what the picture on screen was drawn from (None: not known)
        self._signed_at = 0.0  # when it was drawn (perf_counter)
        self._unseen: tuple[tuple[Hashable, ...], Hashable] | None = None  # (picture key, signature) not drawn yet
        #: the arrays a training run moves, as the picture on screen was drawn from them, and how far they may
        #: move before it need be signed again (see :meth:`_stands`); None: not known
        self._drawn_from: tuple[tuple[np.ndarray, ...], float] | None = None

    def moving(self) -> tuple[tuple[np.ndarray, ...], float] | None:
        """The snapshot's arrays that a training run moves and the picture is drawn from (the rest of
        what it draws stays put while the run, size, theme and mode do), and the least span of values
        its y axis shows (see :meth:`_stands`).  None: not known (every new snapshot is signed)."""
        return None

    def signature(self, width: int, height: int, theme: ChartTheme) -> Hashable:
        """What :meth:`Chart.draw` draws from, to a sixteenth of a dot (None: not known, drawn every time): a
        training run's next snapshot with the same signature keeps the picture on screen, undrawn."""
        return None

    def _keeps_picture(self) -> bool:
        """Whether the picture on screen stands for the new snapshot too, undrawn: a training run's
        epochs that move no point of it by a sixteenth of a dot (a fit that has settled: most frames).
        Drawn again at least every :data:`KEEP_AT_MOST` seconds, and for any other state (paused,
        done, failed) always: a run's final state is drawn from its final snapshot."""
        snap = self.snapshot
        if snap is None or snap.status is not Status.TRAINING or self._signature is None or not self.display:
            return False
        if time.perf_counter() - self._signed_at > KEEP_AT_MOST:
            return False
        width, height = self.content_size
        theme_key, theme = self.colours.get()
        key = self._picture_key(width, height, theme_key)
        if not isinstance(self._key, tuple) or key[1:] != self._key[1:]:
            return False
        if self._stands(key):
            self._key = key  # the picture on screen is this snapshot's
            return True
        try:
            signed = self.signature(width, height, theme)
        except Exception:
            return False
        if signed == self._signature:
            self._key = key  # the picture on screen is this snapshot's
            return True
        self._unseen = (key, signed)  # the signature of the picture about to be drawn
        return False

    def _stands(self, key: tuple[Hashable, ...]) -> bool:
        """Whether no array the picture moves with (:meth:`moving`) has moved since it was drawn by more
        than a 1/SIGNATURE_STEPS of a dot, nor anything else changed (the run, the weights set by hand):
        its signature could then differ only by a point that crossed a step's edge, which a signature
        lets by anyway.  One subtraction an array, where a signature builds the chart's spec and its
        ticks: a tenth of the cost (the fit and neuron charts, most frames of a long run)."""
        drawn, shown = self._drawn_from, self._key
        if drawn is None or not isinstance(shown, tuple) or not isinstance(shown[0], tuple):
            return False
        new, old = key[0], shown[0]
        if not isinstance(new, tuple) or (new[0], new[3]) != (old[0], old[3]):  # another run, or weights set by hand
            return False
        arrays, tolerance = drawn
        now = self.moving()
        if now is None or len(now[0]) != len(arrays):
            return False
        with np.errstate(invalid="ignore", over="ignore"):
            return all(
                a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= tolerance
                for a, b in zip(now[0], arrays)
            )

    def _moved_from(self, height: int) -> tuple[tuple[np.ndarray, ...], float] | None:
        """The arrays the picture just drawn moves with, and how far they may move unseen: a
        1/SIGNATURE_STEPS of a dot of the least span its y axis shows."""
        moving = self.moving()
        if moving is None:
            return None
        arrays, span = moving
        tolerance = span / (4 * SIGNATURE_STEPS * max(1, height))
        return (arrays, tolerance) if arrays and np.isfinite(tolerance) else None

    def _note_drawn(self, key: tuple[Hashable, ...], width: int, height: int, theme: ChartTheme, at: float) -> None:
        """The picture ``key`` was just drawn (at ``at``, perf_counter): what it was drawn from, to keep it by."""
        self._signature = self._signed(key, width, height, theme)
        self._drawn_from = None if self._signature is None else self._moved_from(height)
        self._signed_at = at

    def _signed(self, key: tuple[Hashable, ...], width: int, height: int, theme: ChartTheme) -> Hashable:
        """The signature of the picture just drawn (``key``), for a training run (None otherwise, or if it
        fails); worked out when the snapshot came, if it was (:meth:`_keeps_picture`)."""
        unseen, self._unseen = self._unseen, None
        if self.snapshot is None or self.snapshot.status is not Status.TRAINING:
            return None
        if unseen is not None and unseen[0] == key:
            return unseen[1]
        try:
            return self.signature(width, height, theme)
        except Exception:
            return None
