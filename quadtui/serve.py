"""``quadtui --serve``: the app in a browser, one process per browser tab, via textual-serve.

There is no authentication: anyone who can reach the port gets a quadtui.  So
the server listens on 127.0.0.1 unless ``--host`` says otherwise; reach it from
another machine through an SSH tunnel (``ssh -L 8000:localhost:8000 server``).
"""

from __future__ import annotations

import shlex
import socket
import sys
from typing import Sequence

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
INSTALL_HINT = "--serve needs textual-serve: pip install -e '.[web]' in quadtui's folder (or pip install textual-serve)"
_OWN_FLAGS = ("--serve",)
_OWN_OPTIONS = ("--host", "--port")


def parse_port(raw: str | None) -> int:
    """The ``--port`` value; ValueError (one line) if it is not a port number."""
    if raw is None:
        return DEFAULT_PORT
    port = int(raw) if raw.strip().isdigit() else 0
    if not 1 <= port <= 65535:
        raise ValueError(f"--port {raw[:40]}: not allowed; must be a whole number from 1 to 65535")
    return port


def app_command(argv: Sequence[str]) -> str:
    """The shell command each browser tab runs: this quadtui with ``argv`` minus the serve flags."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _OWN_FLAGS:
            continue
        elif arg in _OWN_OPTIONS:
            skip = True
        elif arg.split("=", 1)[0] in _OWN_OPTIONS:
            continue
        else:
            kept.append(arg)
    return shlex.join([sys.executable, "-m", "quadtui", *kept])


def public_url(host: str, port: int) -> str | None:
    """The address to tell browsers; None lets textual-serve use ``http://host:port``."""
    if host in ("0.0.0.0", "::", ""):  # every interface: name the machine, not the wildcard
        return f"http://{socket.getfqdn()}:{port}"
    return None


def serve(argv: Sequence[str], host: str | None = None, port: int = DEFAULT_PORT) -> int:
    """Serve the app until Ctrl+C; returns the exit code (2 without textual-serve)."""
    try:
        from textual_serve.server import Server
    except ImportError:
        print(f"quadtui: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    host = host or DEFAULT_HOST
    server = Server(app_command(argv), host=host, port=port, title="quadtui", public_url=public_url(host, port))
    try:
        server.serve()
    except OSError as exc:  # the port is taken, or the host is not this machine's
        print(f"quadtui: error: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
