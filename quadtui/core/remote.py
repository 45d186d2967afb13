"""Training in a child process, so that drawing never takes the GIL from the trainer.

In one process the trainer (a thread issuing thousands of small torch calls a
second) and the UI thread (charts, compositor) share one GIL: ten redraws a
second cost the run about a third of its speed.  Here the run trains in a child
process forked from a fork server that has imported torch and the engine once
(:mod:`quadtui.core.forkserver`, started by :func:`start_server` while the app
paints its first frame), so a run starts in milliseconds.

The child runs :meth:`Engine.run` exactly as the in-thread worker does and ships
each snapshot as a *delta*: the losses and eval points since the previous one,
plus the small per-snapshot arrays (prediction, every hidden layer on the grid,
the weights, dead units) — O(new epochs + grid × units + weights), never
O(history); the last layer is sent once though ``hidden`` and ``layers`` both hold
it, and each timeline checkpoint is sent once, in the first message after it was
kept.  The parent (the Textual thread worker) rebuilds full :class:`Snapshot`
objects from a local :class:`LossHistory` mirror, and forwards the UI's
:class:`Control` requests and the worker's cancel event to the child; among them the
pace at which the UI draws (``Control.pace``), so that the child sends only about the
snapshots the UI will draw (each one dropped would cost it a decode and a mirror update).
Nothing here imports textual (the child never loads it) or, at module level, torch.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from quadtui.core.forkserver import ADDRESS_ENV, Channel, Child, ForkServer, ServerError, restricted
from quadtui.core.forkserver.per_class import class_server

if TYPE_CHECKING:
    from quadtui.core.config import Config
    from quadtui.core.control import Control
    from quadtui.core.snapshot import Snapshot

#: how often the forwarder looks at the cancel event when no request wakes it (s): often while
#: training (a cancelled run stops burning CPU soon; each snapshot that arrives looks too), rarely
#: while paused (idle costs nothing).  Each look costs the UI process ~80 µs of CPU.
POLL, PAUSED_POLL = 0.2, 0.5
#: how long a cancelled child may take to stop on its own before it is killed (s)
CANCEL_GRACE = 0.2

#: the epochs of the fork server's warm-up run: enough for Python to specialize the loop's code
WARM_UP_EPOCHS = 50

_server: ForkServer | None = None
_private: ForkServer | None = None  # beside a class's server: one of this user's, for work that writes files
_server_lock = threading.Lock()


def start_server(function: Callable[..., Any] | None = None) -> ForkServer:
    """Start the fork server (once; again if it died) and wait until it has imported torch and the engine.

    The class's torch server comes first, when the teacher runs one in the class
    folder (``--class DIR`` or ``$QUADTUI_CLASS``): one torch for every student's
    session, whatever their accounts.  Under ``quadtui --serve`` the server named by
    :data:`ADDRESS_ENV` is used: one torch for every browser tab of the class.
    Otherwise (or should those be gone) this user's own server
    (:mod:`quadtui.core.forkserver.per_user`), shared by all their sessions, unless
    sharing is off.  Should none be possible, the app starts one of its own.

    ``function``: what is to be run; a class's server only runs a run, time travel and a
    sweep (its processes are its user's, not ours), so anything else (an export writing
    ``model.pt``) gets one of this user's servers.
    """
    global _server, _private
    with _server_lock:
        if _server is None or not _server.running:
            _server = class_server() or _shared_server() or _own_server()
        if function is None or not _server.stranger or restricted.name_of(function) in restricted.CALLABLE:
            return _server
        if _private is None or not _private.running:
            _private = _shared_server() or _own_server()
        return _private


def _shared_server() -> ForkServer | None:
    from quadtui.core.forkserver.per_user import sharing, user_server

    if not sharing():
        return None
    address = os.environ.get(ADDRESS_ENV)
    if address:
        try:
            return ForkServer.connect(address)
        except ServerError:  # the class's is gone (killed?): the tabs, one user's sessions, share another
            pass
    try:
        return user_server()
    except ServerError:
        return None


def _own_server() -> ForkServer:
    server = ForkServer()
    server.start()
    return server


def warm_up() -> None:
    """Train a few epochs of the default run in the fork server, the way a run's process does.

    Run once, before the server forks anything (see :mod:`quadtui.core.forkserver`):
    the bytecode of the training loop, the optimizer, autograd's Python side, the
    snapshot and its pickling is then specialized in the server, and each run forked
    from it shares those pages instead of writing its own copy of them.  With one
    torch thread, so that no thread pool exists in the process that forks.
    """
    from quadtui.core.config import Config
    from quadtui.core.engine import Engine
    from quadtui.core.threads import set_threads

    set_threads(1)
    ship = _Shipper()

    def ship_nowhere(snap: Snapshot) -> None:
        pickle.dumps(("update", ship.delta(snap)), protocol=pickle.HIGHEST_PROTOCOL)

    Engine(Config(epochs=WARM_UP_EPOCHS)).run(cancel=threading.Event(), on_snapshot=ship_nowhere, interval=0)


def stop_server() -> None:
    """End the fork server and every process it forked (the app is leaving)."""
    global _server, _private
    with _server_lock:
        for server in (_server, _private):
            if server is not None:
                server.stop()
        _server = _private = None


# -- the parent's side ---------------------------------------------------------------------
class RunFailedError(Exception):
    """The run raised (in the child); ``snapshot`` is its state then, if it could be taken."""

    def __init__(self, error: str, snapshot: Snapshot | None) -> None:
        super().__init__(error)
        self.error = error
        self.snapshot = snapshot


def train(
    config: Config,
    control: Control,
    threads: int,
    interval: float,
    cancel: threading.Event,
    on_snapshot: Callable[[Snapshot], None],
) -> float:
    """Train ``config`` in a child process until done, diverged or ``cancel``; snapshots to ``on_snapshot``.

    Returns the CPU seconds the child used.  Raises :class:`RunFailedError` when the
    run fails (or its process dies).
    """
    steps, lr = control.take_steps(sys.maxsize), control.take_lr()
    child = start_server().spawn(_child, config, threads, interval, control.paused, control.speed, steps, lr)
    here = child.channel
    mirror = _Mirror(config)
    stop = threading.Event()
    forwarder = threading.Thread(
        target=_forward, args=(here, control, cancel, stop, child), daemon=True, name="quadtui-forward"
    )
    forwarder.start()
    try:
        while True:
            try:
                data = here.recv_bytes()
            except (EOFError, OSError):
                if cancel.is_set():  # cancelled, and the child was stopped mid-epoch: nothing to report
                    return 0.0
                child.join(5)
                error = f"the training process ended unexpectedly ({how_it_ended(child)})"
                raise RunFailedError(error, mirror.failed(error)) from None
            if cancel.is_set():
                control.wake.set()  # the forwarder: tell the child now, not at its next look
            kind, *body = child.loads(data)
            if kind == "update":
                on_snapshot(mirror.apply(body[0]))
            elif kind == "failed":
                error, delta = body
                raise RunFailedError(error, mirror.apply(delta) if delta is not None else None)
            else:  # "end": the child's CPU seconds
                return float(body[0])
    finally:
        stop.set()
        forwarder.join()
        here.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()


def _forward(conn: Channel, control: Control, cancel: threading.Event, stop: threading.Event, child: Child) -> None:
    """Relay the UI's requests (pause, step, speed, lr, weights set by hand, pace) and the cancel event to the child.

    A cancelled child normally stops within one chunk of epochs; one deep in a long
    epoch (many minibatches of many samples) is killed after :data:`CANCEL_GRACE`:
    a cancelled run has nothing left to say, and quitting must not wait for it.
    """
    # the pace is sent here, not with the spawn: a user's fork server started by an older build
    # still runs this build's runs (a child that knows no pace ignores it)
    state, pace = (control.paused, control.speed), None
    try:
        while not stop.is_set():
            if cancel.is_set():
                conn.send(("cancel",))
                if not stop.wait(CANCEL_GRACE):
                    child.kill()
                return
            # the pace wakes no one (the next look, within POLL, is soon enough); sent first: what the
            # requests below make the child send comes at the new pace
            if control.pace != pace:
                pace = control.pace
                conn.send(("pace", pace))
            steps, lr = control.take_steps(sys.maxsize), control.take_lr()
            now = (control.paused, control.speed)
            if lr is not None:
                conn.send(("lr", lr))
            edits = control.take_edits()
            if edits:
                conn.send(("edit", edits))
            if steps or now != state:
                conn.send(("control", *now, steps))
                state = now
            control.wake.wait(PAUSED_POLL if control.paused else POLL)
            control.wake.clear()
    except OSError:  # the child is gone: the reader says why
        pass


class _Mirror:
    """The parent's copy of the run: full snapshots rebuilt from deltas."""

    def __init__(self, config: Config) -> None:
        from quadtui.core.history import LossHistory
        from quadtui.core.snapshot import new_run_id

        self.run_id = new_run_id()  # one id space with in-process engines: a new run is never mistaken for an old one
        self.config = config
        self.history = LossHistory(config.epochs)
        self.eval_epochs = _frozen(np.zeros(0, dtype=np.int64))
        self.eval_loss = _frozen(np.zeros(0, dtype=np.float32))
        self.data: dict[str, Any] = {}  # the dataset's arrays, by Snapshot field
        self.last: Snapshot | None = None
        from quadtui.core.timeline import ReceivedTimeline

        self.timeline = ReceivedTimeline()

    def apply(self, delta: dict[str, Any]) -> Snapshot:
        from quadtui.core.snapshot import Snapshot

        if delta["config"] is not None:
            self.config = delta["config"]
        if delta["data"] is not None:
            self.data = delta["data"]
        self.history.append(delta["losses"])
        if delta["eval_epochs"].size:
            self.eval_epochs = _frozen(np.concatenate((self.eval_epochs, delta["eval_epochs"])))
            self.eval_loss = _frozen(np.concatenate((self.eval_loss, delta["eval_loss"])))
        fields = {k: delta[k] for k in _PER_SNAPSHOT}
        self.timeline.add(*delta["timeline"])
        self.last = Snapshot(
            run_id=self.run_id,
            config=self.config,
            train_loss=self.history.values,
            history=self.history.frozen(),
            eval_epochs=self.eval_epochs,
            eval_loss=self.eval_loss,
            timeline=self.timeline.frozen(),
            **self.data,
            **fields,
        )
        return self.last

    def failed(self, error: str) -> Snapshot | None:
        from quadtui.core.snapshot import Status

        if self.last is None:
            return None
        return dataclasses.replace(self.last, status=Status.ERROR, error=error)


