"""What the command line needs of the terminal: is there one for the app; ctrl+c and a progress bar for headless."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from quadtui.core.process import yield_cpu

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

T = TypeVar("T")


NO_TERMINAL = "no terminal: use ssh -t, or --headless"


def missing_terminal() -> str | None:
    """Why the full-screen app cannot run here (one line), or None when it can.

    The app reads keys from stdin and draws on stdout/stderr: without a terminal on all
    three (``ssh host quadtui`` without ``-t``, a pipe, a cron job) it could never be
    quit and would outlive its user.  ``TERM=dumb`` cannot draw it either.  A session
    served to a browser (``--serve``) talks to its server through pipes: that is fine.
    """
    from quadtui.core.process import served_to_browser

    if served_to_browser():
        return None
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            if stream is None or not os.isatty(stream.fileno()):
                return NO_TERMINAL
        except (OSError, ValueError, AttributeError):
            return NO_TERMINAL
    if os.environ.get("TERM", "") in ("dumb", "unknown"):
        return f"TERM={os.environ['TERM']} cannot draw the app: use a real terminal, or --headless"
    return None


#: the signals that stop a headless run: ctrl+c, ``kill``/``timeout``, a closed terminal or SSH connection
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: how long a stopped run may take to reach the end of its epoch before it is left behind (s)
STOP_GRACE = 0.4


class Stop(threading.Event):
    """Set by the first stop signal; ``reason`` names it ("ctrl+c", "SIGTERM", "SIGHUP")."""

    reason = ""


@contextmanager
def interruptible() -> Iterator[Stop]:
    """A :class:`Stop` the first stop signal sets (the run stops cleanly); a second one interrupts at once."""
    stop = Stop()

    def stopped(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.reason = "ctrl+c" if signum == signal.SIGINT else signal.Signals(signum).name
        stop.set()

    previous = {sig: signal.signal(sig, stopped) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def finish_or_stop(
    work: Callable[[], T], stop: threading.Event, grace: float | None = STOP_GRACE
) -> tuple[bool, T | None]:
    """Run ``work`` in a thread until it returns, or until ``stop`` is set and ``grace`` seconds have passed.

    A stopped run ends at the end of its current chunk of epochs; one deep inside a long
    epoch cannot be interrupted there, and the user must not wait for it (``timeout``
    would kill the process and lose the summary).  ``grace=None`` waits for the work to
    end.  Returns ``(True, result)`` or, when the work was left behind, ``(False, None)``.
    The work's exception is raised here.  The thread trains at the lowest priority
    (batch work: on a shared server every interactive session comes first); the
    calling thread keeps its own.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        yield_cpu(this_thread_only=True)
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="quadtui-train", daemon=True)
    thread.start()
    while thread.is_alive() and not stop.wait(0.1):
        pass
    thread.join(grace if stop.is_set() else None)
    if thread.is_alive():
        return False, None
    if "error" in outcome:
        raise outcome["error"]
    return True, outcome["result"]


def stderr_progress(*columns: str | ProgressColumn) -> Progress:
    """A transient progress bar on stderr, drawn only when stderr is a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    err = Console(stderr=True)
    return Progress(
        *columns[:1],
        BarColumn(),
        *columns[1:],
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
