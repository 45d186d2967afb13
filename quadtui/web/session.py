"""One browser tab's quadtui: a process group of its own, in a folder of its own, ended with its websocket.

textual-serve's ``AppService`` starts the app through a shell in the server's
own process group and, when the browser leaves, asks it to quit and waits for
as long as that takes.  A classroom needs more: the app and its training (forked
for it by the class's shared fork server, which ends it the moment the app's end
closes) are ended together, at once, whatever state they are in; a
server killed outright takes them along (:func:`quadtui.served.guard_session`);
and each session works in its own folder, removed at the end unless the
teacher chose where sessions live (``--serve-dir``).

A session outlives its websocket for a short grace period (a reload, a network
blip): :meth:`Session.detach` keeps the app running with its output dropped,
:meth:`Session.attach` hands it a new websocket and has it redraw.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual_serve.app_service import AppService

from quadtui.served import SERVER_PID_ENV, SESSION_DIR_ENV, TEMPORARY_ENV

#: the terminal size a browser may ask for; a bigger one is cut to this (drawing cost grows with the area)
MAX_WIDTH, MAX_HEIGHT = 300, 100
MIN_WIDTH, MIN_HEIGHT = 10, 4
#: what a browser that gives no (or a garbled) size gets
DEFAULT_SIZE = (80, 24)
_numbers = itertools.count(1)


def clamp_size(width: object, height: object) -> tuple[int, int]:
    """A browser's requested terminal size as a sane one: whole numbers within the limits."""

    def whole(value: object, default: int) -> int:
        try:
            return int(str(value).strip()) if len(str(value)) <= 12 else default
        except ValueError:
            return default

    return (
        min(max(whole(width, DEFAULT_SIZE[0]), MIN_WIDTH), MAX_WIDTH),
        min(max(whole(height, DEFAULT_SIZE[1]), MIN_HEIGHT), MAX_HEIGHT),
    )


def new_folder(parent: Path | None) -> Path:
    """A fresh, private folder for one session (under ``parent``, or the system's temporary folder)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"quadtui-session-{stamp}-", dir=parent))


async def _dropped(data: object = None) -> None:
    """Where a detached session's output goes: nowhere (the app redraws on attach)."""


class Session(AppService):
    """A quadtui process for one websocket at a time; :meth:`stop` ends its whole process group."""

    def __init__(self, argv: Sequence[str], folder: Path, *, keep_folder: bool, **kwargs: object) -> None:
        super().__init__(" ".join(argv), write_bytes=_dropped, write_str=_dropped, close=_dropped, **kwargs)  # type: ignore[arg-type]
        self.argv = list(argv)
        self.folder = folder
        self.keep_folder = keep_folder
        self.number = next(_numbers)
        #: what the browser's page keeps (per tab) to come back to this session after a reload
        self.token = secrets.token_urlsafe(18)
        self.pid: int | None = None
        self.websocket: Any = None
        self.finished = asyncio.Event()  # the app's output has ended: it quit or died
        self._size = DEFAULT_SIZE
        self._stopping: asyncio.Future[None] | None = None  # the session's ending, once asked for

    # -- which websocket sees the app ------------------------------------------------------------
    def attach(self, websocket: Any) -> None:
        """Send the app's output to ``websocket`` (and take its keys) from now on."""
        self.websocket = websocket
        self.remote_write_bytes = self._to_websocket_bytes
        self.remote_write_str = self._to_websocket_str
        self.remote_close = self._close_websocket

    def detach(self) -> None:
        """No websocket: the app runs on, its output dropped, until attached again or stopped."""
        self.websocket = None
        self.remote_write_bytes = self.remote_write_str = self.remote_close = _dropped

    async def _to_websocket_bytes(self, data: bytes) -> None:
        websocket = self.websocket
        if websocket is not None and not websocket.closed:
            try:
                await websocket.send_bytes(data)
            except (ConnectionError, RuntimeError):  # closing under us: the output is dropped, the relay lives
                pass

    async def _to_websocket_str(self, data: str) -> None:
        websocket = self.websocket
        if websocket is not None and not websocket.closed:
            try:
                await websocket.send_str(data)
            except (ConnectionError, RuntimeError):
                pass

    async def _close_websocket(self) -> None:
        websocket = self.websocket
        if websocket is not None and not websocket.closed:
            await websocket.close()

    async def set_terminal_size(self, width: int, height: int) -> None:
        self._size = (width, height)
        await super().set_terminal_size(width, height)

    async def redraw(self, width: int, height: int) -> None:
        """Have the app draw its whole screen again, at this size (for a browser that has just attached).

        The app (in a browser) repaints everything when its terminal gets the focus.
        """
        await self.set_terminal_size(width, height)
        await self.focus()

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        environment = self._build_environment(width=width, height=height)
        environment[SESSION_DIR_ENV] = str(self.folder)
        environment[SERVER_PID_ENV] = str(os.getpid())
        environment[TEMPORARY_ENV] = "0" if self.keep_folder else "1"
        self._size = (width, height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            cwd=self.folder,
            start_new_session=True,  # its own process group: ended as one, apart from the server's
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        self.pid = process.pid
        return process

    async def run(self) -> None:
        """Relay the app's output; when the app has ended (quit, crash), close the browser's websocket too."""
        try:
            await super().run()
        finally:
            self.finished.set()
            if self._stopping is None:
                try:
                    await self.remote_close()
                except Exception:  # the websocket is gone already
                    pass

    def kill(self) -> None:
        """End the session's process group now (the app; its runs end with it, see the module's docstring)."""
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # already gone
            pass

    async def stop(self) -> None:
        """End the session: its processes at once, then its folder (unless kept).

        Every caller (the browser leaving, the server ending) waits for the same ending, so
        the server never finishes its shutdown while a folder is still to be removed.
        """
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        try:
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        except Exception:
            pass
        self.kill()
        if self._process is not None:
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except asyncio.TimeoutError:
                pass
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 2)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            self._task = None
        if not self.keep_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
