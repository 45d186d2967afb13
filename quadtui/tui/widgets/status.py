"""The status line: what the run is doing, how far it is, and its numbers."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget

from quadtui.core.pacing import NUMBERS_EVERY
from quadtui.core.snapshot import Status

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

#: the progress bar's track (cells; it fills in half cells) and the room of the percentage after it
BAR_CELLS = 12
PERCENT_CELLS = 5
#: the bar, its percentage and one blank cell after them
PROGRESS_CELLS = 18
#: the characters Textual's progress bar draws: a cell of the bar, its half-cell ends
BAR, HALF_RIGHT, HALF_LEFT = "━", "╸", "╺"


def loss_text(value: float | None) -> str:
    """Losses are shown to 6 significant digits, as ``--headless`` prints them."""
    if value is None:
        return "-"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def speed_text(speed: float | None) -> str:
    return "full" if speed is None else f"{speed:g}/s"


def plural(count: int, word: str) -> str:
    """``1 run``, ``5 runs`` (with thousands separators)."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def rate_text(epochs_per_s: float, short: bool = False) -> str:
    """``1,234 epochs/s`` (``1 epoch/s``); short: ``1,234/s``."""
    rate = f"{epochs_per_s:,.0f}"
    if short:
        return f"{rate}/s"
    return f"{rate} {'epoch' if rate == '1' else 'epochs'}/s"


def fit_line(forms: list[list[str]], width: int, sep: str = " · ") -> str:
    """The first of ``forms`` (longest first) whose parts joined fit ``width``; else the last one."""
    for parts in forms:
        line = sep.join(parts)
        if cell_len(line) <= width:
            return line
    return sep.join(forms[-1])


def clipped(text: str, room: int) -> str:
    """``text`` if it fits ``room`` cells, else cut to ``room`` with an ellipsis at the end."""
    if cell_len(text) <= room:
        return text
    return set_cell_size(text, room - 1) + "…" if room > 0 else ""


def bar_cells(halves: int, cells: int = BAR_CELLS) -> tuple[str, str]:
    """(the filled part, the track after it) of a bar of ``cells`` filled to ``halves`` half cells.

    The characters Textual's ``Bar`` draws for the same fill: whole cells, a half cell at the
    fill's end (``╸``), and the track beginning with a half cell (``╺``) where the fill ends on
    a whole one.
    """
    halves = min(max(halves, 0), 2 * cells)
    whole, half = divmod(halves, 2)
    if half:
        return BAR * whole + HALF_RIGHT, BAR * (cells - whole - 1)
    if whole in (0, cells):
        return BAR * whole, BAR * (cells - whole)
    return BAR * whole, HALF_LEFT + BAR * (cells - whole - 1)


def clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:04.1f}" if minutes else f"{secs:.1f}s"


def state_text(snap: Snapshot | None, error: str | None = None) -> str:
    """ready / training / paused / done / diverged after epoch N (hint) / stopped / error: …

    A diverged run names the last epoch it kept (``snap.epoch``: the same number as the epoch
    beside it and in the charts' titles), not the engine's ``diverged_at``, the epoch after it
    whose loss was not finite.
    """
    if error is not None:
        return f"error: {error}"
    if snap is None:
        return "ready"
    status = snap.status.value
    if status == "paused" and snap.epoch == 0:
        return "ready"
    if status == "diverged":
        return f"diverged after epoch {snap.epoch}: lower the learning rate"
    if status == "error":
        return f"error: {snap.error}"
    return status


