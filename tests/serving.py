"""Helpers for the ``quadtui --serve`` tests: a real server, its sessions seen through /proc, a browser's waits.

Everything listens on 127.0.0.1 only.  Each server runs in a process group of
its own, each session in one of its own; :meth:`Served.end` ends them all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest

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
    return text[text.rindex(")") + 2 :].split()  # state, ppid, pgrp, session, ...


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if (
            entry.isdigit()
            and (fields := _stat(int(entry))) is not None
            and fields[1] == str(parent)
            and fields[0] != "Z"
        ):
            found.append(int(entry))
    return found


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[1])


def in_session(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (a served app, its fork server, its training children)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[3] == str(sid) and fields[0] != "Z":
            found.append(int(entry))
    return found


def fork_servers() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and b"forkserver" in _cmdline(int(entry))]


def training_children(app: int) -> list[int]:
    """A served app's training processes: forked for it by the class's shared fork server, in the app's
    folder (or by a fork server of its own, in its session, should the shared one be missing)."""
    folder = _cwd(app)
    return [
        pid
        for server in fork_servers()
        for pid in children_of(server)
        if server in in_session(app) or (folder is not None and _cwd(pid) == folder)
    ]


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


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
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QUADTUI_SHARED_TORCH": "1"}  # one torch for the class
        self.output = tempfile.TemporaryFile()  # noqa: SIM115  (open while it runs) not a pipe: a chatty server must never block on it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quadtui", "--serve", "--host", LOOPBACK, "--port", str(self.port), *args],
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
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
        """The served apps (the server's children but its shared fork server)."""
        pids = [pid for pid in children_of(self.process.pid) if b"forkserver" not in _cmdline(pid)]
        self.sessions.update(pids)
        return pids

    def fork_server(self) -> int:
        """The class's shared fork server: one torch for every session."""
        (pid,) = [pid for pid in children_of(self.process.pid) if b"forkserver" in _cmdline(pid)]
        return pid

    def end(self) -> None:
        """As a teacher's SIGTERM (every session ends and removes its folder), then SIGKILL for what is left."""
        self.session_pids()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
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
        self.forwarding: set[asyncio.Task] = set()

    async def __aenter__(self) -> PortMappingProxy:
        self.listener = await asyncio.start_server(self._forward, LOOPBACK, 0)
        self.url = f"http://{LOOPBACK}:{self.listener.sockets[0].getsockname()[1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop()
        self.listener.close()
        await self.listener.wait_closed()
        if self.forwarding:  # each ends once its connections are cut: none is left for the loop to cancel
            await asyncio.wait(self.forwarding, timeout=10)

    def drop(self) -> None:
        for writer in self.writers:
            writer.transport.abort()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.forwarding.add(task)
            task.add_done_callback(self.forwarding.discard)
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


async def session_token(ws) -> str:
    """The token the server gives this tab's session (the page keeps it, to come back after a reload)."""
    message = await ws.receive(timeout=START_SECONDS)
    assert message.type == aiohttp.WSMsgType.TEXT and message.json()[0] == "quadtui_session", message
    return message.json()[1]  # the first message, before any of the app's output
