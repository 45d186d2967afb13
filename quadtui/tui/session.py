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

#: once the session is over, the process is gone within this many seconds, whatever is stuck
EXIT_DEADLINE = 0.8
#: what a clean exit would have sent: mouse and paste reports off, cursor shown, main screen back
RESTORE_TERMINAL = b"\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l\x1b[?25h\x1b[?1049l"
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
    """End the app as ctrl+q would, with ``code`` as its exit code — and surely, within :data:`EXIT_DEADLINE`."""
    exit_by_deadline(code)
    app.workers.cancel_all()
    app.exit(return_code=code)


def exit_by_deadline(code: int) -> None:
    """Leave at :data:`EXIT_DEADLINE` should the clean shutdown not be done by then.

    A clean exit restores the terminal, but it can hang where no one is left to see it:
    after ``tmux kill-server`` mid-run the app once lived on under PID 1, its shutdown
    blocked in Textual's ``WriterThread.stop()``, waiting to queue its last write for a
    terminal that had hung up.  The user is gone either way; the fork server and the run
    end when this process does (their channel closes).
    """
    timer = threading.Timer(EXIT_DEADLINE, _leave_now, (code,))
    timer.daemon = True
    timer.start()


def _leave_now(code: int) -> None:
    """Put the terminal (if one is still there) back as the shell expects it, then exit at once."""
    try:
        os.set_blocking(1, False)  # never wait on a terminal that is not reading
        os.write(1, RESTORE_TERMINAL)
    except OSError:
        pass
    os._exit(code)


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
    exit_by_deadline(HANGUP_EXIT)  # even if the app's loop is stuck and never runs _end
    try:
        app.call_from_thread(_end, app, HANGUP_EXIT)
    except RuntimeError:  # the app has already ended
        pass
