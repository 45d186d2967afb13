"""Served to a browser, each student's files stay in their own session folder and come to them as downloads.

``quadtui --serve`` runs every browser tab's app in a folder of its own
(:func:`quadtui.served.session_folder`, also its working directory).  There,
every path the student types (save, load, export) must lie inside that folder:
anything else — an absolute path, ``..``, a symlink out — is refused with one
line, because the app acts with the teacher's account.  What the student saves
is also sent to their browser as a download (Textual's ``deliver_binary``),
since the folder is on the server; an export folder arrives as one zip file.
In a terminal nothing here changes anything.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from textual.app import App

from quadtui.served import session_folder

#: an export bigger than this is not zipped into memory for the browser (it stays in the session folder)
MAX_DOWNLOAD = 64 * 1024 * 1024


def inside_session(path: str) -> Path | None:
    """``path`` as an absolute path inside the session folder, or None if it leads outside (or not served)."""
    folder = session_folder()
    if folder is None:
        return None
    root = Path(os.path.realpath(folder))
    try:
        target = Path(os.path.realpath(root / Path(path)))  # an absolute path replaces root: then it is outside
    except (OSError, ValueError):
        return None
    return target if target == root or root in target.parents else None


def confined(app: App[Any], path: str | None) -> str | None:
    """``path`` if the app may use it; served and outside the session folder: one line, and None."""
    if path is None or session_folder() is None:
        return path
    if not path.startswith("~") and inside_session(path) is not None:  # "~/x" would be the teacher's home
        return path
    shown = path if len(path) <= 60 and path.isprintable() else repr(path[:60])
    app.notify(
        f"{shown}: not allowed here; files live in your own session folder: give a plain name such as quadtui.toml",
        title="Outside your folder",
        severity="error",
        timeout=8,
        markup=False,
    )
    return None


def download_name(name: str) -> str:
    """A file name safe for a download's header: letters, digits, '.', '-' and '_' only."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "quadtui"
    return safe[:100]


def deliver(app: App[Any], written: Path) -> bool:
    """Served: send ``written`` (a file, or an export folder as a zip) to the browser; True if it went."""
    if session_folder() is None or not getattr(app, "browser", False):
        return False
    if written.is_dir():
        data = zip_folder(written)
        if data is None:
            return False
        app.deliver_binary(
            io.BytesIO(data), save_filename=download_name(written.name) + ".zip", mime_type="application/zip"
        )
    else:
        app.deliver_binary(written, save_filename=download_name(written.name))
    return True


def zip_folder(folder: Path) -> bytes | None:
    """The files directly in ``folder`` as a zip (None if they are too big for a download)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    if sum(p.stat().st_size for p in files) > MAX_DOWNLOAD:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, f"{folder.name}/{path.name}")
    return buffer.getvalue()