def call(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a process forked from the fork server; its result, or its exception re-raised.

    For the UI's torch work besides training (writing an export's ``model.pt``): the UI
    process never imports torch.  Blocks until the child is done: call it from a thread.
    """
    child = start_server(function).spawn(_call_child, function, args)
    here = child.channel
    try:
        kind, value = child.loads(here.recv_bytes())
    except (EOFError, OSError, pickle.UnpicklingError):
        child.join(5)
        raise RuntimeError(f"the process working for the app ended unexpectedly ({how_it_ended(child)})") from None
    finally:
        here.close()
        child.join(5)
    if kind == "error":
        raise value
    return value


def how_it_ended(child: Child) -> str:
    """``exit code N``, or why there is none: its fork server died (and took it along)."""
    return "its fork server is gone" if child.exitcode is None else f"exit code {child.exitcode}"


def _call_child(conn: Channel, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    from quadtui.core.process import yield_cpu

    yield_cpu()
    try:
        message: tuple[str, Any] = ("result", function(*args))
    except Exception as exc:
        message = ("error", exc)
    try:
        _send(conn, message)
    except (OSError, pickle.PicklingError):
        _send(conn, ("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]}")))


# -- the child's side ----------------------------------------------------------------------
_PER_SNAPSHOT = (
    "status",
    "epoch",
    "eval_now",
    "prediction",
    "hidden",
    "out_weights",
    "out_bias",
    "epochs_per_s",
    "elapsed",
    "diverged_at",
    "error",
    "weights",
    "lr_schedule",
    "layers",
    "dead",
    "weight_edits",
    "compute_seconds",
)
_PER_RUN = ("grid", "grid_target", "x_samples", "y_samples")


class _Shipper:
    """Turns the child's snapshots into deltas for the parent."""

    def __init__(self) -> None:
        self.losses = self.evals = self.kept = 0
        self.config: Config | None = None

    def delta(self, snap: Snapshot) -> dict[str, Any]:
        first = self.config is None
        out = {k: getattr(snap, k) for k in _PER_SNAPSHOT}
        out["config"] = snap.config if snap.config != self.config else None
        out["data"] = {k: getattr(snap, k) for k in _PER_RUN} if first else None
        out["losses"] = snap.train_loss[self.losses :]
        out["eval_epochs"] = snap.eval_epochs[self.evals :]
        out["eval_loss"] = snap.eval_loss[self.evals :]
        timeline = snap.timeline
        kept = len(timeline) if timeline is not None else 0
        # the checkpoints kept since the last message (like the losses: each is sent once)
        out["timeline"] = (
            (timeline.epochs[self.kept :], timeline.rows[self.kept :])
            if timeline is not None
            else (np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))
        )
        self.config, self.losses, self.evals = snap.config, snap.train_loss.size, snap.eval_epochs.size
        self.kept = kept
        return out


