"""``quadtui --serve``, tested as a browser uses it: HTTP and a websocket to a real server process.

Everything listens on 127.0.0.1 only.  Each server runs in a process group of
its own, each session in one of its own; every test ends what it started.
Processes are counted through /proc (a session's processes share its session id).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest

from quadtui import serve as serve_cli
from quadtui.cli import main

aiohttp = pytest.importorskip("aiohttp", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
pytest.importorskip("textual_serve", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
from quadtui.web.server import ClassroomServer, full_message  # noqa: E402
from quadtui.web.session import MAX_HEIGHT, MAX_WIDTH, clamp_size  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
#: generous bounds for a loaded 2-core machine; the figures measured are far below
START_SECONDS, END_SECONDS = 90.0, 3.0
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts processes through /proc")


# -- processes, through /proc -----------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # state, ppid, pgrp, session, ...


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[1] == str(parent) \
                and fields[0] != "Z":
            found.append(int(entry))
    return found


def in_session(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (a served app, its fork server, its training children)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[3] == str(sid) \
                and fields[0] != "Z":
            found.append(int(entry))
    return found


def training_children(sid: int) -> list[int]:
    """The session's training processes: the children of its fork server."""
    servers = [pid for pid in in_session(sid) if b"forkserver" in _cmdline(pid)]
    return [pid for server in servers for pid in children_of(server)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def wait_for(condition, what: str, seconds: float):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return result


async def settled(condition, what: str, seconds: float):
    """``wait_for`` that lets this test's event loop (its proxy, its websockets) run meanwhile."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class Served:
    """A ``quadtui --serve`` process on a free loopback port; :meth:`end` kills it and every session."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.output = tempfile.TemporaryFile()  # not a pipe: a chatty server must never block on it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quadtui", "--serve", "--host", LOOPBACK, "--port", str(self.port), *args],
            stdout=self.output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.sessions: set[int] = set()
        try:
            wait_for(self._listening, "the server to listen", START_SECONDS)
        except BaseException:
            self.end()
            raise

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            self.output.seek(0)
            raise AssertionError(f"the server exited: {self.output.read().decode(errors='replace')}")
        with socket.socket() as probe:
            return probe.connect_ex((LOOPBACK, self.port)) == 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    def session_pids(self) -> list[int]:
        pids = children_of(self.process.pid)
        self.sessions.update(pids)
        return pids

    def end(self) -> None:
        self.session_pids()
        for pid in (self.process.pid, *self.sessions):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.output.close()


@pytest.fixture(scope="module")
def server():
    """One server for the page and session tests: one place, no reload grace; a run, once F5 starts it, trains on."""
    served = Served("--max-sessions", "1", "--reload-grace", "0", "--epochs", "10000000", "--hidden", "64")
    yield served
    served.end()


async def first_output(ws, least: int = 1000, seconds: float = START_SECONDS) -> bytes:
    """The app's first ``least`` bytes of screen output on the websocket."""
    got = b""
    deadline = time.monotonic() + seconds
    while len(got) < least:
        message = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        if message.type == aiohttp.WSMsgType.BINARY:
            got += message.data
    return got


