"""The run's :class:`Control`, as the app uses it.  Imports torch: import it lazily.

Workaround: ``Engine.run`` takes every pending step request at once but then
trains at most one chunk of them, so a big step (``S``: 100 epochs) would stop
short.  Handing the engine one step per request makes every requested epoch
run (a snapshot per stepped epoch is cheap, and the UI coalesces them).
"""

from __future__ import annotations

from quadtui.core.engine import Control


class RunControl(Control):
    def take_steps(self, most: int) -> int:
        return super().take_steps(min(most, 1))