class StatusBar(Widget):
    """Two lines: ``state  epoch n of N [bar] n%`` and ``train · eval · lr · epochs/s · elapsed · speed``.

    One widget that draws both rows itself (``render_line``): no labels, no progress-bar
    widget and its timer.  Textual repaints every widget under a changed region, so a line
    of eight widgets cost eight renders a frame; this is one, of one row.  Each row's strip is
    kept until its words change: a repaint of a row costs ~0.1 ms, where ``render()`` returning
    one two-line Content renders both rows every time (~0.5 ms).

    The screen binds its state to the reactives below (``data_bind``); a change of them
    repaints the row whose text changed, and only that one (the widget's size never changes:
    no layout).  A running run's new numbers come with a frame, at most every :data:`NUMBERS_EVERY`
    seconds (see :meth:`watch_latest`).
    """

    COMPONENT_CLASSES = {"status--state", "status--bad", "status--good", "status--bar", "status--complete"}

    #: the state word's colours are the theme's; the bar's as Textual's progress bar draws them
    #: (the fill in the colour, the track in the background colour, on the line's own background)
    DEFAULT_CSS = """
    StatusBar { height: 2; background: $panel; }
    StatusBar > .status--state { text-style: bold; }
    StatusBar > .status--bad { color: $error; text-style: bold; }
    StatusBar > .status--good { color: $success; text-style: bold; }
    StatusBar > .status--bar { color: $primary; background: $surface; }
    StatusBar > .status--complete { color: $success; background: $surface; }
    """

    #: the run's latest snapshot (numpy arrays inside: never compared, every new one is news)
    latest: var[Snapshot | None] = var(None, always_update=True)
    #: epochs per second; None: full speed
    speed: var[float | None] = var(None)
    #: the learning rate shown: the run's, as last asked for (or the form's before a run)
    lr = var(0.0)
    #: why the run stopped with an error, or None
    error: var[str | None] = var(None)
    #: a word instead of the run's state ("loading torch…", "starting…"), or None
    note: var[str | None] = var(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state = "ready"
        self._look = "status--state"  # the state word's component class: plain, bad or good
        self._epoch = ""
        self._room = 0  # cells kept for the epoch's words whatever they say (its last epoch's)
        self._halves = 0  # the bar's fill in half cells
        self._percent = 0
        self._numbers = ""
        self._rows: list[tuple[object, ...]] = [(), ()]  # what each row says now
        self._strips: list[Strip | None] = [None, None]  # each row as drawn (None: to draw)
        self._styles: dict[str, Style] = {}  # the styles drawn with, until the stylesheet changes
        self._shown_snapshot: Snapshot | None = None
        self._shown_at = 0.0  # when the line last showed a snapshot (monotonic)

    # -- what it says (the tests read these; the screen reads ``snapshot``) --------------------------------------
    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot the line shows now."""
        return self._shown_snapshot

    @property
    def state_words(self) -> str:
        """The run's state as the line says it (shortened on a narrow line)."""
        return self._state

    @property
    def epoch_words(self) -> str:
        """``epoch n of N`` (empty before a run)."""
        return self._epoch

    @property
    def numbers_words(self) -> str:
        """The second row's words, fitted to the line's width."""
        return self._numbers

    @property
    def progress(self) -> tuple[int, int]:
        """(the bar's fill in half cells of :data:`BAR_CELLS`, the percentage after it)."""
        return self._halves, self._percent

    @property
    def rows(self) -> list[str]:
        """The two rows as drawn, plain text."""
        return [self.render_line(y).text for y in range(2)]

    # -- when it changes -------------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._show_state()

    def on_resize(self) -> None:
        self._show_state()  # the numbers line: longer or shorter words

    def _state_changed(self) -> None:  # the watcher of the reactives but ``latest``: shown at once
        if self.is_mounted:
            self._show_state()

    watch_speed = watch_lr = watch_error = watch_note = _state_changed

    def watch_latest(self, snap: Snapshot | None) -> None:
        if not self.is_mounted:
            return
        shown = self._shown_snapshot
        # Any state but training (started, paused, done...) is said at once.  A training run's numbers
        # come with the first frame NUMBERS_EVERY seconds after the last ones (numbers are read, not
        # watched: the charts move at the frame rate).  No timer: they go out in that frame's screen
        # update, not in one of their own (the screens' compositor paints only the rows changed).
        still_training = (  # the run shown, training then and now: only its numbers are new
            snap is not None
            and shown is not None
            and shown.run_id == snap.run_id
            and snap.status is shown.status is Status.TRAINING
        )
        if not still_training or not self.screen.is_active or time.monotonic() - self._shown_at >= NUMBERS_EVERY:
            self._show_state()

    def _show_state(self) -> None:
        self._shown_at = time.monotonic()
        snap, speed, lr, error, note = self.latest, self.speed, self.lr, self.error, self.note
        self._shown_snapshot = snap
        width = self.size.width
        state = note if note is not None else state_text(snap, error)
        if state.startswith("diverged") and width and cell_len(state) > width // 2 - 2:
            state = state.partition(":")[0]  # a narrow line keeps the news, the hint is in the notification
        self._state = state
        if error is not None or state.startswith(("diverged", "error")):
            self._look = "status--bad"
        else:
            self._look = "status--good" if state == "done" else "status--state"
        losses: list[str] = []
        if snap is not None:
            total = snap.config.epochs
            # room for the last epoch's words: the bar does not move as the epoch gains digits
            self._room = cell_len(f"epoch {total} of {total}")
            self._epoch = f"epoch {snap.epoch} of {total}"
            share = min(max(snap.epoch / total, 0.0), 1.0) if total else 1.0
            self._halves, self._percent = int(share * 2 * BAR_CELLS), round(share * 100)
            losses = [f"train {loss_text(snap.train_now)}", f"eval {loss_text(snap.eval_now)}"]
        learning = f"lr {lr:g}"
        pace = f"speed {speed_text(speed)}"
        if snap is None:
            forms = [[learning, pace]]
        else:  # longest first; a narrow terminal gets shorter words, never a cut-off speed
            rate, elapsed = snap.epochs_per_s, clock(snap.elapsed)
            forms = [
                [*losses, learning, rate_text(rate), elapsed, pace],
                [*losses, learning, rate_text(rate, short=True), elapsed, pace],
                [*losses, learning, rate_text(rate, short=True), pace],
                [*losses, learning, pace],
            ]
        self._numbers = fit_line(forms, width - 2 if width else 1_000)  # a column of margin a side
        rows = [(state, self._look, self._epoch, self._room, self._halves, self._percent), (self._numbers,)]
        for y, row in enumerate(rows):
            if row != self._rows[y]:  # a row whose words changed is drawn again; the other is left be
                self._rows[y] = row
                self._strips[y] = None
                if width:
                    self.refresh(Region(0, y, width, 1))
                else:
                    self.refresh()

    # -- how it looks ----------------------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # a new theme (or NO_COLOR): new colours, every row drawn again
        self._strips = [None, None]

    def _style(self, name: str) -> Style:
        """The line's style (``""``), or a component's on it: the colours of Textual's bar are the
        component's colour for the fill and its background colour for the track (``.track``)."""
        if not self._styles:
            base = self.visual_style.rich_style
            styles = {"": base}
            for component in self.COMPONENT_CLASSES:
                look = self.get_component_rich_style(component)
                styles[component] = base + Style(color=look.color, bold=look.bold)
                styles[f"{component}.track"] = base + Style(color=look.bgcolor)
            self._styles.update(styles)
        return self._styles[name]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y not in (0, 1):
            return Strip.blank(width, self._style(""))
        strip = self._strips[y]
        if strip is None or strip.cell_length != width:
            strip = self._strips[y] = self._state_row(width) if y == 0 else self._numbers_row(width)
        return strip

    def _state_row(self, width: int) -> Strip:
        """`` state  epoch n of N   ━━━━╸━━━━━━━  42% ``: as a row of labels and a progress bar laid it out."""
        base = self._style("")
        words = clipped(self._state, width // 2 - 2)  # the state takes at most half the line
        epoch = self._epoch + " " * max(0, self._room - cell_len(self._epoch))
        fill, track = bar_cells(self._halves)
        bar = "status--complete" if self._halves >= 2 * BAR_CELLS else "status--bar"
        percent = f"{self._percent}%".rjust(PERCENT_CELLS).ljust(PROGRESS_CELLS - BAR_CELLS)
        segments = [
            Segment(" ", base),
            Segment(words, self._style(self._look)),
            Segment(f" {epoch} ", base),
            Segment(fill, self._style(bar)),
            Segment(track, self._style(f"{bar}.track")),
            Segment(percent, base),
        ]
        return Strip(segments).adjust_cell_length(width, base)

    def _numbers_row(self, width: int) -> Strip:
        base = self._style("")
        return Strip([Segment(f" {clipped(self._numbers, width - 2)}", base)]).adjust_cell_length(width, base)
