"""Headless Chromium driven through the DevTools protocol: for the browser test and the screenshot script.

Only the standard library and aiohttp (which ``--serve`` installs): Chromium
listens for DevTools on a loopback port it picks itself and writes into its
profile folder (``DevToolsActivePort``); we talk to the page's target over a
websocket.  What the page's websocket receives from the server (the app's
screen output) is collected from the Network domain's frame events, since the
terminal draws on a canvas and keeps no text in the page.  Chromium runs in a
process group of its own: :meth:`Chromium.close` kills all of it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

LOOPBACK = "127.0.0.1"
#: where Chromium may be; QUADTUI_CHROMIUM names another one
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: keys as Chromium's Input domain wants them: (key, code, Windows virtual key code, modifiers: 2 is ctrl)
KEYS = {
    "F1": ("F1", "F1", 112, 0),
    "F5": ("F5", "F5", 116, 0),
    "F12": ("F12", "F12", 123, 0),
    "ctrl+p": ("p", "KeyP", 80, 2),
}


def find_chromium() -> str | None:
    """The Chromium to drive, or None where there is none."""
    named = os.environ.get("QUADTUI_CHROMIUM")
    if named:
        return shutil.which(named)
    return next((found for name in NAMES if (found := shutil.which(name))), None)


class Chromium:
    """One headless Chromium with one page, ``size`` CSS pixels, hosts in ``resolve`` mapped to addresses.

    ``async with Chromium(path, (1280, 800)) as browser:`` then :meth:`open`,
    :meth:`screen`, :meth:`press`, :meth:`evaluate`, :meth:`screenshot`.
    """

    def __init__(self, executable: str, size: tuple[int, int], resolve: dict[str, str] | None = None) -> None:
        self.executable = executable
        self.size = size
        self.resolve = resolve or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.profile = tempfile.TemporaryDirectory(prefix="quadtui-chromium-")
        self.http: aiohttp.ClientSession | None = None
        self.page: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.ids = itertools.count(1)
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        #: every event the page sent: (method, params)
        self.events: list[tuple[str, dict[str, Any]]] = []
        #: what the page's websockets received, binary frames decoded (the app's output), in order
        self.received = bytearray()

    async def __aenter__(self) -> Chromium:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- starting and ending -------------------------------------------------------------------
    async def start(self, seconds: float = 60.0) -> None:
        width, height = self.size
        flags = [
            "--headless",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile.name}",
            f"--window-size={width},{height}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-proxy-server",
            "--hide-scrollbars",
            "--mute-audio",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        if self.resolve:
            rules = ", ".join(f"MAP {host} {address}" for host, address in self.resolve.items())
            flags.append(f"--host-resolver-rules={rules}")
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (open while Chromium runs) not a pipe: Chromium's chatter must never block it
        self.process = subprocess.Popen(
            [self.executable, *flags, "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + seconds
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.process.poll() is not None:
                raise AssertionError(f"chromium exited at start: {self.output()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("chromium did not open its DevTools port")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        self.http = aiohttp.ClientSession()
        page_url = None
        while page_url is None:
            async with self.http.get(f"http://{LOOPBACK}:{port}/json/list") as reply:
                targets = await reply.json(content_type=None)
            page_url = next((t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"), None)
            if page_url is None:
                if time.monotonic() > deadline:
                    raise AssertionError("chromium has no page")
                await asyncio.sleep(0.05)
        self.page = await self.http.ws_connect(page_url, max_msg_size=0)
        self.reader = asyncio.ensure_future(self._read())
        await self.send("Page.enable")
        await self.send("Network.enable")
        await self.send("Runtime.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    async def close(self) -> None:
        """Kill Chromium, all its processes, and forget its profile."""
        if self.reader is not None:
            self.reader.cancel()
        if self.page is not None:
            await self.page.close()
        if self.http is not None:
            await self.http.close()
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.log.close()
        self.profile.cleanup()

    # -- the protocol --------------------------------------------------------------------------
    async def _read(self) -> None:
        assert self.page is not None
        async for message in self.page:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            if "id" in data:
                future = self.replies.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            method, params = data.get("method", ""), data.get("params", {})
            self.events.append((method, params))
            if method == "Network.webSocketFrameReceived":
                frame = params["response"]
                if frame.get("opcode") == 2:  # binary: the app's screen output, base64 in the protocol
                    self.received += base64.b64decode(frame["payloadData"])
        for future in self.replies.values():  # Chromium has gone: nobody waits forever
            if not future.done():
                future.set_exception(AssertionError("chromium closed its DevTools connection"))

    async def send(self, method: str, seconds: float = 30.0, **params: Any) -> dict[str, Any]:
        """Call ``method``; its result, or AssertionError naming the protocol's error."""
        assert self.page is not None
        number = next(self.ids)
        self.replies[number] = asyncio.get_running_loop().create_future()
        await self.page.send_json({"id": number, "method": method, "params": params})
        reply = await asyncio.wait_for(self.replies[number], seconds)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, condition: Callable[[], Any], what: str, seconds: float) -> Any:
        """Wait (bounded) for ``condition`` while the page's events come in."""
        deadline = time.monotonic() + seconds
        while not (result := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)
        return result

    async def becomes(self, expression: str, what: str, seconds: float) -> Any:
        """Wait (bounded) for the page's ``expression`` to be true."""
        deadline = time.monotonic() + seconds
        while not (result := await self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)
        return result

    # -- what a user does ----------------------------------------------------------------------
    async def open(self, url: str) -> None:
        result = await self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise AssertionError(f"{url}: {result['errorText']}")

    def screen(self) -> bytes:
        """Everything the page has received from the app so far."""
        return bytes(self.received)

    def shows(self, text: bytes, since: int = 0) -> bool:
        """True if the app has drawn ``text`` (after the first ``since`` bytes of its output)."""
        return text in self.received[since:]

    async def press(self, name: str) -> None:
        """A key press sent to whatever has the page's focus (no click first)."""
        key, code, number, modifiers = KEYS[name]
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                modifiers=modifiers,
                windowsVirtualKeyCode=number,
                nativeVirtualKeyCode=number,
            )

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def requested(self) -> list[str]:
        """The URL of every request the page made."""
        return [params["request"]["url"] for method, params in self.events if method == "Network.requestWillBeSent"]

    def websockets(self) -> list[str]:
        return [params["url"] for method, params in self.events if method == "Network.webSocketCreated"]
