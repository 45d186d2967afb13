#!/usr/bin/env python
"""PNG screenshots of ``quadtui --serve`` in a real headless Chromium, into screenshots/.

    python3 scripts/browser_screenshots.py      # needs chromium (or QUADTUI_CHROMIUM) and quadtui[web]

Serves the notebook's run on a free loopback port, opens the page in
headless Chromium (driven through the DevTools protocol, see
tests/chromium.py) at 1280×800 (a classroom laptop) and at 720×450 (about 80×24
cells: a window beside the lesson), presses F5 in the page — no click, as a
student would — and shoots the run mid-way (at 1280×800) and done.  Prints the
time from opening the page to the app's first frame.  Every process it starts
is killed at the end.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
sys.path.insert(0, str(ROOT))

from tests.chromium import Chromium, find_chromium  # noqa: E402
from tests.serving import START_SECONDS, Served  # noqa: E402

EPOCHS = 5000  # the notebook's run, at the app's pace of 1,000 epochs/s


def epoch_shown(browser: Chromium, least: int) -> bool:
    """True once the status line has said 'epoch N of 5000' for some N >= ``least``."""
    said = re.findall(rb"epoch (\d+) of " + str(EPOCHS).encode(), browser.screen())
    return any(int(n) >= least for n in said)


async def shoot(chromium: str, size: tuple[int, int], names: dict[str, str]) -> float:
    """Shots of one tab at ``size`` (moment 'running' | 'done' -> file name); the seconds to the first frame."""
    served = Served("--max-sessions", "1", "--reload-grace", "0")
    try:
        async with Chromium(chromium, size) as browser:
            started = time.monotonic()
            await browser.open(served.url)
            await browser.until(lambda: browser.shows(b" settings "), "the app's first frame", START_SECONDS)
            first_frame = time.monotonic() - started
            focused = "document.activeElement && document.activeElement.closest('.xterm') !== null"
            await browser.becomes(focused, "the terminal to have the keys", 10)
            await browser.press("F5")
            if "running" in names:
                await browser.until(lambda: epoch_shown(browser, 2000), "the run mid-way", START_SECONDS)
                await save(browser, names["running"])
            await browser.until(lambda: epoch_shown(browser, EPOCHS), "the run to finish", START_SECONDS)
            await asyncio.sleep(0.5)  # the last frame written to the terminal's canvas (a picture, not a test)
            await save(browser, names["done"])
    finally:
        served.end()
    return first_frame


async def save(browser: Chromium, name: str) -> None:
    await browser.screenshot(OUT / name)
    print(f"{OUT.name}/{name}")


async def main() -> int:
    chromium = find_chromium()
    if chromium is None:
        print(
            "browser_screenshots.py: no Chromium found: install chromium, or name one in QUADTUI_CHROMIUM",
            file=sys.stderr,
        )
        return 2
    OUT.mkdir(exist_ok=True)
    shots = {
        (1280, 800): {"running": "browser-1280x800-running.png", "done": "browser-1280x800-done.png"},
        (720, 450): {"done": "browser-720x450-done.png"},
    }
    for size, names in shots.items():
        seconds = await shoot(chromium, size, names)
        print(f"  {size[0]}×{size[1]}: the app's first frame {seconds:.2f} s after opening the page")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
