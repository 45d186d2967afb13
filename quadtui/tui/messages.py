"""Messages from the training thread to the UI.

Snapshots are posted from the worker thread; a queued snapshot of a run is
superseded by a newer one of the same run (``can_replace``), so a busy UI draws
only the latest state and never falls behind the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import Worker

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot


@dataclass(eq=False)  # a snapshot holds numpy arrays: messages are never compared
class RunUpdate(Message):
    """A new snapshot of the run owned by ``worker``."""

    worker: Worker[None]
    snapshot: Snapshot

    def can_replace(self, message: Message) -> bool:
        # Each snapshot is the run's whole state: a newer one makes a queued older one redundant.
        return (
            isinstance(message, RunUpdate)
            and message.worker is self.worker
            and message.snapshot.run_id == self.snapshot.run_id
        )


@dataclass(eq=False)
class RunFailed(Message):
    """The run owned by ``worker`` raised; ``error`` is one line for the status bar.

    ``snapshot`` is the run's state when it failed (None if even that could not be taken).
    """

    worker: Worker[None]
    error: str
    snapshot: Snapshot | None = None


@dataclass(eq=False)
class EngineLoaded(Message):
    """torch and the engine are imported (done in a thread after the first paint); or why not."""

    error: str | None = None
