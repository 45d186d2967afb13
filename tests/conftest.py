"""What the tests share: fixtures, and the helpers that drive the app through Pilot.

Test files import helpers from here (``from tests.conftest import until``), never from one
another.  Every wait is a bounded loop on a condition (``until``), never a fixed sleep, and
the app is observed through Textual's public hooks: notifications through
``App.run_test(message_hook=notes)`` (``Notes``), the screen's text through
``App.export_screenshot`` (``screen_text``).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.cells import cell_len
from textual import events
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.widgets import Input

from quadtui.core.classroom import ClassPost, make_post
from quadtui.core.config import Config
from quadtui.core.history import LossHistory
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.files import PathScreen
from quadtui.tui.screens.sweep import SweepDialog, SweepScreen
from quadtui.tui.screens.train import TrainScreen
from quadtui.tui.widgets.chart import Chart

#: Each test's apps start fork servers of their own (the tests count and kill them); the ones about
#: sharing a server between sessions turn it on for themselves, in a folder of their own.
os.environ["QUADTUI_SHARED_TORCH"] = "0"

torch.set_num_threads(1)

#: how long a process may take to be gone once its end is due (the target is 1 s; a loaded CI machine gets slack)
GONE_WITHIN = 3.0


def wait_gone(pids: list[int]) -> None:
    """Until every one of ``pids`` has ended (a zombie has), at most :data:`GONE_WITHIN` seconds."""
    from benchmarks.ptyrun import alive

    deadline = time.monotonic() + GONE_WITHIN
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[pid for pid in pids if alive(pid)]}"
        time.sleep(0.02)


SMALL = Config(epochs=300, hidden=4)
#: long runs in tests train at this many epochs/s: Pilot waits for an idle process after each key,
#: and a full-speed run never lets the process idle (each key would cost Pilot's 1 s idle timeout)
CALM = 300


@pytest.fixture(scope="session")
def notebook_losses() -> np.ndarray:
    from tests.notebook import notebook_loss_log

    return np.asarray(notebook_loss_log(), dtype=np.float64)


# -- waiting -----------------------------------------------------------------------------------------------------
async def until(pilot: Pilot, condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Let the app run until ``condition`` holds (bounded: fails after ``seconds`` instead of hanging)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.005)


# -- notifications -----------------------------------------------------------------------------------------------
class Notes:
    """Every notification an app raised, as Textual delivers it: pass one as ``run_test(message_hook=…)``.

    Textual calls the hook with each message a message pump handles. ``App.notify`` only posts a
    ``Notify`` message, so a notification is here once the app has handled it: a test waits for it
    (``notified``) rather than looking right after the key that raised it.  Unlike the app's toasts,
    nothing here expires; ``clear`` forgets what was seen so far.
    """

    def __init__(self) -> None:
        self.seen: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.seen.append(message.notification)

    def messages(self) -> list[str]:
        return [note.message for note in self.seen]

    def titles(self) -> list[str]:
        return [note.title for note in self.seen]

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def notes() -> Notes:
    """A fresh ``Notes`` for ``app.run_test(..., message_hook=notes)``."""
    return Notes()


async def notified(pilot: Pilot, notes: Notes, condition: Callable[[Notification], bool], what: str) -> Notification:
    """Wait for a notification that meets ``condition`` and return it (the first such)."""
    await until(pilot, lambda: any(condition(note) for note in notes.seen), what)
    return next(note for note in notes.seen if condition(note))


# -- the train screen --------------------------------------------------------------------------------------------
def screen_of(app: QuadApp) -> TrainScreen:
    return app.train_screen


def status_text(app: QuadApp) -> str:
    """The status line's words: its state, its epoch and its numbers (whole, as it says them)."""
    bar = screen_of(app).status_bar
    return " ".join((bar.state_words, bar.epoch_words, bar.numbers_words))


async def finish(pilot: Pilot, app: QuadApp) -> None:
    """Wait for the current run's worker, then for its last snapshot to be shown."""
    screen = screen_of(app)
    await until(pilot, lambda: screen.worker is not None, "a run to start")
    assert screen.worker is not None
    await screen.worker.wait()
    await until(pilot, lambda: screen.last is not None and screen.last.finished, "the last snapshot")
    await drawn(pilot, app)


async def drawn(pilot: Pilot, app: QuadApp) -> None:
    """Wait until every visible chart and the status line show the latest snapshot."""
    charts = [chart for chart in app.query(Chart) if chart.region.area]
    await until(pilot, lambda: all(chart.up_to_date for chart in charts), "the charts to be drawn")
    screen = screen_of(app)
    await until(pilot, lambda: screen.status_bar.snapshot is screen.last, "the status line")


async def shown(pilot: Pilot, app: QuadApp, chart: Chart, key: str) -> None:
    """Bring ``chart`` on screen (small terminals show one chart at a time) and wait for its picture."""
    if not chart.region.area:
        await pilot.press("escape", key)
    # the legend is fitted to the chart's width when it is resized onto the screen
    await until(
        pilot, lambda: bool(chart.region.area) and chart.up_to_date and bool(chart.legend_text), f"the {chart.id} drawn"
    )


def plot_area(text: str) -> tuple[list[str], list[str], str]:
    """(the plot's rows right of the y axis, the y tick labels, the x tick-label line) of a chart's text."""
    lines = text.rstrip("\n").split("\n")
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    axis = lines[bottom].index("└")
    rows = [line[axis + 1 :] for line in lines[:bottom]]
    y_labels = [line[:axis].strip() for line in lines[:bottom] if line[axis : axis + 1] == "┤"]
    return rows, y_labels, lines[bottom + 1]


