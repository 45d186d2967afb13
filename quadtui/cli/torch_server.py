"""``--class DIR --torch-server``: one torch for a whole class, whatever accounts its students log in with.

Each session's runs are forked from a fork server that has imported torch once
(:mod:`quadtui.core.forkserver`).  A user's sessions share one; but students with
accounts of their own each start their own, and torch's ~140 MB of private memory
a process is then most of what a student costs (~200 MB a session).  The teacher
runs this in the class folder instead: every student's session whose class folder
it is (``$QUADTUI_CLASS`` or ``--class DIR``) finds ``DIR/torch.sock`` and has its
runs forked there — ~70 MB a session.

Safety, since the server works for other users: a session trusts the socket only
if the process behind it runs as the class folder's owner; the server reads what
sessions send with a restricted unpickler (no function runs but a run's and time
travel's), checks each run's config and memory budget again, caps each account's
processes, and runs them in ``/`` with its own environment: they write no files
(a session exports with its own user's server).  Each process ends with its
session, and all of them with this command (ctrl+c, SIGTERM, SIGHUP, or the
server's death).
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
from pathlib import Path

EXIT_OK, EXIT_FAILED = 0, 1


def run_torch_server(folder: Path) -> int:
    """Serve the class in ``folder`` until ctrl+c, SIGTERM or SIGHUP; 1 (with one line) if it cannot."""
    from quadtui.core.forkserver import ForkServer, ServerError
    from quadtui.core.forkserver.per_class import CLASS_SOCKET

    address = folder / CLASS_SOCKET
    problem = _check(folder, address)
    if problem is not None:
        print(f"quadtui: error: --torch-server: {problem}", file=sys.stderr)
        return EXIT_FAILED
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    server = ForkServer(address=str(address), for_class=True)
    try:
        server.start()
    except ServerError as exc:
        print(f"quadtui: error: --torch-server: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"quadtui: the class's torch server runs in {folder.resolve()} (pid {server.pid}): every session with this "
        "class folder ($QUADTUI_CLASS or --class) trains in processes forked from it. ctrl+c ends it.",
        flush=True,
    )
    try:
        while server.running and not stop.wait(0.5):
            pass
    finally:
        server.stop()
    if not stop.is_set():
        print("quadtui: error: --torch-server: the server ended unexpectedly", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _check(folder: Path, address: Path) -> str | None:
    """Why a class server cannot run in ``folder`` (None: it can; a stale socket is removed)."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    if info.st_uid != os.getuid():
        return f"{folder} is not yours: run it as the folder's owner (sessions trust only the owner's server)"
    try:
        there = os.lstat(address)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{address}: {exc.strerror or exc}"
    if not stat.S_ISSOCK(there.st_mode):
        return f"{address} is in the way (not a socket): remove it first"
    if _answers(address):
        return f"a torch server already runs in {folder}"
    address.unlink()  # a server's that was killed (or anyone's: the folder's owner may remove it)
    return None


def _answers(address: Path) -> bool:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(address))
        except OSError:
            return False
    return True