async def pumped(ws, condition, what: str, seconds: float = START_SECONDS):
    """Wait for ``condition`` while reading the websocket (as a browser does: it answers the server's pings)."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            message = await ws.receive(timeout=0.05)
        except asyncio.TimeoutError:
            continue
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
    return result


async def free_place(http, url: str) -> None:
    """Wait until the server has a free place (an earlier test's session may still be ending)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        async with http.get(url) as reply:
            if reply.status == 200:
                return
        if time.monotonic() > deadline:
            raise AssertionError("the server never had a free place")
        await asyncio.sleep(0.05)


class PortMappingProxy:
    """Like ``ssh -L OTHER:localhost:PORT``: a loopback port of its own that forwards every byte.

    :meth:`drop` cuts every connection at once, as a lost network or a killed browser does.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "PortMappingProxy":
        self.listener = await asyncio.start_server(self._forward, LOOPBACK, 0)
        self.url = f"http://{LOOPBACK}:{self.listener.sockets[0].getsockname()[1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop()
        self.listener.close()
        await self.listener.wait_closed()

    def drop(self) -> None:
        for writer in self.writers:
            writer.transport.abort()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.target_port)
        self.writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


# -- the page ----------------------------------------------------------------------------------
async def test_page_follows_the_request_not_the_bind_address(server):
    async with aiohttp.ClientSession() as http:
        await free_place(http, server.url)
        async with http.get(server.url, headers={"Host": "classroom.example:8443"}) as reply:
            page = await reply.text()
            assert reply.status == 200
        async with http.get(urljoin(server.url, re.search(r'<script src="([^"]+)"', page)[1])) as script:
            assert script.status == 200  # the relative asset URL resolves against the page
    assert "<title>quadtui</title>" in page
    assert str(server.port) not in page and LOOPBACK not in page and "localhost" not in page
    assert 'data-session-websocket-url="ws"' in page  # resolved against the page's own address
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page fetches nothing from elsewhere"
    assert "fonts.googleapis" not in page and "@font-face" not in page
    assert "beforeunload" in page and ".focus()" in page


def test_public_url_puts_every_page_url_under_it():
    made = ClassroomServer(["quadtui"], host=LOOPBACK, port=8000, max_sessions=2,
                           public_url="https://class.example.org/quadtui/")
    assert made.page_urls() == {"static": "https://class.example.org/quadtui/static/",
                                "websocket": "wss://class.example.org/quadtui/ws",
                                "download": "https://class.example.org/quadtui/download/"}
    plain = ClassroomServer(["quadtui"], host=LOOPBACK, port=8000, max_sessions=2)
    assert plain.page_urls() == {"static": "static/", "websocket": "ws", "download": "download/"}


@pytest.mark.parametrize("raw,parsed", [
    ("https://class.example.org/quadtui", "https://class.example.org/quadtui/"),
    ("http://10.0.0.5:8080/", "http://10.0.0.5:8080/"),
])
def test_public_url_is_normalised(raw, parsed):
    assert serve_cli.parse_public_url(raw) == parsed


# -- a session: through a tunnel, capped, sized, ended with its browser ------------------------
@needs_proc
async def test_a_session_through_a_port_mapping_proxy_is_capped_sized_trains_on_f5_and_ends_with_its_browser(
        server):
    async with PortMappingProxy(server.port) as proxy, aiohttp.ClientSession() as http:
        page_url = proxy.url  # a port the server never heard of
        await free_place(http, page_url)
        async with http.get(page_url) as reply:
            page = await reply.text()
        socket_url = urljoin(page_url, re.search(r'data-session-websocket-url="([^"]+)"', page)[1])
        async with http.ws_connect(socket_url + "?width=2000&height=1000") as ws:
            assert b"\x1b[" in await first_output(ws)  # the app draws, through the proxy
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            env = environment_of(pid)
            assert (int(env["COLUMNS"]), int(env["ROWS"])) == (MAX_WIDTH, MAX_HEIGHT) == (300, 100)
            folder = Path(env["QUADTUI_SESSION_DIR"])
            assert folder.is_dir() and os.readlink(f"/proc/{pid}/cwd") == str(folder)
            # the next browser is told the server is full, on the page and on the websocket
            async with http.get(page_url) as reply:
                assert reply.status == 503 and full_message(1) in await reply.text()
            async with http.ws_connect(socket_url) as second:
                closing = await asyncio.wait_for(second.receive(), 30)
                while closing.type == aiohttp.WSMsgType.BINARY:
                    closing = await asyncio.wait_for(second.receive(), 30)
                assert closing.type == aiohttp.WSMsgType.CLOSE and "in use" in closing.extra
            assert not training_children(pid)
            await ws.send_json(["stdin", "\x1b[15~"])  # F5, as the browser's terminal sends it
            await pumped(ws, lambda: training_children(pid), "F5 to start a run (a training child)")
        closed = time.monotonic()  # the browser is gone: the whole group must follow
        await settled(lambda: not in_session(pid), "the session's processes to end", END_SECONDS)
        print(f"session ended {time.monotonic() - closed:.2f} s after its websocket closed")
        await settled(lambda: not folder.exists(), "the session's temporary folder to go", END_SECONDS)
        async with http.get(page_url) as reply:  # the place is free again
            assert reply.status == 200


async def screen_shows(ws, text: bytes, seconds: float) -> bool:
    """Read the app's output for up to ``seconds``; True once ``text`` has been drawn."""
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message = await ws.receive(timeout=0.05)
        except asyncio.TimeoutError:
            continue
        if message.type == aiohttp.WSMsgType.BINARY:
            seen = (seen + message.data)[-200_000:]
            if text in seen:
                return True
    return False


@needs_proc
async def test_an_export_arrives_as_a_browser_download(server):
    async with aiohttp.ClientSession() as http:
        await free_place(http, server.url)
        async with http.ws_connect(server.url + "ws?width=120&height=40") as ws:
            await first_output(ws)
            await ws.send_json(["stdin", "\x1b[15~"])  # F5: train
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            await pumped(ws, lambda: training_children(pid), "the run to start")
            await ws.send_json(["stdin", "\x1b[17~\x1b[18~"])  # F6 pause, F7 one more epoch: the app idles
            for _ in range(60):  # F4 (export) once the run has a first epoch on screen; bounded
                await ws.send_json(["stdin", "\x1bOS"])
                if await screen_shows(ws, b"Export the run", 2):
                    break
            else:
                raise AssertionError("the export question never came")
            await ws.send_json(["stdin", "run1\r"])  # typed after the default name; Enter
            key = None
            deadline = time.monotonic() + START_SECONDS
            while key is None and time.monotonic() < deadline:
                message = await ws.receive(timeout=START_SECONDS)
                if message.type == aiohttp.WSMsgType.TEXT and message.json()[0] == "deliver_file_start":
                    key = message.json()[1]
            assert key, "no download was offered"
            async with http.get(urljoin(server.url, f"download/{key}")) as reply:
                assert reply.status == 200 and "attachment" in reply.headers["Content-Disposition"]
                assert reply.headers["Content-Disposition"].endswith("run1.zip")
                data = await reply.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert any(name.endswith("/config.toml") for name in archive.namelist())
        assert b"epochs = 10000000" in next(archive.read(n) for n in archive.namelist() if n.endswith("config.toml"))


@needs_proc
async def test_a_dropped_connection_ends_its_session(server):
    async with PortMappingProxy(server.port) as proxy, aiohttp.ClientSession() as http:
        await free_place(http, proxy.url)
        async with http.ws_connect(proxy.url + "ws") as ws:
            await first_output(ws)
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            dropped = time.monotonic()
            proxy.drop()  # no close frame: the connection is simply gone
            await settled(lambda: not in_session(pid), "the session's processes to end", END_SECONDS)
            print(f"session ended {time.monotonic() - dropped:.2f} s after its connection dropped")


def test_browser_sizes_are_clamped():
    assert clamp_size(2000, 1000) == (300, 100)
    assert clamp_size("120", "40") == (120, 40)
    assert clamp_size("²", None) == (80, 24)
    assert clamp_size(-5, "9" * 40) == (10, 24)


async def session_token(ws) -> str:
    """The token the server gives this tab's session (the page keeps it, to come back after a reload)."""
    message = await ws.receive(timeout=START_SECONDS)
    assert message.type == aiohttp.WSMsgType.TEXT and message.json()[0] == "quadtui_session", message
    return message.json()[1]  # the first message, before any of the app's output


@needs_proc
async def test_a_reloaded_tab_gets_its_session_back_within_the_grace_period_and_not_after():
    grace = 5
    served = Served("--max-sessions", "1", "--reload-grace", str(grace), "--epochs", "10000000")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(served.url + "ws/new?width=100&height=30") as ws:
                token = await session_token(ws)
                await first_output(ws)
                (pid,) = await pumped(ws, served.session_pids, "the session's process", 10)
                await ws.send_json(["stdin", "\x1b[15~"])  # F5: a run to come back to
                await pumped(ws, lambda: training_children(pid), "the run to start")
                await ws.send_json(["stdin", "\x1b[17~"])  # F6: paused, it waits for us (and spares the CPU)
            # the tab reloads: the same token, a new websocket
            async with http.ws_connect(served.url + f"ws/{token}?width=100&height=30") as ws:
                assert await session_token(ws) == token
                assert await screen_shows(ws, b" settings ", START_SECONDS), "the app did not redraw for the new tab"
                assert served.session_pids() == [pid] and training_children(pid)  # the same app, its run still there
            closed = time.monotonic()
            await settled(lambda: in_session(pid) == [], "the session to end after its grace", grace + 10)
            kept = time.monotonic() - closed
            print(f"a closed tab's session kept {kept:.2f} s (grace {grace} s)")
            assert kept >= grace - 1
            await free_place(http, served.url)  # the ended session's place is given back
            async with http.ws_connect(served.url + f"ws/{token}") as ws:  # too late: a new session
                assert await session_token(ws) != token
    finally:
        served.end()


# -- the server's end ends every session -------------------------------------------------------
@needs_proc
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_the_servers_end_ends_its_sessions(how):
    served = Served("--max-sessions", "2")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(served.url + "ws?width=80&height=24") as ws:
                await first_output(ws)
                (pid,) = await pumped(ws, served.session_pids, "the session's process", 10)
                os.kill(served.process.pid, how)
                wait_for(lambda: not in_session(pid), "the session to end with its server", 10)
    finally:
        served.end()


# -- flags -------------------------------------------------------------------------------------
def test_bad_port_from_the_issue_is_one_line():
    out = subprocess.run([sys.executable, "-m", "quadtui", "--serve", "--port", "²"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == "quadtui: error: --port ²: not allowed; must be a whole number from 1 to 65535\n"


@pytest.mark.parametrize("args,line", [
    (["--port", "0"], "--port 0: not allowed; must be a whole number from 1 to 65535"),
    (["--port", "65536"], "--port 65536: not allowed; must be a whole number from 1 to 65535"),
    (["--port", "80.5"], "--port 80.5: not allowed; must be"),
    (["--port", "٨٠"], "--port ٨٠: not allowed; must be"),  # Arabic-Indic digits: int() takes them, we do not
    (["--port", ""], "--port '': not allowed; must be"),
    (["--max-sessions", "0"], "--max-sessions 0: not allowed; must be a whole number from 1 to 1000"),
    (["--reload-grace", "-1"], "--reload-grace -1: not allowed; must be a whole number of seconds from 0 to 3600"),
    (["--public-url", "ftp://x"], "--public-url ftp://x: not allowed; must be an http:// or https:// address"),
    (["--serve-dir", "/nonexistent/quadtui"], "--serve-dir /nonexistent/quadtui: not allowed; must be an existing"),
])
def test_bad_serve_flags_are_one_line(capsys, args, line):
    assert main(["--serve", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("quadtui: error: ") and line in err


@pytest.mark.parametrize("flag", ["--max-sessions=3", "--public-url=http://x/", "--serve-dir=.", "--reload-grace=0"])
def test_serve_flags_need_serve(capsys, flag):
    assert main([flag]) == 2
    assert f"{flag.split('=')[0]} needs --serve" in capsys.readouterr().err


@pytest.fixture
def recorded(monkeypatch):
    """serve() without serving: the ClassroomServer it would run."""
    made: list[ClassroomServer] = []
    monkeypatch.setattr(ClassroomServer, "serve", lambda self, debug=False: made.append(self))
    return made


def test_each_tab_runs_quadtui_with_the_other_flags(recorded, tmp_path):
    assert main(["--serve", "--lr", "0.1", "--port", "8123", "--max-sessions=3", "--serve-dir", str(tmp_path),
                 "--lesson", "too-high-learning-rate", "--public-url", "https://x.example/q"]) == 0
    (made,) = recorded
    assert (made.host, made.port, made.max_sessions, made.serve_dir) == (LOOPBACK, 8123, 3, tmp_path.resolve())
    assert made.argv == [sys.executable, "-m", "quadtui", "--lr", "0.1", "--lesson", "too-high-learning-rate"]
    assert made.public_base == "https://x.example/q/"


def test_files_named_for_the_sessions_are_passed_on_as_absolute_paths(recorded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "class.toml").write_text("hidden = 5\n")
    assert main(["--serve", "--config", "class.toml", "--lesson=how-many-neurons"]) == 0
    (made,) = recorded
    assert made.argv[3:] == ["--config", str(tmp_path / "class.toml"), "--lesson=how-many-neurons"]


# -- a non-loopback host -----------------------------------------------------------------------
@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.0.2.1", False),
])
def test_loopback_hosts(host, loopback):
    assert serve_cli.is_loopback(host) is loopback


def _primary_address() -> str | None:
    """The address this machine would send from (a UDP connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return None


def test_every_interface_warns_with_the_real_addresses():
    lines = serve_cli.exposure_warning("0.0.0.0", 8000)
    text = "\n".join(lines)
    assert lines and all(line.startswith("WARNING: ") for line in lines)
    assert "no password" in text and "localhost" not in text and "http://0.0.0.0" not in text
    primary = _primary_address()
    if primary and not primary.startswith("127."):
        assert f"http://{primary}:8000/" in text
    assert serve_cli.exposure_warning(LOOPBACK, 8000) == []


def test_a_non_loopback_host_warns_before_anything_listens():
    port = free_port()  # 192.0.2.1 is a documentation address: nothing can listen on it here
    out = subprocess.run([sys.executable, "-m", "quadtui", "--serve", "--host", "192.0.2.1", "--port", str(port)],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = out.stderr.splitlines()
    assert lines[0].startswith("quadtui: WARNING: --host 192.0.2.1 is not a loopback address")
    assert f"http://192.0.2.1:{port}/" in out.stderr
    assert out.returncode == 1 and lines[-1].startswith(f"quadtui: error: cannot serve on 192.0.2.1:{port}: ")