# -- keys and dialogs --------------------------------------------------------------------------------------------
async def type_into(pilot: Pilot, app: QuadApp, field: str, text: str) -> None:
    box = app.query_one(f"#{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)


def send_keys(app: QuadApp, *keys: str) -> None:
    """Queue key presses as a terminal would deliver them: all at once, no waiting in between."""
    for key in keys:
        try:
            char: str | None = unicodedata.lookup(key.upper().replace("_", " "))
        except KeyError:
            char = key if len(key) == 1 else None
        app.post_message(events.Key(key, char))


async def answer_path(pilot: Pilot, app: QuadApp, path: Path | str) -> None:
    """Type ``path`` into the path modal that is open (or about to be) and press Enter."""
    await until(pilot, lambda: isinstance(app.screen, PathScreen), "the path question")
    box = app.screen.query_one(Input)
    box.value = str(path)
    await pilot.press("enter")


async def open_dialog(pilot: Pilot, app: QuadApp) -> SweepDialog:
    """Open the sweep dialog (``v``) once torch is loaded."""
    await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
    await pilot.press("v")
    await until(pilot, lambda: isinstance(app.screen, SweepDialog), "the sweep dialog")
    assert isinstance(app.screen, SweepDialog)
    return app.screen


async def finished(pilot: Pilot, app: QuadApp) -> SweepScreen:
    """Wait for the sweep screen, its worker and its results."""
    await until(pilot, lambda: isinstance(app.screen, SweepScreen), "the sweep screen")
    screen = app.screen
    assert isinstance(screen, SweepScreen)
    await until(pilot, lambda: screen.worker is not None, "the sweep to start")
    assert screen.worker is not None
    await screen.worker.wait()
    await until(pilot, lambda: screen.result is not None, "the sweep's results")
    return screen


# -- the screen as text (snapshot tests) -------------------------------------------------------------------------
_SVG_TEXT = "{http://www.w3.org/2000/svg}text"
_LINE = re.compile(r"-line-(\d+)\)$")
#: what a finished run shows that depends on the machine, not on the run: the measured epochs/s and
#: the time it took (the status line picks a shorter form when they are long, so all of its forms
#: between the learning rate and the speed become one), and the runs table's time column
_MACHINE_DEPENDENT: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(lr \S+ · )(?:.*? · )?(speed \S+)"), r"\1<epochs/s> · <time> · \2"),
    (re.compile(r"\b\d+(?::\d\d)?\.\d{1,2}s\b"), lambda found: "#" * len(found.group())),
]


def screen_text(app: QuadApp) -> str:
    """The screen as plain text, one line per row (trailing spaces cut), machine-dependent parts masked.

    Textual's public screenshot is ``App.export_screenshot()`` (Rich's SVG: one ``<text>`` per run
    of equal style, placed at x = column × cell width, clipped to its row); this puts the runs back
    on a grid of cells.  Colours and styles are left out: the snapshots are about what is said.
    """
    rows: dict[int, dict[int, str]] = {}
    for element in ElementTree.fromstring(app.export_screenshot()).iter(_SVG_TEXT):
        line = _LINE.search(element.get("clip-path", ""))
        text = element.text or ""
        if line is None or not cell_len(text):  # the window title; the newline at each row's end
            continue
        cell_width = float(element.get("textLength", "0")) / cell_len(text)
        column = round(float(element.get("x", "0")) / cell_width)
        row = rows.setdefault(int(line.group(1)), {})
        for char in text:
            row[column] = " " if char == "\u00a0" else char  # Rich writes spaces as no-break spaces
            column += cell_len(char)
    lines = []
    for y in range(app.size.height):
        cells, text, end = rows.get(y, {}), "", 0
        for x in sorted(cells):
            text += " " * (x - end) + cells[x]
            end = x + cell_len(cells[x])
        lines.append(text.rstrip())
    text = "\n".join(lines) + "\n"
    for pattern, replacement in _MACHINE_DEPENDENT:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A UTF-8 locale with colour, whatever the shell running the tests has (``LANG=C`` draws ASCII)."""
    for name in ("LC_ALL", "LC_CTYPE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLORTERM", "truecolor")


# -- outside the app ---------------------------------------------------------------------------------------------
def a_post(
    config: Config = Config(), eval_loss: float = 0.5, lesson: str | None = None, epochs: int = 300
) -> ClassPost:
    """A class post of a made-up finished run (its loss falls linearly to ``eval_loss``)."""
    history = LossHistory()
    history.append(np.linspace(2.0, eval_loss, epochs).astype(np.float32))
    grid = np.linspace(-5, 5, 100)
    return make_post(config, "done", epochs, history, grid, grid**2 * 0.9, eval_loss * 0.9, eval_loss, lesson)


def run_script(source: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    """Run ``source`` as a Python script in ``tmp_path``; its stdout lines (it must succeed, warning-free)."""
    script = tmp_path / "train.py"
    script.write_text(source, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no warnings either
    return out.stdout.splitlines()


def read_csv(path: Path | str) -> list[dict[str, str]]:
    """The rows of a CSV file (an export's loss.csv, fit.csv)."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def final_line(summary: dict) -> str:
    """The line the script ends on: ``final_loss`` as ``--headless --json`` prints it (Python's repr)."""
    return f"final loss: {summary['final_loss']!r}"


#: appended to an exported train.py: each timeline state in the script's own model, its loss on the training samples
TIMELINE_CHECK = """
timeline = torch.load("timeline.pt", weights_only=True)
with torch.no_grad():
    for epoch, state in zip(timeline["epochs"], timeline["states"]):
        model.load_state_dict(state)
        print(f"state {epoch} {criterion(model(x_train), y_train).item()!r}")
"""
