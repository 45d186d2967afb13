"""The app's side of ``quadtui --serve``: knowing it runs for a browser, in its own folder.

``quadtui --serve`` (:mod:`quadtui.web`) starts one app process per browser tab,
in a new process group, with :data:`SESSION_DIR_ENV` naming the session's own
folder (also its working directory).  That the app ends with its server, even
a killed one, is :mod:`quadtui.tui.session`'s work.  No textual import, nothing heavy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from quadtui.core.process import served_to_browser

#: the session's own folder: every file the student saves or loads lives there
SESSION_DIR_ENV = "QUADTUI_SESSION_DIR"
#: the pid of the ``--serve`` process that started this session
SERVER_PID_ENV = "QUADTUI_SERVER_PID"
#: "1" when the session's folder is temporary (removed when the session ends)
TEMPORARY_ENV = "QUADTUI_SESSION_TEMPORARY"


def session_folder() -> Path | None:
    """The served session's folder, or None in a terminal."""
    folder = os.environ.get(SESSION_DIR_ENV)
    return Path(folder) if folder else None


def in_browser() -> bool:
    """True when this app is drawn in a browser (textual-serve's web driver), not a terminal."""
    return session_folder() is not None or served_to_browser()


def remove_temporary_folder() -> None:
    """A served session's temporary folder goes with it (the server may be gone and unable to)."""
    folder = session_folder()
    if folder is not None and os.environ.get(TEMPORARY_ENV) == "1":
        shutil.rmtree(folder, ignore_errors=True)
