"""The app's side of ``quadtui --serve``: knowing it runs for a browser, in its own folder, and dying with its server.

``quadtui --serve`` (:mod:`quadtui.web`) starts one app process per browser tab,
in a new process group, with :data:`SESSION_DIR_ENV` naming the session's own
folder (also its working directory).  This module is what the app process does
with that: no textual import, nothing heavy.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

#: the session's own folder: every file the student saves or loads lives there
SESSION_DIR_ENV = "QUADTUI_SESSION_DIR"
#: the pid of the ``--serve`` process that started this session
SERVER_PID_ENV = "QUADTUI_SERVER_PID"
#: "1" when the session's folder is temporary (removed when the session ends)
TEMPORARY_ENV = "QUADTUI_SESSION_TEMPORARY"
_PR_SET_PDEATHSIG = 1


def session_folder() -> Path | None:
    """The served session's folder, or None in a terminal."""
    folder = os.environ.get(SESSION_DIR_ENV)
    return Path(folder) if folder else None


def in_browser() -> bool:
    """True when this app is drawn in a browser (textual-serve's web driver), not a terminal."""
    return session_folder() is not None or "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def guard_session() -> None:
    """In a served session: end the session's whole process group if its server dies or SIGTERMs it.

    The server ends a session by ending its process group; this covers the
    server itself being killed (even by SIGKILL): the kernel then sends this
    process SIGTERM (a parent-death signal), and the handler takes the fork
    server and any training child with it (and a temporary session folder,
    which the dead server can no longer remove).
    """
    if session_folder() is None:
        return

    def end_group(signum: int, frame: object) -> None:
        try:
            remove_temporary_folder()
            os.killpg(os.getpgid(0), signal.SIGKILL)
        finally:
            os._exit(128 + signum)

    if os.getpgid(0) == os.getpid():  # our own group (the server made it): safe to end it whole
        signal.signal(signal.SIGTERM, end_group)
        signal.signal(signal.SIGHUP, end_group)
    _parent_death_signal(signal.SIGTERM)
    server = os.environ.get(SERVER_PID_ENV, "")
    if server.isdigit() and os.getppid() != int(server):  # the server died before the signal was set
        os.kill(os.getpid(), signal.SIGTERM)


def remove_temporary_folder() -> None:
    """A served session's temporary folder goes with it (the server may be gone and unable to)."""
    folder = session_folder()
    if folder is not None and os.environ.get(TEMPORARY_ENV) == "1":
        shutil.rmtree(folder, ignore_errors=True)


def _parent_death_signal(signum: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the server's own cleanup still ends the session
        pass
