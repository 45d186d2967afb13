"""``quadtui --serve``: the app in a browser, one process per browser tab, via textual-serve.

There is no authentication: anyone who can reach the port gets a quadtui.  So
the server listens on 127.0.0.1 unless ``--host`` says otherwise (and then says
loudly who can reach it); reach it from another machine through an SSH tunnel
(``ssh -L 8000:localhost:8000 server``).  This module checks the flags and
prints; the web server itself is :mod:`quadtui.web.server`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_SESSIONS = 20
MAX_SESSIONS_LIMIT = 1000
INSTALL_HINT = "--serve needs textual-serve: pip install -e '.[web]' in quadtui's folder (or pip install textual-serve)"
_OWN_FLAGS = ("--serve",)
_OWN_OPTIONS = ("--host", "--port", "--max-sessions", "--public-url", "--serve-dir", "--reload-grace")
#: options whose value is a file the sessions must find from their own folders
_FILE_OPTIONS = ("--config", "--lesson")
DEFAULT_RELOAD_GRACE = 60
MAX_RELOAD_GRACE = 3600


def _ascii_whole_number(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None  # not str.isdigit: '²' is a digit to it


def _typed(raw: str) -> str:
    text = raw[:40]
    return text if text and text.isprintable() and text.strip() == text else repr(text)


def parse_port(raw: str | None) -> int:
    """The ``--port`` value; ValueError (one line) if it is not a port number."""
    if raw is None:
        return DEFAULT_PORT
    port = _ascii_whole_number(raw)
    if port is None or not 1 <= port <= 65535:
        raise ValueError(f"--port {_typed(raw)}: not allowed; must be a whole number from 1 to 65535")
    return port


def parse_max_sessions(raw: str | None) -> int:
    """The ``--max-sessions`` value: how many browser tabs may have a quadtui at once."""
    if raw is None:
        return DEFAULT_MAX_SESSIONS
    count = _ascii_whole_number(raw)
    if count is None or not 1 <= count <= MAX_SESSIONS_LIMIT:
        raise ValueError(
            f"--max-sessions {_typed(raw)}: not allowed; must be a whole number from 1 to {MAX_SESSIONS_LIMIT}"
        )
    return count


def parse_reload_grace(raw: str | None) -> int:
    """``--reload-grace``: seconds a session waits for its browser tab to come back (a reload); 0: none."""
    if raw is None:
        return DEFAULT_RELOAD_GRACE
    seconds = _ascii_whole_number(raw)
    if seconds is None or not 0 <= seconds <= MAX_RELOAD_GRACE:
        raise ValueError(
            f"--reload-grace {_typed(raw)}: not allowed; must be a whole number of seconds from 0 to {MAX_RELOAD_GRACE}"
        )
    return seconds


def parse_public_url(raw: str | None) -> str | None:
    """``--public-url``: the address students open (a reverse proxy's), ending in '/'; None: follow each request."""
    if raw is None:
        return None
    parts = urlsplit(raw.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or not raw.strip().isprintable()
        or any(c.isspace() for c in raw.strip())
    ):
        raise ValueError(
            f"--public-url {_typed(raw)}: not allowed; must be an http:// or https:// address, "
            "e.g. https://class.example.org/quadtui/"
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_serve_dir(raw: str | None) -> Path | None:
    """``--serve-dir``: an existing folder this user can write, for the sessions' folders; None: temporary ones."""
    if raw is None:
        return None
    folder = Path(raw).expanduser()
    if not raw.strip() or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--serve-dir {_typed(raw)}: not allowed; must be an existing folder you can write to")
    return folder.resolve()


def app_argv(argv: Sequence[str]) -> list[str]:
    """What each browser tab runs: this quadtui with ``argv`` minus the serve flags.

    A session runs in its own folder, so files named on the command line
    (``--config``, a ``--lesson`` file) are passed on as absolute paths.
    """
    kept: list[str] = []
    skip = file_next = False
    for arg in argv:
        name, has_value, value = arg.partition("=")
        if skip:
            skip = False
        elif file_next:
            file_next = False
            kept.append(_absolute_if_file(arg))
        elif arg in _OWN_FLAGS:
            continue
        elif arg in _OWN_OPTIONS:
            skip = True
        elif has_value and name in _OWN_OPTIONS:
            continue
        elif arg in _FILE_OPTIONS:
            file_next = True
            kept.append(arg)
        elif has_value and name in _FILE_OPTIONS:
            kept.append(f"{name}={_absolute_if_file(value)}")
        else:
            kept.append(arg)
    return [sys.executable, "-m", "quadtui", *kept]


def _absolute_if_file(value: str) -> str:
    """``value`` as an absolute path if it names something here (a lesson may be a shipped name instead)."""
    return os.path.abspath(value) if value and os.path.lexists(value) else value


def is_loopback(host: str) -> bool:
    """True if ``host`` names only this machine's loopback addresses (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def _interface_ipv4() -> list[str]:
    """This machine's IPv4 addresses, one per interface (Linux; empty elsewhere)."""
    try:
        import fcntl
        import struct
    except ImportError:
        return []
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
            except OSError:  # no IPv4 address on this interface
                continue
            found.append(socket.inet_ntoa(packed[20:24]))
    return found


def _interface_ipv6() -> list[str]:
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as fh:
            rows = [line.split() for line in fh]
    except OSError:
        return []
    found = []
    for row in rows:
        address = ipaddress.IPv6Address(int(row[0], 16))
        if not address.is_link_local:
            found.append(str(address))
    return found


def listening_addresses(host: str) -> list[str]:
    """The addresses a server bound to ``host`` answers on, non-loopback first."""
    if host in ("0.0.0.0", "", "::"):
        found = _interface_ipv4() + (_interface_ipv6() if host == "::" else [])
        if not found:
            try:
                found = socket.gethostbyname_ex(socket.gethostname())[2]
            except OSError:
                found = []
    else:
        try:
            found = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
        except (OSError, UnicodeError):
            found = [host]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda a: ipaddress.ip_address(a.split("%")[0]).is_loopback)


def url_for(address: str, port: int) -> str:
    shown = f"[{address}]" if ":" in address else address
    return f"http://{shown}:{port}/"


def exposure_warning(host: str, port: int) -> list[str]:
    """The lines printed before serving on a non-loopback ``host`` (none for a loopback one)."""
    if is_loopback(host):
        return []
    reachable = [a for a in listening_addresses(host) if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "this user"
    lines = [
        f"WARNING: --host {host} is not a loopback address: anyone who can reach this machine on port {port}",
        f"WARNING: gets a quadtui, with no password, running as {user} (each tab may use a core and ~0.5 GB).",
        "WARNING: reachable at " + (", ".join(url_for(a, port) for a in reachable) or f"{host}:{port}"),
        "WARNING: safer: keep the default --host 127.0.0.1 and let students use ssh -L (see the README).",
    ]
    return lines


def serve(
    argv: Sequence[str],
    host: str | None = None,
    port: int = DEFAULT_PORT,
    *,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    public_url: str | None = None,
    serve_dir: Path | None = None,
    reload_grace: int = DEFAULT_RELOAD_GRACE,
) -> int:
    """Serve the app until Ctrl+C or SIGTERM; returns the exit code (2 without textual-serve)."""
    try:
        import aiohttp_jinja2  # noqa: F401  (textual-serve's own dependencies)
        import textual_serve.app_service  # noqa: F401
        import textual_serve.server  # noqa: F401
    except ImportError:
        print(f"quadtui: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    from quadtui.web.server import ClassroomServer

    host = host or DEFAULT_HOST
    for line in exposure_warning(host, port):
        print(f"quadtui: {line}", file=sys.stderr)
    urls = [public_url] if public_url else [url_for(a, port) for a in listening_addresses(host)]
    server = ClassroomServer(
        app_argv(argv),
        host=host,
        port=port,
        max_sessions=max_sessions,
        public_url=public_url,
        serve_dir=serve_dir,
        urls=urls,
        reload_grace=reload_grace,
    )
    try:
        server.serve()
    except OSError as exc:  # the port is taken, or the host is not this machine's
        print(f"quadtui: error: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
