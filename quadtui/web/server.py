"""``ClassroomServer``: textual-serve's server, made fit for a class.

- **Reachable anywhere**: the page names the websocket and its assets relative
  to itself (so it works through an SSH tunnel on another port, under any Host
  name, behind a reverse proxy), or from ``--public-url`` when one is given.
- **Limits**: at most ``max_sessions`` apps at once (the next browser gets a
  page saying so, not a hang); a terminal size is clamped
  (:func:`~quadtui.web.session.clamp_size`); malformed messages are ignored.
- **Nothing outlives its tab**: a closed websocket ends the session's whole
  process group — after ``reload_grace`` seconds, in which the same browser tab
  (a reload, a network blip) reattaches to it; the server's exit (Ctrl+C,
  SIGTERM, SIGHUP) ends them all at once.
- **One torch for the class**: every session's runs are forked from one fork
  server (:func:`shared_fork_server`), so a browser tab costs its UI and its run,
  not a torch of its own.
- **Our page**: a title, no outside requests, the terminal focused on load,
  and a question before a reload or close throws the session away.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve import download_manager
from textual_serve.server import Server

from quadtui.core.files import FileWriteError, atomic_write
from quadtui.core.forkserver import ADDRESS_ENV, ForkServer, ServerError
from quadtui.core.forkserver.per_user import sharing
from quadtui.web.session import Session, clamp_size, new_folder

TEMPLATES = Path(__file__).parent / "templates"
PAGE = "quadtui.html"
#: how often (s) aiohttp pings each browser; a browser that stops answering is gone after about this long
HEARTBEAT = 10.0
#: the largest message a browser may send (keys and sizes are tiny; this bounds a hostile one)
MAX_MESSAGE = 64 * 1024
#: the largest file a student may drop on the page (configs and lessons are a few KB)
MAX_UPLOAD = 1024 * 1024
#: how long a download waits for each chunk from the app (textual-serve's 4 s cuts a download short
#: when the app is busy, as it is on a classroom server with everyone training)
download_manager.DOWNLOAD_TIMEOUT = 30
log = logging.getLogger("quadtui.cli.serve")


def full_message(max_sessions: int) -> str:
    return f"All {max_sessions} quadtui sessions on this server are in use. Try again in a minute, or ask your teacher."


class ClassroomServer(Server):
    """Serves one quadtui process per browser tab, within limits; see the module docstring."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        host: str,
        port: int,
        max_sessions: int,
        public_url: str | None = None,
        serve_dir: Path | None = None,
        urls: Sequence[str] = (),
        reload_grace: float = 0.0,
    ) -> None:
        super().__init__(
            " ".join(argv), host=host, port=port, title="quadtui", public_url=public_url, templates_path=TEMPLATES
        )
        self.argv = list(argv)
        self.max_sessions = max_sessions
        self.public_base = public_url  # None: every URL in the page is relative to the page
        self.serve_dir = serve_dir
        self.urls = list(urls) or [self.public_url]
        self.reload_grace = reload_grace
        self.shutting_down = False
        self.sessions: set[Session] = set()
        #: sessions whose browser has gone, by token, each with the task that ends it when the grace is over
        self.detached: dict[str, tuple[Session, asyncio.Task[None]]] = {}
        #: the tasks ending sessions whose app ended while detached (the event loop keeps only weak references)
        self.ending: set[asyncio.Future[None]] = set()
        #: the class's one fork server: torch loaded once for every session (None: each loads its own)
        self.fork_server: ForkServer | None = None

    # -- startup and shutdown ------------------------------------------------------------------
    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.WARNING, format="quadtui: %(message)s", stream=sys.stderr)
        log.setLevel(logging.INFO)

    async def on_startup(self, app: web.Application) -> None:
        where = ", ".join(self.urls)
        print(f"quadtui: serving at {where} (at most {self.max_sessions} sessions at once; ctrl+c stops)", flush=True)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/ws/{token}", self.handle_websocket)  # our page: the tab's token, to come back
        app.router.add_post("/upload/{token}", self.handle_upload)  # a file dropped on the page
        return app

    async def on_shutdown(self, app: web.Application) -> None:
        self.shutting_down = True
        for _, grace in self.detached.values():
            grace.cancel()
        self.detached.clear()
        sessions = list(self.sessions)
        for session in sessions:  # at once, before anything can wait on a browser
            session.kill()
        await asyncio.gather(*(session.stop() for session in sessions), return_exceptions=True)
        self._stop_fork_server()

    def serve(self, debug: bool = False) -> None:
        """Serve until Ctrl+C, SIGTERM or SIGHUP (the teacher's login ending); then end every session."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self.request_exit)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self.fork_server = shared_fork_server()
        try:
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                handle_signals=False,
                loop=loop,
                print=None,
                access_log=None,
                shutdown_timeout=5,
            )
        finally:
            self._stop_fork_server()

    def _stop_fork_server(self) -> None:
        """Once every session has ended (their runs went with them): the class's torch goes too."""
        fork_server, self.fork_server = self.fork_server, None
        if fork_server is not None:
            fork_server.stop()

    # -- the page ----------------------------------------------------------------------------------
    def page_urls(self) -> dict[str, str]:
        """Where the page finds its assets, websocket and downloads: relative, or under --public-url."""
        base = self.public_base or ""
        websocket = "ws"
        if base:
            scheme = "wss" if base.startswith("https:") else "ws"
            websocket = scheme + base[base.index(":") :] + "ws"
        return {
            "static": base + "static/",
            "websocket": websocket,
            "download": base + "download/",
            "upload": base + "upload/",
        }

    async def handle_index(self, request: web.Request) -> web.Response:
        font_size = min(max(_whole(request.query.get("fontsize"), 16), 8), 40)
        busy = len(self.sessions) >= self.max_sessions
        context: dict[str, Any] = {
            "title": "quadtui",
            "font_size": font_size,
            "urls": self.page_urls(),
            "full": full_message(self.max_sessions) if busy else "",
        }
        response = aiohttp_jinja2.render_template(PAGE, request, context, status=503 if busy else 200)
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- a file from the browser -------------------------------------------------------------------
    async def handle_upload(self, request: web.Request) -> web.Response:
        """Put a file the student dropped on the page into their session folder (one line back, as text)."""
        token = request.match_info.get("token", "")
        session = next((s for s in self.sessions if s.token == token and not s.finished.is_set()), None)
        if session is None:
            return web.Response(status=404, text="No session to upload to: reload the page.")
        name = upload_name(request.query.get("name", ""))
        data = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > MAX_UPLOAD:
                return web.Response(status=413, text=f"{name}: too big to upload; at most {MAX_UPLOAD // 1024} KB.")
        target = session.folder / name
        if target.exists():
            return web.Response(status=409, text=f"{name} is already in your folder: rename the file, drop it again.")
        try:
            await asyncio.to_thread(atomic_write, target, bytes(data))
        except FileWriteError:  # (its message names the server's path: not the student's business)
            return web.Response(status=500, text=f"{name} could not be saved in your folder.")
        log.info("session %d: %s uploaded (%d bytes)", session.number, name, len(data))
        return web.Response(text=f"{name} is in your folder now: load it with ctrl+o")

    # -- a session ---------------------------------------------------------------------------------
    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE)
        await websocket.prepare(request)
        width, height = clamp_size(request.query.get("width"), request.query.get("height"))
        session = self._reattach(request.match_info.get("token", ""))
        fresh = session is None
        if session is None:
            if len(self.sessions) >= self.max_sessions:
                await self._refuse(websocket)
                return websocket
            session = Session(
                self.argv,
                new_folder(self.serve_dir),
                keep_folder=self.serve_dir is not None,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            self.sessions.add(session)  # counted before the first await: two browsers cannot both take the last place
            log.info("session %d started (%d of %d in use)", session.number, len(self.sessions), self.max_sessions)
        try:  # the tab's token first, before any screen output can come
            await websocket.send_str(json.dumps(["quadtui_session", session.token]))
        except (ConnectionError, RuntimeError):  # the browser is gone already: leaving below decides
            pass
        session.attach(websocket)
        try:
            if fresh:
                await session.start(width, height)
            else:
                log.info("session %d: its browser is back", session.number)
                await session.redraw(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # one session's trouble is logged, never the server's end
            log.warning("session %d: %s: %s", session.number, type(error).__name__, error)
        finally:
            await asyncio.shield(self._leave(session, websocket))
        return websocket

    async def _refuse(self, websocket: web.WebSocketResponse) -> None:
        message = full_message(self.max_sessions)
        await websocket.send_bytes(f"\r\n  {message}\r\n".encode())
        await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=message.encode()[:120])
        log.info("refused a browser: %d of %d sessions in use", len(self.sessions), self.max_sessions)

    def _reattach(self, token: str) -> Session | None:
        """The session a reloaded tab left within the grace period, if its app still runs."""
        session, grace = self.detached.pop(token, (None, None))
        if session is None or grace is None:
            return None
        grace.cancel()
        if session.finished.is_set():  # the app ended meanwhile: end the session, start afresh
            ending = asyncio.ensure_future(self._end(session))
            self.ending.add(ending)
            ending.add_done_callback(self.ending.discard)
            return None
        return session

    async def _leave(self, session: Session, websocket: web.WebSocketResponse) -> None:
        """The websocket is gone: keep the session for a reload within the grace period, else end it."""
        if not websocket.closed:
            await websocket.close()
        if session.websocket is not websocket:  # another websocket has it now
            return
        session.detach()
        if self.reload_grace <= 0 or session.finished.is_set() or self.shutting_down:
            await self._end(session)
            return
        self.detached[session.token] = (session, asyncio.ensure_future(self._grace(session)))
        log.info("session %d: browser gone; kept %g s for a reload", session.number, self.reload_grace)

    async def _grace(self, session: Session) -> None:
        try:
            await asyncio.wait_for(session.finished.wait(), self.reload_grace)
        except asyncio.TimeoutError:
            pass
        except asyncio.CancelledError:  # the browser came back (or the server is ending)
            return
        if self.detached.get(session.token, (None,))[0] is session:
            del self.detached[session.token]
        await self._end(session)

    async def _end(self, session: Session) -> None:
        try:
            await session.stop()
        finally:
            if session in self.sessions:
                self.sessions.discard(session)
                log.info("session %d ended (%d of %d in use)", session.number, len(self.sessions), self.max_sessions)

    async def _process_messages(  # type: ignore[override]
        self, websocket: web.WebSocketResponse, app_service: Session
    ) -> None:
        """Relay the browser's keys, sizes and focus to the app; anything malformed is dropped."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await app_service.set_terminal_size(*clamp_size(data.get("width"), data.get("height")))
            elif kind == "ping":
                await websocket.send_json(["pong", str(data)[:40]])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()


def upload_name(name: str) -> str:
    """A dropped file's name, safe in the session folder: letters, digits, '.', '-', '_'; no path, no dot first."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._-")[:100]
    return safe or "upload"


def _whole(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None and len(raw) <= 6 else default
    except ValueError:
        return default


def shared_fork_server() -> ForkServer | None:
    """One fork server for every session: torch loaded once for the class, not once a browser tab.

    A session's app connects to it (:data:`ADDRESS_ENV`, inherited by every session) and
    its runs are forked from it, in the session's folder; they end with the session.  If
    it cannot start, or the teacher turned it off (``QUADTUI_SHARED_TORCH=0``: one
    student's runs then never share a process with another's), each session starts
    its own, as in a terminal.
    """
    if not sharing():
        return None
    torch_server = ForkServer(shared=True)
    try:
        torch_server.start()
    except ServerError as exc:
        print(f"quadtui: warning: {exc}; each session will load torch itself", file=sys.stderr)
        return None
    assert torch_server.address is not None
    os.environ[ADDRESS_ENV] = torch_server.address
    return torch_server
