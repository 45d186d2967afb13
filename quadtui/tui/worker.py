"""The code that runs in the training thread, and the thread that loads torch.

Nothing here imports torch at module level: the first frame is painted before
torch loads (in :func:`load_engine`, started after the first paint).

In a real terminal a run trains in a child process (:mod:`quadtui.core.remote`):
drawing then never takes the GIL from the trainer, so the app trains as fast as
``--headless``.  Under ``App.run_test`` (the tests) it trains in this thread, where
tests can watch and patch the engine; :data:`IN_PROCESS` overrides the choice.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import get_current_worker

from quadtui.core.config import Config
from quadtui.core.pacing import FramePacer
from quadtui.tui.messages import EngineLoaded, RunFailed, RunUpdate

if TYPE_CHECKING:
    from quadtui.core.control import Control
    from quadtui.core.engine import Engine
    from quadtui.core.snapshot import Snapshot

#: at most this many snapshots a second leave the trainer, whatever the epoch rate; fewer when the UI
#: draws fewer (its pacer tells the trainer its pace: :mod:`quadtui.core.pacing`)
REDRAWS_PER_S = 12
#: train in a child process (True), in the worker thread (False), or None: a child process
#: unless the app is headless (``App.run_test``)
IN_PROCESS: bool | None = None


def trains_in_child(app: object) -> bool:
    """Whether ``app`` trains (and does all its torch work) in child processes: in a real terminal, yes."""
    if IN_PROCESS is not None:
        return IN_PROCESS
    return not getattr(app, "is_headless", True)


def _in_process() -> bool:
    """:func:`trains_in_child` for the app of the worker this runs in."""
    node = get_current_worker().node
    return trains_in_child(getattr(node, "app", node))


def load_engine(post: Callable[[Message], object]) -> None:
    """Get torch and the engine ready (in a thread), then say so.

    In a real terminal they are imported by the fork server only, in its own process (the
    other core): the UI process never imports torch, which saves ~150 MB a session on a
    shared server.  Under ``App.run_test`` runs train in a thread here, so here they load.
    """
    try:
        if _in_process():
            from quadtui.core import remote

            remote.start_server()
        else:
            import quadtui.core.engine  # noqa: F401
    except Exception as exc:  # e.g. a broken torch install: tell the user, keep the app
        post(EngineLoaded(error=f"{type(exc).__name__}: {exc}"))
        return
    # the app's long-lived objects (torch's hundreds of thousands too, when it is loaded here):
    # out of every future garbage collection — no GC pauses while drawing, and a faster exit
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
            on_snapshot=_paced(lambda snap: post(RunUpdate(worker, snap)), control),
            interval=1 / REDRAWS_PER_S,
        )
    except Exception as exc:  # shown in the status line; the run's last state stays on screen
        error = f"{type(exc).__name__}: {exc}"
        post(RunFailed(worker, error, _last_state(engine, error)))


def _train_in_process(config: Config, control: Control, threads: int, post: Callable[[Message], object]) -> None:
    """:func:`train`, with the engine in a child process (same numbers, same messages)."""
    from quadtui.core import remote

    worker = get_current_worker()
    try:
        remote.train(
            config,
            control,
            threads,
            1 / REDRAWS_PER_S,
            worker.cancelled_event,
            _paced(lambda snap: post(RunUpdate(worker, snap)), control, whole_process=True),
        )
    except remote.RunFailedError as exc:
        post(RunFailed(worker, exc.error, exc.snapshot))
    except Exception as exc:  # the process could not be started: say so, keep the app
        post(RunFailed(worker, f"{type(exc).__name__}: {exc}"))


def run_job(job: Callable[..., None], args: tuple[Any, ...], arrived: Callable[[tuple[Any, ...]], None]) -> None:
    """``job(send, cancel, *args)`` (a sweep's, :mod:`quadtui.core.sweep.jobs`) for the worker this runs in,
    where its app trains: in a child process (:func:`quadtui.core.streamed.stream`), or here."""
    worker = get_current_worker()
    if _in_process():
        from quadtui.core.streamed import stream

        stream(job, args, worker.cancelled_event, arrived)
    else:
        job(arrived, worker.cancelled_event, *args)


def _paced(
    show: Callable[[Snapshot], object], control: Control, whole_process: bool = False
) -> Callable[[Snapshot], None]:
    """``show``, called only for the snapshots a :class:`FramePacer` says to draw.

    The pacer's pace goes to the trainer (``control.pace``, read by :meth:`Engine.run`, sent on
    to a child process by :mod:`quadtui.core.remote`): it then sends about the snapshots that
    will be drawn, and the UI no longer receives (and, from a child, decodes) those it would drop.
    ``whole_process``: the run trains in a child, so the budget is the UI process's whole CPU
    (in the worker thread, the process's CPU is mostly training: the UI thread's is the budget's).
    """
    pacer = FramePacer(whole_process=whole_process)
    control.pace = pacer.trainer_pace(None)

    def maybe_show(snap: Snapshot) -> None:
        if pacer.due(snap):
            control.pace = pacer.trainer_pace(control.pace)
            show(snap)

    return maybe_show


def _last_state(engine: Engine | None, error: str) -> Snapshot | None:
    """The failed run's state (status error), if the engine can still describe it."""
    if engine is None:
        return None
    from quadtui.core.snapshot import Status

    engine.status, engine.error = Status.ERROR, error
    try:
        return engine.snapshot()
    except Exception:
        return None