def _child(
    conn: Channel,
    config: Config,
    threads: int,
    interval: float,
    paused: bool,
    speed: float | None,
    steps: int,
    lr: float | None,
) -> None:
    """The run's process: train, ship deltas, obey the parent's requests.

    It trains at the lowest priority (the UIs on the server come first).  The fork server
    gave it its parent-death signal and an output that reaches no terminal.
    """
    from quadtui.core.process import yield_cpu

    yield_cpu()
    from quadtui.core.control import Control
    from quadtui.core.engine import Engine
    from quadtui.core.snapshot import Status
    from quadtui.core.threads import set_threads

    control, cancel = Control(paused=paused, speed=speed), threading.Event()
    if steps:
        control.step(steps)
    if lr is not None:
        control.set_lr(lr)
    threading.Thread(target=_listen, args=(conn, control, cancel), daemon=True).start()
    ship = _Shipper()

    def send(snap: Snapshot) -> None:
        try:
            _send(conn, ("update", ship.delta(snap)))
        except OSError:  # the parent is gone: stop
            cancel.set()

    engine = None
    try:
        if restricted.for_stranger:
            config, threads = _checked(config, threads)
        set_threads(threads)
        engine = Engine(config)
        engine.run(cancel=cancel, control=control, on_snapshot=send, interval=interval)
        message: tuple[Any, ...] = ("end", time.process_time())
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        delta = None
        if engine is not None:
            engine.status, engine.error = Status.ERROR, error
            try:
                delta = ship.delta(engine.snapshot())
            except Exception:
                pass
        message = ("failed", error, delta)
    try:
        _send(conn, message)
    except OSError:
        pass


