"""One fork server for all of a user's sessions: torch loaded once a user, not once a terminal.

Importing torch costs a fork server ~140 MB of memory of its own, which no fork can
share with another process: it is most of what a session costs.  The sessions of
one user (a class that logs in to one account, a student with two terminals, a
teacher's panes) can share one server: the first session starts it, every later
one connects (:meth:`ForkServer.connect`: its runs are forked in its folder, with
its environment, and end the moment it goes), and the server ends when the last
one has gone.  Students with accounts of their own each get their own, as before:
a server only ever works for its own user.

Where: a folder only the user can enter — ``$XDG_RUNTIME_DIR/quadtui`` (the
login's private runtime folder) or else ``quadtui-<uid>`` in the temporary folder —
checked before use (ours, a real folder, no access for anyone else); one socket
and one lock file per build of quadtui (Python, checkout, torch version), so
two installs never share.  Apps hold the lock while they connect or start the
server, and the server holds it while it decides to leave: no app is left talking
to a server on its way out.  ``QUADTUI_SHARED_TORCH=0`` turns sharing off (each
session starts its own server, as a terminal did before).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from quadtui.core.forkserver.client import PRELOAD, ForkServer, ServerError

#: "0" turns sharing off, for terminals and for ``quadtui --serve`` alike
SHARED_TORCH_ENV = "QUADTUI_SHARED_TORCH"


def sharing() -> bool:
    """Whether sessions share a fork server (on unless :data:`SHARED_TORCH_ENV` is ``0``)."""
    return os.environ.get(SHARED_TORCH_ENV, "1").strip() != "0"


def user_folder() -> Path | None:
    """This user's private folder for shared servers (made if missing), or None if none is safe to use."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and _private(Path(runtime)):
        folder = Path(runtime) / "quadtui"
    else:
        folder = Path(tempfile.gettempdir()) / f"quadtui-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder if _private(folder) else None


def _private(folder: Path) -> bool:
    """A real folder (not a link), ours, that no one else may enter or change."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def build_key(preload: tuple[str, ...]) -> str:
    """What must match for two apps to share a server: the Python, the quadtui checkout, torch, the preload."""
    from importlib import metadata

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "none"
    root = Path(__file__).resolve().parents[3]
    text = "\n".join([sys.executable, str(root), torch_version, *preload])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def user_server(preload: tuple[str, ...] = PRELOAD) -> ForkServer:
    """This user's fork server for this build: connect to it, or start it.  Raises :class:`ServerError`."""
    folder = user_folder()
    if folder is None:
        raise ServerError("no private folder to share a training process server in")
    key = build_key(preload)
    address, lock = str(folder / f"torch-{key}.sock"), str(folder / f"torch-{key}.lock")
    if len(address.encode()) > 100:  # a Unix socket's path is short (108 bytes on Linux)
        raise ServerError(f"the folder for a shared training process server has too long a path: {folder}")
    with _holding(lock):
        try:
            sock = ForkServer.reach(address)
        except ServerError:  # none yet, or one that was killed: a new one, here
            with contextlib.suppress(FileNotFoundError):
                os.unlink(address)
            server = ForkServer(preload, address=address, lock=lock)
            server.start()
            return server
    return ForkServer.greet(sock, address)  # connected under the lock; introduced after it (the server may want it)


@contextlib.contextmanager
def _holding(lock: str) -> Iterator[None]:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
