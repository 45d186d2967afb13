"""The class board: everyone's posted runs, best eval loss first, live.

A thread worker re-reads the class folder twice a second (only the databases that
changed: :class:`~quadtui.core.class_board.ClassBoard`), so a new run shows up
within a second without the UI ever waiting on a file.  The table shows the best
:data:`MAX_SHOWN` runs that pass the filter; the fit chart draws the run under
the cursor (solid) over the runs chosen with space (dashed).  Enter dismisses the
screen with that run's settings, for the form.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Input, Static

from quadtui.charts import FitOverlay
from quadtui.charts.fit import MAX_OVERLAYS
from quadtui.charts.theme import ChartTheme
from quadtui.core.class_board import ClassBoard, RunCurves, read_curves
from quadtui.core.class_entry import FILTER_HELP, BoardEntry, setting_text, time_text
from quadtui.core.config import DEFAULT, Config, ConfigError
from quadtui.tui.screens.live import LiveScreen
from quadtui.tui.widgets.chart import placeholder
from quadtui.tui.widgets.run_charts import FitChart
from quadtui.tui.widgets.run_list import RunList, columns
from quadtui.tui.widgets.sweep_charts import FitView

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

#: rows in the table at most (the best ones); a filter finds the others
MAX_SHOWN = 200
REFRESH_S = 0.25
KEYS = "Enter use settings · space overlay · / filter · Esc back"
LABEL_SETTINGS = 3


#: the table's columns: (title, width); a negative width is right-aligned
COLUMNS = (("", 1), ("user", 10), ("settings", 22), ("status", 8), ("final loss", -10), ("eval loss", -10), ("when", 8))
WIDTHS = tuple(width for _, width in COLUMNS)


def entry_key(entry: BoardEntry) -> str:
    return f"{entry.source}#{entry.run_id}"


def settings_text(entry: BoardEntry) -> str:
    """What the run sets differently from the defaults: ``lr=0.05, hidden=4`` (or ``defaults``)."""
    parts = [setting_text(k, v) for k, v in entry.changed.items()]
    if len(parts) > LABEL_SETTINGS:
        parts = [*parts[:LABEL_SETTINGS], f"+{len(parts) - LABEL_SETTINGS}"]
    return ", ".join(parts) or "defaults"


def short_loss(value: float | None) -> str:
    """A loss in at most 10 characters (``1.474e+07``): the board's columns are narrow."""
    return "-" if value is None else f"{value:.4g}"


def width_classes(width: int, breakpoints: list[tuple[int, str]]) -> dict[str, bool]:
    """Which of the breakpoints' classes a screen ``width`` cells wide has (the widest one it reaches)."""
    reached = [(at, name) for at, name in breakpoints if width >= at]
    on = max(reached)[1] if reached else None
    return {name: name == on for _, name in breakpoints}


def when_text(finished_at: float, now: float) -> str:
    same_day = time_text("%F", finished_at) == time_text("%F", now)
    return time_text("%H:%M:%S" if same_day else "%b %d", finished_at)


@dataclass(eq=False)
class BoardLoaded(Message):
    """The worker read the folder: the best runs that pass ``text`` (best first), how many pass, the status."""

    shown: list[BoardEntry]
    matching: int
    total: int
    text: str
    status: str


class BoardFitChart(FitChart):
    def title(self) -> str:
        return "fit of the run under the cursor (space: add runs, dashed)"

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        """Before the rows come (and on a board without runs): the words, not empty axes."""
        if self.snapshot is None:
            return placeholder(width, height, "no run on the board yet")
        return super().draw(width, height, theme)