def _checked(config: Config, threads: int) -> tuple[Config, int]:
    """A stranger's config, checked as the app checks a user's (unpickled, it skipped every check: a frozen
    dataclass's fields are set directly), and held to the server's memory budget and cores."""
    from quadtui.core.budget import estimate, held_here

    config = dataclasses.replace(config)  # every field's rule, again
    return config, held_here(estimate(config), threads)


def _listen(conn: Channel, control: Control, cancel: threading.Event) -> None:
    """Apply the parent's requests to the child's Control.

    A closed pipe means the app is gone (quit, crashed or killed): no one is left to
    report to, so the process ends at once, even deep inside a long epoch — also after a
    cancel (an app that quits cancels its run and leaves without waiting for it).  This
    matters beyond the CPU: every process the fork server forked holds the pipe that
    tells the fork server the app is gone, so a run left going would keep it alive too.
    """
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            os.kill(os.getpid(), signal.SIGKILL)
            return
        try:  # a stranger's requests are read as a stranger's (restricted); one we cannot follow is ignored
            _obey(restricted.loads(data) if restricted.for_stranger else pickle.loads(data), control, cancel)
        except Exception:
            continue


def _obey(request: tuple[Any, ...], control: Control, cancel: threading.Event) -> None:
    """One of the parent's requests, applied to the run."""
    kind, *body = request
    if kind == "cancel":
        cancel.set()
        control.wake.set()  # out of any pause or speed-limit sleep at once
        # still listening: should the app go before this run stops, it ends here at once
    elif kind == "pace":  # seconds between training snapshots; None (or nonsense): the run's own rate
        pace = body[0]
        control.pace = float(pace) if isinstance(pace, (int, float)) and 0 < pace < math.inf else None
    elif kind == "lr":
        control.set_lr(float(body[0]))
    elif kind == "edit":
        control.set_weights(body[0])
    elif kind == "control":
        paused, speed, steps = body
        if speed != control.speed:
            control.set_speed(speed)
        if steps:
            control.step(steps)
        if paused and not control.paused:
            control.pause()
        elif not paused and control.paused:
            control.resume()


def _send(conn: Channel, message: tuple[Any, ...]) -> None:
    """Pickled by value with the plain pickler: no shared-memory or fd-passing reductions (torch
    registers some for multiprocessing), so a message never depends on the child still being there."""
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
