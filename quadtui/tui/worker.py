"""The code that runs in the training thread, and the thread that loads torch.

Nothing here imports torch at module level: the first frame is painted before
torch loads (in :func:`load_engine`, started after the first paint).

In a real terminal a run trains in a child process (:mod:`quadtui.tui.remote`):
drawing then never takes the GIL from the trainer, so the app trains as fast as
``--headless``.  Under ``App.run_test`` (the tests) it trains in this thread, where
tests can watch and patch the engine; :data:`IN_PROCESS` overrides the choice.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Callable

from textual.message import Message
from textual.worker import get_current_worker

from quadtui.core.config import Config
from quadtui.tui.messages import EngineLoaded, RunFailed, RunUpdate
from quadtui.tui.pacing import FramePacer

if TYPE_CHECKING:
    from quadtui.core.control import Control
    from quadtui.core.engine import Engine, Snapshot

#: at most this many snapshots a second leave the trainer, whatever the epoch rate; the UI then
#: draws as many of them as its CPU budget allows (:mod:`quadtui.tui.pacing`)
REDRAWS_PER_S = 12
#: train in a child process (True), in the worker thread (False), or None: a child process
#: unless the app is headless (``App.run_test``)
IN_PROCESS: bool | None = None


def _in_process() -> bool:
    if IN_PROCESS is not None:
        return IN_PROCESS
    node = get_current_worker().node
    app = getattr(node, "app", node)
    return not getattr(app, "is_headless", True)


def load_engine(post: Callable[[Message], object]) -> None:
    """Import torch and the engine (in a thread), then say so."""
    try:
        import plotext  # noqa: F401  (the charts' first draw would import it on the UI thread)

        import quadtui.core.engine  # noqa: F401

        if _in_process():
            from quadtui.tui import remote

            remote.start_server()  # imports torch once more, in its own process (the other core)
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
    if _in_process():
        _train_in_process(config, control, threads, post)
        return
    engine = None
    try:
        from quadtui.core.engine import Engine
        from quadtui.core.threads import set_threads

        set_threads(threads)
        engine = Engine(config)
        engine.run(
            cancel=worker.cancelled_event,
            control=control,
            on_snapshot=_paced(lambda snap: post(RunUpdate(worker, snap))),
            interval=1 / REDRAWS_PER_S,
        )
    except Exception as exc:  # shown in the status line; the run's last state stays on screen
        error = f"{type(exc).__name__}: {exc}"
        post(RunFailed(worker, error, _last_state(engine, error)))


def _train_in_process(config: Config, control: Control, threads: int, post: Callable[[Message], object]) -> None:
    """:func:`train`, with the engine in a child process (same numbers, same messages)."""
    from quadtui.tui import remote

    worker = get_current_worker()
    try:
        remote.train(config, control, threads, 1 / REDRAWS_PER_S, worker.cancelled_event,
                     _paced(lambda snap: post(RunUpdate(worker, snap))))
    except remote.RunFailedError as exc:
        post(RunFailed(worker, exc.error, exc.snapshot))
    except Exception as exc:  # the process could not be started: say so, keep the app
        post(RunFailed(worker, f"{type(exc).__name__}: {exc}"))


def _paced(show: Callable[[Snapshot], object]) -> Callable[[Snapshot], None]:
    """``show``, called only for the snapshots a :class:`FramePacer` says to draw."""
    pacer = FramePacer()

    def maybe_show(snap: Snapshot) -> None:
        if pacer.due(snap):
            show(snap)

    return maybe_show


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
