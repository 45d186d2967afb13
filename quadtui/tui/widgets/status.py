"""The status line: what the run is doing, how far it is, and its numbers."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.widgets import ProgressBar, Static

from quadtui.core.pacing import NUMBERS_EVERY

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

#: a running run's new numbers reach the status line this much later (s), in a screen update of their own
STATUS_LAG = 0.03


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


class StatusBar(Vertical):
    """Two lines: ``state  epoch n of N [bar]`` and ``train · eval · lr · epochs/s · elapsed · speed``.

    The screen binds its state to the reactives below (``data_bind``); a change of them
    rewrites the labels whose text changed, and only those.  A running run's new numbers
    come :data:`STATUS_LAG` later, in a screen update of their own, and at most every
    :data:`NUMBERS_EVERY` seconds (see :meth:`watch_latest`).
    """

    DEFAULT_CSS = """
    StatusBar { height: 2; background: $panel; }
    StatusBar Horizontal { height: 1; }
    StatusBar #state { width: auto; max-width: 50%; padding: 0 1; text-style: bold; }
    StatusBar #state.-bad { color: $error; }
    StatusBar #state.-good { color: $success; }
    StatusBar #epoch { width: auto; padding: 0 1 0 0; }
    StatusBar ProgressBar { width: 18; }
    StatusBar ProgressBar Bar { width: 12; }
    StatusBar #numbers { width: 1fr; height: 1; padding: 0 1; }
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
        self._shown: dict[str, str] = {}  # what each label shows now
        self._look: tuple[bool, bool] | None = None  # the state label's (-bad, -good) classes
        self._shown_snapshot: Snapshot | None = None
        self._due = False  # a lagging update is scheduled
        self._shown_at = 0.0  # when the labels last showed a snapshot (monotonic)
        self._progress_look: tuple[object, ...] | None = None  # what the progress bar draws now
        self._room: dict[str, int] = {}  # cells kept for a label whatever its text (the epoch's: its last)

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot the labels show now."""
        return self._shown_snapshot

    def _set(self, name: str, text: str) -> bool:
        """Show ``text`` in label ``name`` (a new layout only if its width changed); False if it already did."""
        old = self._shown.get(name)
        if text == old:
            return False
        self._shown[name] = text
        # #numbers spans the rest of the line; the others are as wide as their text (or the room kept for it)
        room = self._room.get(name, 0)
        layout = name != "numbers" and (old is None or max(cell_len(old), room) != max(cell_len(text), room))
        # the numbers are plain words (no markup to parse every frame); the state may say an error's words
        shown = text if name == "state" else Content(text)
        self.query_one(f"#{name}", Static).update(shown, layout=layout)
        return True

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("ready", id="state")
            yield Static("", id="epoch")
            yield ProgressBar(total=1, show_eta=False, id="progress")
        yield Static("", id="numbers")

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
        news = snap is None or shown is None or shown.run_id != snap.run_id or shown.status is not snap.status
        if news or not self.screen.is_active:  # started, paused, done...: said at once
            self._show_state()
        elif not self._due:
            # A run's new numbers reach the status line in a screen update of their own, just
            # after the charts' one: Textual repaints the box around everything changed at once,
            # and the chart (top right) with the status (bottom, full width) spans the form too —
            # eighty widgets a frame, where apart they are a dozen.  Twice a second is enough for
            # numbers (their update is a third of a frame's cost); the charts move at the frame rate.
            self._due = True
            wait = self._shown_at + NUMBERS_EVERY - time.monotonic()
            self.set_timer(max(STATUS_LAG, wait), self._show_state)

    def _keep_room(self, name: str, widest: str) -> None:
        """Keep room for label ``name``'s ``widest`` text: the line is laid out again once a run, not
        whenever the epoch gains a digit (a new layout of the screen costs more than ten frames)."""
        room = cell_len(widest)
        if self._room.get(name) != room:
            self._room[name] = room
            label = self.query_one(f"#{name}", Static)
            label.styles.min_width = room + label.styles.padding.width

    def _show_progress(self, epoch: int, total: int) -> None:
        """The bar at ``epoch`` of ``total``, told only when what it draws changes: a new progress
        repaints the bar, its track and its percentage, and most frames move none of them."""
        bar = self.query_one(ProgressBar)
        share = min(max(epoch / total, 0.0), 1.0) if total else 1.0
        cells = 2 * self.query_one("#progress Bar").size.width  # the track draws half cells
        look = (total, round(share * 100), int(share * cells) if cells else share)
        if look != self._progress_look:
            self._progress_look = look
            bar.update(total=total, progress=epoch)

    def _show_state(self) -> None:
        self._due = False
        self._shown_at = time.monotonic()
        snap, speed, lr, error, note = self.latest, self.speed, self.lr, self.error, self.note
        self._shown_snapshot = snap
        state = note if note is not None else state_text(snap, error)
        if state.startswith("diverged") and self.size.width and cell_len(state) > self.size.width // 2 - 2:
            state = state.partition(":")[0]  # a narrow line keeps the news, the hint is in the notification
        self._set("state", state)
        look = (error is not None or state.startswith(("diverged", "error")), state == "done")
        if look != self._look:  # restyling costs a stylesheet pass: only when it changes
            self._look = look
            label = self.query_one("#state", Static)
            label.set_class(look[0], "-bad")
            label.set_class(look[1], "-good")
        losses: list[str] = []
        if snap is not None:
            total = snap.config.epochs
            self._keep_room("epoch", f"epoch {total} of {total}")
            self._set("epoch", f"epoch {snap.epoch} of {total}")
            self._show_progress(snap.epoch, total)
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
        width = self.size.width - 2 if self.size.width else 1_000  # #numbers has one column of padding a side
        self._set("numbers", fit_line(forms, width))
