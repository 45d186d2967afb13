"""Tie the app to its user's session: when the session ends, in any way, the app ends too.

On a shared server a UI that outlives its user keeps a core busy for no one (a
known trap of full-screen apps: a hung-up terminal reads as endless EOF).  So:

* SIGTERM and SIGHUP (``kill``, a closed SSH connection, a closed terminal
  window) end the app as ctrl+q does: runs cancelled, terminal restored;
* a terminal that hangs up without a signal (the process was not in the
  terminal's foreground group, or SIGHUP was ignored) is noticed by a thread that
  waits for the hang-up itself (``poll`` reports it; no polling loop);
* a served session (one browser tab under ``--serve``) ends with the server
  process, even when that is killed with SIGKILL.

The exit code is 128 + the signal's number, as a shell reports a process ended by it.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading
from typing import TYPE_CHECKING

from quadtui.core.process import die_with_parent, served_to_browser

if TYPE_CHECKING:
    from textual.app import App

#: the signals that mean "the user's session is over"
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
HANGUP_EXIT = 128 + signal.SIGHUP


def bind_to_session(app: App[int]) -> None:
    """Make ``app`` end with its session (see the module's docstring). Call once, on the app's loop."""
    if app.is_headless:  # App.run_test: the test process owns the signals and has no terminal
        return
    loop = asyncio.get_running_loop()
    for sig in ENDING_SIGNALS:
        loop.add_signal_handler(sig, _end, app, 128 + sig)
    if served_to_browser():
        die_with_parent(signal.SIGTERM)  # the server forked us from its event loop's thread
        return
    try:
        fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
    except (OSError, ValueError):
        fd = -1
    if fd >= 0 and os.isatty(fd):
        threading.Thread(target=_wait_for_hangup, args=(app, fd), name="quadtui-hangup", daemon=True).start()


def _end(app: App[int], code: int) -> None:
    """End the app as ctrl+q would, with ``code`` as its exit code."""
    app.workers.cancel_all()
    app.exit(return_code=code)


def _wait_for_hangup(app: App[int], fd: int) -> None:
    """Block until the terminal on ``fd`` hangs up, then end the app (from this thread)."""
    waiter = select.poll()
    waiter.register(fd, 0)  # no events asked for: poll still reports a hang-up or an error
    while True:
        try:
            events = waiter.poll()
        except InterruptedError:
            continue
        except OSError:
            return
        if any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events):
            break
    try:
        app.call_from_thread(_end, app, HANGUP_EXIT)
    except RuntimeError:  # the app has already ended
        pass