class BoardScreen(LiveScreen["Config | None"]):
    """The class board; dismissed with a run's config (Enter) or None (Esc)."""

    BINDINGS = [
        Binding("escape", "close", "Back", tooltip="Leave the board (Esc in the filter: back to the table)"),
        Binding("slash", "filter", "Filter", tooltip="Filter: " + FILTER_HELP),
        Binding(
            "space", "toggle_overlay", "Overlay", tooltip="Draw this run's fit (dashed) beside the one under the cursor"
        ),
    ]

    DEFAULT_CSS = """
    BoardScreen { layout: vertical; }
    #board-title { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    #board-filter { height: 1; border: none; padding: 0 1; }
    #board-body { height: 1fr; }
    #board-list { width: 1fr; height: 1fr; }
    #board-table { width: 1fr; height: 1fr; }
    #board-header { height: 1; background: $panel; text-style: bold; }
    #board-fit { width: 2fr; height: 1fr; }
    /* under 120 columns (the app's width breakpoints: -cols-narrow, -cols-medium) the fit goes below */
    BoardScreen.-cols-narrow #board-body, BoardScreen.-cols-medium #board-body { layout: vertical; }
    BoardScreen.-cols-narrow #board-fit, BoardScreen.-cols-medium #board-fit { width: 1fr; height: 9; }
    #board-status { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    #board-keys { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        # the app's -cols-* classes from the start, as Textual would set them on the first resize: the
        # screen is styled and laid out once, not again when they arrive (~20 ms of CPU an open)
        self.update_classes(width_classes(self.app.size.width, self.app.HORIZONTAL_BREAKPOINTS or []), update=False)
        self._first_size: Size | None = self.app.size  # see on_resize
        self.folder = Path(folder)
        self.board = ClassBoard(self.folder)
        self._reading = threading.Lock()
        self._posted: tuple[int, str] | None = None  # (board version, filter) of the last BoardLoaded
        self.filter_text = ""
        self.shown: list[BoardEntry] = []  # what the table lists, best first
        self.chosen: dict[str, BoardEntry] = {}  # the runs drawn dashed, oldest choice first
        self.status = "reading the class folder…"
        self.loads = 0  # BoardLoaded messages handled (for tests)
        self.used_name = "the run"  # whose settings Enter took, for the form's notification
        self._curves: dict[str, RunCurves | None] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"class board · {self.folder}", id="board-title")
        yield Input(placeholder=f"/ filter: {FILTER_HELP}", compact=True, id="board-filter")
        with Horizontal(id="board-body"):
            with Vertical(id="board-table"):
                yield Static(columns(tuple(title for title, _ in COLUMNS), WIDTHS), id="board-header")
                yield RunList(id="board-list")
            yield BoardFitChart(id="board-fit")
        yield Static(self.status, id="board-status")
        # the keys in one plain line: a Footer costs a tenth of a second to build, on every open
        yield Static(KEYS, id="board-keys")

    @property
    def table(self) -> RunList:
        return self.query_one(RunList)

    def on_mount(self) -> None:
        self.table.focus()
        self._read()
        self.set_interval(REFRESH_S, self._read)

    def on_resize(self, event: events.Resize) -> None:
        """Skip Textual's handling of the Resize a screen's first layout sends it.

        Screen's handler would lay this screen out again at the size it was just laid out for,
        and every screen under it too (~8 ms of CPU an open); a real resize (another size) is
        handled as always.
        """
        if self._first_size is not None and event.size == self._first_size:
            event.stop()
            event.prevent_default()
        self._first_size = None

    # -- reading, in a thread -------------------------------------------------------------------
    @work(thread=True, group="board-read", exit_on_error=False)
    def _read(self) -> None:
        if not self._reading.acquire(blocking=False):
            return  # the last read is still going
        try:
            board, text = self.board, self.filter_text
            board.refresh()
            if self._posted != (board.version, text):
                shown, matching = board.best(MAX_SHOWN, text)
                self._posted = (board.version, text)
                self.post_message(BoardLoaded(shown, matching, len(board.ranks), text, board.status_line()))
        finally:
            self._reading.release()

    def on_board_loaded(self, message: BoardLoaded) -> None:
        self._curves.clear()  # a trimmed run's row may be gone
        self._show_rows(message)
        self.loads += 1

    def _show_rows(self, message: BoardLoaded) -> None:
        keep = self._cursor_key()
        self.shown = message.shown
        now = time.time()
        keys = [entry_key(e) for e in self.shown]
        self.table.set_rows([self._row(e, now) for e in self.shown], keys.index(keep) if keep in keys else 0)
        line = self.status = message.status
        if message.text.strip():
            line = f"{message.matching:,} of {message.total:,} runs match · " + line
        if message.matching > MAX_SHOWN:
            line = f"the best {MAX_SHOWN} shown · " + line
        self.query_one("#board-status", Static).update(line)
        self.call_after_refresh(self._draw)  # the rows first; the fit (a chart to draw) a frame later

    def _row(self, entry: BoardEntry, now: float) -> str:
        mark = "●" if entry_key(entry) in self.chosen else " "
        return columns(
            (
                mark,
                entry.user,
                settings_text(entry),
                entry.status,
                short_loss(entry.final_loss),
                short_loss(entry.eval_loss),
                when_text(entry.finished_at, now),
            ),
            WIDTHS,
        )

    def _cursor_key(self) -> str | None:
        row = self.table.cursor
        return entry_key(self.shown[row]) if 0 <= row < len(self.shown) else None

    def current(self) -> BoardEntry | None:
        row = self.table.cursor
        return self.shown[row] if 0 <= row < len(self.shown) else None

    # -- the fit chart ----------------------------------------------------------------------------
    def _curves_of(self, entry: BoardEntry) -> RunCurves | None:
        key = entry_key(entry)
        if key not in self._curves:
            self._curves[key] = read_curves(entry)  # one small row, read only: about a millisecond
        return self._curves[key]

    def _draw(self) -> None:
        chart = self.query_one(BoardFitChart)
        entry = self.current()
        curves = None if entry is None else self._curves_of(entry)
        if entry is None or curves is None:
            chart.show(None)
            chart.set_overlays([], None)
            return
        overlays = []
        for key, other in self.chosen.items():
            if key == entry_key(entry):
                continue
            got = self._curves_of(other)
            if got is not None:
                overlays.append(FitOverlay(f"{other.user} {settings_text(other)}", got.grid, got.fit))
        chart.set_overlays(overlays, (tuple(self.chosen), entry_key(entry)))
        chart.show(cast("Snapshot", _fit_view(entry, curves)))  # a FitView has every field the fit chart reads
        chart.border_title = f"fit: {entry.user} · {settings_text(entry)} (solid)" + (
            f" · {len(overlays)} chosen (dashed)" if overlays else " · space: add runs (dashed)"
        )

    @on(RunList.Highlighted)
    def _moved(self) -> None:
        self._draw()

    # -- keys -----------------------------------------------------------------------------------
    def action_close(self) -> None:
        if self.focused is self.query_one("#board-filter", Input):
            self.table.focus()
        else:
            self.dismiss(None)

    def action_filter(self) -> None:
        self.query_one("#board-filter", Input).focus()

    @on(Input.Changed, "#board-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._read()  # filtered in the worker: a filter may have to read every run

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_toggle_overlay(self) -> None:  # not "toggle": Textual has that action
        entry = self.current()
        if entry is None:
            return
        key = entry_key(entry)
        if key in self.chosen:
            del self.chosen[key]
        else:
            self.chosen[key] = entry
            while len(self.chosen) > MAX_OVERLAYS:
                del self.chosen[next(iter(self.chosen))]
        now = time.time()
        self.table.set_rows([self._row(e, now) for e in self.shown], self.table.cursor)  # (marks may have gone)
        self._draw()

    def action_use(self) -> None:
        entry = self.current()
        if entry is None:
            return
        try:
            config = Config.from_mapping(entry.config)
        except ConfigError as exc:
            self.notify(f"{entry.user}'s run cannot be used: {exc}", severity="error", timeout=6)
            return
        self.used_name = entry.user  # "alice's settings are in the form"
        self.dismiss(config)

    @on(RunList.Selected)
    def _selected(self, event: RunList.Selected) -> None:
        event.stop()
        self.action_use()


def _fit_view(entry: BoardEntry, curves: RunCurves) -> FitView:
    """What the fit chart reads from a snapshot, for a posted run (no samples: they were not posted)."""
    from quadtui.core import expr

    config = entry.config
    grid = curves.grid.astype(np.float64)
    try:
        target = expr.parse(str(config.get("target", DEFAULT.target)))(grid)
    except ValueError:
        target = np.full(grid.shape, np.nan)
    epochs = config.get("epochs")
    shown_config: Any = _Epochs(epochs if isinstance(epochs, int) else entry.epochs_run)
    none = np.zeros(0)
    return FitView(
        hash(entry_key(entry)),
        shown_config,
        entry.status,
        entry.epochs_run,
        grid,
        target,
        curves.fit.astype(np.float64),
        none,
        none,
    )


class _Epochs:
    """The one thing the fit chart reads from a snapshot's config: the epochs asked for."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
