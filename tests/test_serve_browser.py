"""``quadtui --serve`` in a real headless Chromium: the page loads, the app draws, keys reach it without a click.

The browser opens the page under a Host name and a port the server never
heard of (a made-up name mapped to loopback, through a port-mapping proxy like
an SSH tunnel), so everything the page loads must follow the page's own
address.  Skipped where no Chromium is installed (CI has none): the same
paths are tested without a browser in test_serve_sessions.py and
test_serve_page.py.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("aiohttp", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
pytest.importorskip("textual_serve", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
from tests.chromium import Chromium, find_chromium  # noqa: E402
from tests.serving import (  # noqa: E402
    LOOPBACK,
    START_SECONDS,
    PortMappingProxy,
    Served,
    needs_proc,
    training_children,
)

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (apt-get install chromium, or name one in QUADTUI_CHROMIUM)"
)
#: a name only this browser resolves (to loopback): the page's Host is not the server's bind address
CLASSROOM = "classroom.example"


@needs_proc
async def test_chromium_through_another_host_and_port_draws_the_app_and_f5_trains_without_a_click():
    """Also: ctrl+p reaches the app (not the browser's print dialog), its palette without an emoji."""
    served = Served("--max-sessions", "1", "--reload-grace", "0", "--epochs", "10000000", "--hidden", "64")
    try:
        async with (
            PortMappingProxy(served.port) as proxy,
            Chromium(CHROMIUM, (1280, 800), resolve={CLASSROOM: LOOPBACK}) as browser,
        ):
            origin = f"http://{CLASSROOM}:{proxy.url.rstrip('/').rsplit(':', 1)[1]}"
            assert not origin.endswith(f":{served.port}")
            await browser.open(origin + "/")
            await browser.until(
                lambda: browser.shows(b" settings ") and browser.shows(b"loss"),
                "the app to draw its settings and loss chart in the browser",
                START_SECONDS,
            )
            assert await browser.evaluate("document.title") == "quadtui"
            assert await browser.until(lambda: browser.websockets(), "the page's websocket", 10)
            (socket,) = browser.websockets()
            assert socket.startswith(f"ws://{CLASSROOM}:") and socket.split("/")[2] == origin.split("/")[2]
            outside = [url for url in browser.requested() if not url.startswith(origin + "/")]
            assert not outside, f"the page fetched from elsewhere: {outside}"
            # the terminal wrote the app's output, and has the keys: nothing was clicked
            assert "-first-byte" in await browser.evaluate("document.body.className")
            focused = "document.activeElement && document.activeElement.closest('.xterm') !== null"
            await browser.becomes(focused, "the terminal to have the keys on load", 10)

            (pid,) = served.session_pids()
            assert not training_children(pid)
            drawn = len(browser.screen())
            await browser.press("F5")
            counting = re.compile(rb"epoch [1-9][0-9]* of 10000000")  # the status line, once a run has begun
            await browser.until(
                lambda: counting.search(browser.screen(), drawn),
                "F5 to start training (the status to count epochs)",
                START_SECONDS,
            )
            await browser.until(lambda: training_children(pid), "a training process", START_SECONDS)
            assert browser.websockets() == [socket], "F5 reloaded the page instead of reaching the app"
            # the command palette opens on ctrl+p, its search glyph a plain one (no emoji font here)
            drawn = len(browser.screen())
            await browser.press("ctrl+p")
            await browser.until(
                lambda: browser.shows(b"Search for commands", drawn), "the command palette", START_SECONDS
            )
            assert not browser.shows("🔎".encode(), drawn)
    finally:
        served.end()
