"""The code that runs in the training thread, and the thread that loads torch.

Nothing here imports torch at module level: the first frame is painted before
torch loads (in :func:`load_engine`, started after the first paint).
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Callable

from textual.message import Message
from textual.worker import get_current_worker

from quadtui.core.config import Config
from quadtui.tui.messages import EngineLoaded, RunFailed, RunUpdate

if TYPE_CHECKING:
    from quadtui.core.control import Control
    from quadtui.core.engine import Engine, Snapshot

#: at most this many snapshots a second reach the UI, whatever the epoch rate
REDRAWS_PER_S = 15


def load_engine(post: Callable[[Message], object]) -> None:
    """Import torch and the engine (in a thread), then say so."""
    try:
        import plotext  # noqa: F401  (the charts' first draw would import it on the UI thread)

        import quadtui.core.engine  # noqa: F401
    except Exception as exc:  # e.g. a broken torch install: tell the user, keep the app
        post(EngineLoaded(error=f"{type(exc).__name__}: {exc}"))
        return
    # torch's hundreds of thousands of long-lived objects: keep them out of every future
    # garbage collection — no GC pauses while training, and quitting is ~1 s faster
    # (the interpreter's exit no longer walks them all).
    gc.freeze()
    post(EngineLoaded())


def train(config: Config, control: Control, threads: int, post: Callable[[Message], object]) -> None:
    """Train ``config`` until done, diverged or cancelled, posting snapshots as it goes.

    Runs inside a Textual thread worker: the worker's cancel event is the engine's
    cancel flag, so cancelling the worker (a new run, quitting) stops the loop
    within one chunk of epochs (about 10 ms) or one sleep tick (50 ms).
    """
    worker = get_current_worker()
    engine = None
    try:
        from quadtui.core.engine import Engine
        from quadtui.core.threads import set_threads

        set_threads(threads)
        engine = Engine(config)
        engine.run(
            cancel=worker.cancelled_event,
            control=control,
            on_snapshot=lambda snap: post(RunUpdate(worker, snap)),
            interval=1 / REDRAWS_PER_S,
        )
    except Exception as exc:  # shown in the status line; the run's last state stays on screen
        error = f"{type(exc).__name__}: {exc}"
        post(RunFailed(worker, error, _last_state(engine, error)))


def _last_state(engine: Engine | None, error: str) -> Snapshot | None:
    """The failed run's state (status error), if the engine can still describe it."""
    if engine is None:
        return None
    from quadtui.core.engine import Status

    engine.status, engine.error = Status.ERROR, error
    try:
        return engine.snapshot()
    except Exception:
        return None
