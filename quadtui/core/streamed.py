"""A job that reports as it goes (an in-app sweep), in a process forked from the fork server.

:func:`quadtui.core.remote.train` is this for a run (with pause, step and speed on
top); :func:`stream` is the plain kind: ``job(send, cancel, *args)`` runs in the child,
each ``send(message)`` arrives here as ``on_message(message)``, and the caller's cancel
event reaches the job's.  The UI process so never imports torch for a sweep either.
A cancelled job has :data:`CANCEL_GRACE` seconds to wrap up (a sweep reports its
members as stopped) before it is killed; the app leaving ends it at once.  No textual here.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Any

from quadtui.core.forkserver import Channel, Child

#: how long a cancelled job may take to end on its own before it is killed (s)
CANCEL_GRACE = 0.5
#: how often the watcher looks at the cancel event (s)
POLL = 0.05


def stream(
    job: Callable[..., None], args: tuple[Any, ...], cancel: threading.Event, on_message: Callable[[Any], None]
) -> None:
    """Run ``job(send, cancel, *args)`` in a forked process until it returns; its messages to ``on_message``.

    Should the process not start, or end before the job returned (killed, crashed), ``on_message``
    gets ``("failed", why)``, as a job that failed says it; a cancelled job that was killed says nothing.
    """
    from quadtui.core.remote import how_it_ended, start_server

    try:
        child = start_server(job).spawn(_stream_child, job, args)
    except Exception as exc:  # no process to be had (the server is gone, or it refused): said as a failure
        on_message(("failed", f"{type(exc).__name__}: {exc}"))
        return
    here = child.channel
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(here, child, cancel, done), daemon=True, name="quadtui-stream")
    watcher.start()
    try:
        while True:
            try:
                message = child.loads(here.recv_bytes())
            except (EOFError, OSError, pickle.UnpicklingError):
                if not cancel.is_set():
                    child.join(5)
                    on_message(("failed", f"the sweep's process ended unexpectedly ({how_it_ended(child)})"))
                return
            if message == ("end",):  # the job returned
                return
            on_message(message)
    finally:
        done.set()
        watcher.join()
        here.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()


def _watch(conn: Channel, child: Child, cancel: threading.Event, done: threading.Event) -> None:
    """Pass the cancel on; kill a job that does not end within the grace."""
    while not done.wait(POLL):
        if cancel.is_set():
            try:
                conn.send(("cancel",))
            except OSError:
                return
            if not done.wait(CANCEL_GRACE):
                child.kill()
            return


# -- the child's side ----------------------------------------------------------------------
def _stream_child(conn: Channel, job: Callable[..., None], args: tuple[Any, ...]) -> None:
    from quadtui.core.process import yield_cpu

    yield_cpu()
    cancel = threading.Event()
    threading.Thread(target=_listen, args=(conn, cancel), daemon=True).start()

    def send(message: Any) -> None:
        try:
            conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # the app is gone
            cancel.set()

    job(send, cancel, *args)
    send(("end",))


def _listen(conn: Channel, cancel: threading.Event) -> None:
    """Any message is the cancel (the only request there is: it is not even unpickled); the app gone (its
    end closed) ends the process at once."""
    while True:
        try:
            conn.recv_bytes()
        except (EOFError, OSError):
            os.kill(os.getpid(), signal.SIGKILL)
            return
        cancel.set()
