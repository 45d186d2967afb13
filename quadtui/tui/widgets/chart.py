"""Chart widgets: a snapshot drawn by a :mod:`quadtui.charts` function, cached per frame.

A chart calls its chart function with its content size when Textual asks for its
lines (:meth:`Chart.render_line`, the line API: the chart's strips go straight to
the compositor, no rich Text in between) and keeps the result keyed on everything
the picture depends on (run, epoch, status, weights set by hand, size, theme, neuron,
mode and overlays).  Unchanged frames — a paused run, a redraw caused by something else on
screen — cost nothing; a resize or a theme change draws afresh.  A training run's snapshot that
moves nothing on screen is not drawn at all (:mod:`~quadtui.tui.widgets.kept_picture`); the run's
own charts, loss, fit and neuron, are in :mod:`~quadtui.tui.widgets.run_charts`.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from quadtui.charts import ChartTheme, LegendEntry, legend_line
from quadtui.charts.theme import RGB
from quadtui.core.pacing import NUMBERS_EVERY
from quadtui.core.snapshot import Status
from quadtui.tui.widgets.ansi import Strips, to_strips
from quadtui.tui.widgets.colours import ThemedColours
from quadtui.tui.widgets.framed import FramedRows
from quadtui.tui.widgets.kept_picture import KeptPicture

if TYPE_CHECKING:
    from typing_extensions import Self  # typing's own from Python 3.11

    from quadtui.core.snapshot import Snapshot

#: a chart may spend at most about this share of the UI thread on drawing a running run
DRAW_SHARE = 0.2
#: Textual's descriptor for a widget's border title (Chart's property works out a stale title first)
_BORDER_TITLE = Widget.__dict__["border_title"]


class Chart(KeptPicture, Widget):
    """Base class: subclasses say how to draw and what else the picture depends on (and, to keep a
    training run's picture, what it is drawn from: :class:`KeptPicture`'s hooks)."""

    DEFAULT_CSS = """
    Chart {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1 0 0;
    }
    """

    TITLE = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        self._title_stale = False  # the title was left out while the chart was not displayed (set before
        self._legend_stale = False  # ...Widget's __init__, which may set the title); and the legend
        super().__init__(id=id, classes=classes)
        self.snapshot: Snapshot | None = None
        self._key: Hashable = None
        #: the picture (its text and the widget's colours it was made on: the chart's own colours over them)
        self._lines: Strips = Strips([], [], [], None)
        self.draws = 0  # how many times the chart function ran (for tests)
        self._next_draw = 0.0  # perf_counter time before which a new epoch is not drawn
        self._catch_up = False  # a refresh is scheduled for a frame that was skipped
        self.overlays: Sequence[Any] = ()  # earlier runs drawn under this one (loss and fit charts)
        self._overlay_key: Hashable = None
        #: the border's title and legend (its entries as (key, label, colour), and the caption), as last set
        self._labels: tuple[str, Hashable] | None = None
        self._dropped = False  # hidden, and its lines were dropped (refreshed) since it was last drawn
        self._in_pass = False  # Textual is asking for lines (render_lines)
        self._init_keeping()
        self._border_only = False  # a new title or legend: only the border's lines are repainted
        self._labelled_at = 0.0  # when the title and legend were last worked out (monotonic)
        self._rendering: list[Strip] | None = None  # the picture, once looked up in this pass
        self._whole = True  # the whole chart is to be painted (not only rows a new epoch changed)
        self._pass_whole = False  # ...in the pass Textual is in (render_lines)
        self._rows = FramedRows()  # the rows Textual asks for, finished and kept
        self._framed = False  # the last rows were FramedRows' (not Textual's own path)
        self.colours = ThemedColours(self, self.changed)  # a new theme: new legend colours and picture

    def on_mount(self) -> None:
        self._label()

    def on_resize(self) -> None:
        self._label()

    def _label(self) -> None:
        """The border: the title (name and live facts) on top, the legend (and axis name) below.

        A chart that is not displayed (a tab not chosen, the network view on top) works out neither:
        they are left stale, and worked out when it is shown (its first paint, :meth:`render_lines`)
        or read (:attr:`border_title`, :attr:`legend_text`), not for every snapshot of a run nobody sees.
        """
        if not self.display:
            self._title_stale = self._legend_stale = True
            return
        self._relabel()

    def _relabel(self, legend: bool = True) -> None:
        """Work out the title and (``legend``) the legend, and set what changed on the border."""
        title = self.title()
        self._title_stale = False
        if not legend:
            if title != (self._labels or ("", ""))[0]:
                self._labels = (title, self._labels[1] if self._labels else None)
                self._set_border(title=title)
            return
        self._legend_stale = False
        self._labelled_at = time.monotonic()
        _, theme = self.colours.get()
        caption = self.caption()
        budget = max(0, self.size.width - 6 - (len(caption) + 3 if caption else 0))
        entries = legend_line(self.legend(theme), budget)
        under = (tuple((e.key, e.label, e.color if theme.color else None) for e in entries), caption)
        if (title, under) != self._labels:  # a new border title repaints the border: only what changed
            old = self._labels or (None, None)
            self._labels = (title, under)
            self._set_border(
                title=title if title != old[0] else None, legend=_legend(*under) if under != old[1] else None
            )

    @property
    def border_title(self) -> str | None:
        """The title on the border (worked out first if it was left out while the chart was hidden)."""
        if self._title_stale:
            self._relabel(legend=False)
        return _BORDER_TITLE.__get__(self)

    @border_title.setter
    def border_title(self, title: str | Text | Content | None) -> None:
        _BORDER_TITLE.__set__(self, title)

    def _set_border(self, title: str | None = None, legend: Content | None = None) -> None:
        """A new title and/or legend (None: unchanged), repainting the border's lines only: Textual
        repaints the whole chart for a new border title, and the picture may well be the same.
        The title is plain words, given as Content: not parsed as markup (every frame has a new one)."""
        self._border_only = True
        try:
            if title is not None:
                self.border_title = Content(title)
            if legend is not None:
                self.border_subtitle = legend
        finally:
            self._border_only = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if self._border_only and not regions and repaint and not layout and not recompose and self.is_mounted:
            (left, top), (width, height) = self.content_offset, self.outer_size
            if width and height:  # the top and bottom lines, in content coordinates (as refresh takes them)
                return super().refresh(Region(-left, -top, width, 1), Region(-left, height - 1 - top, width, 1))
        if repaint and not regions:
            self._whole = True  # every line is painted next: a new picture may be drawn while Textual asks
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _set_dirty(self, *regions: Region) -> None:
        # Textual clears its StylesCache here, and only here (a style, the size or the theme changed):
        # the finished rows follow the same rule
        if not regions:
            self._rows.clear()
        super()._set_dirty(*regions)

    # -- what subclasses provide ------------------------------------------------------
    def title(self) -> str:
        return self.TITLE

    def legend(self, theme: ChartTheme) -> list[LegendEntry]:
        """The series drawn, for the border (the chart's text has no legend line)."""
        return []

    def caption(self) -> str:
        """Words after the legend (what an axis shows)."""
        return ""

    def mode(self) -> Hashable:
        """Anything besides the snapshot, size and theme that changes the picture."""
        return None

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        raise NotImplementedError

    # -- updating ---------------------------------------------------------------------
    def _snap_key(self) -> Hashable:
        snap = self.snapshot
        if snap is None:
            return None
        # weights set by hand change the picture at the same epoch (views of sweeps and the board have none)
        return (snap.run_id, snap.epoch, snap.status, len(getattr(snap, "weight_edits", ())))

    def show(self, snapshot: Snapshot | None) -> None:
        """Draw ``snapshot`` on the next refresh, if it changes the picture."""
        old = self._snap_key()
        self.snapshot = snapshot
        if self._snap_key() != old:
            if not self.display:  # nobody sees it: no title, no timer, no picture until it is shown
                self._title_stale = self._legend_stale = True
                self._repaint()
                return
            keeps = self._keeps_picture()
            if self._numbers_due():
                self._relabel()
            elif not keeps:  # a new picture and its title (the epoch); the legend's numbers follow when due
                self._relabel(legend=False)
            if not keeps:
                self._repaint()

    def _numbers_due(self) -> bool:
        """Whether the border's numbers are due: the title's while the picture stands (kept by its
        signature), the legend's (eval's latest loss...) always.  At once for any state but training,
        else with the first frame :data:`NUMBERS_EVERY` seconds after they were last written: they
        are read, not watched, and three borders rewritten every frame cost, at 120×40, as much as
        the loss chart's picture.  A new picture's title (its epoch) is written with it.  No timer:
        the numbers go out in a frame's screen update, not in one of their own, and a training
        run's frames keep coming (the last one, paused or done, is drawn whole)."""
        snap = self.snapshot
        if snap is None or snap.status is not Status.TRAINING:
            return True
        return time.monotonic() - self._labelled_at >= NUMBERS_EVERY

    def _repaint(self) -> None:
        """Repaint the rows that changed; while not displayed refresh only once: its lines, once dropped,
        stay so until it is drawn again, and a refresh per snapshot would only wake the chart and the
        screen for nothing."""
        if self.display:
            rows = self._changed_rows()
            if rows is None:
                self.refresh()
            elif rows:
                width = self.content_size.width
                self.refresh(*(Region(0, y, width, 1) for y in rows))
        elif not self._dropped:
            self._dropped = True
            self.refresh()

    def _changed_rows(self) -> list[int] | None:
        """Draw the picture now, not when Textual asks for its lines, and say which of its rows differ from
        the picture before: only those are painted again (a plain refresh repaints the whole chart and
        its border, where a training frame moves a few rows: the end of a curve, a label or two).
        None: paint it all (a new size or style, or no picture yet).  Marked rows stay marked until
        Textual's next screen update, so pictures drawn in between repaint every row any of them changed."""
        before = self._lines
        lines = self._picture()
        if lines is before:
            return []  # not drawn yet (too soon after the last one: a timer draws it)
        return self._lines.changed(before) if before else None

    def set_overlays(self, overlays: Sequence[Any], key: Hashable) -> None:
        """Draw ``overlays`` (earlier runs) too; ``key`` changes whenever they do."""
        if key != self._overlay_key:
            self.overlays, self._overlay_key = overlays, key
            self._label()
            self.refresh()

    def changed(self) -> None:
        """The mode changed: redraw."""
        if self.is_mounted:
            self._label()
            self.refresh()

    def _mode_changed(self) -> None:  # the watcher of every reactive in mode()
        self.changed()

    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows Textual asks for, finished (border, labels, padding, picture and the app's filters)
        and kept by :class:`FramedRows`: only the rows whose picture line or label changed are made
        again (Textual's own path makes every repainted row again and asks for all of them)."""
        # the picture is looked up once for the lines Textual asks for in one pass, not once a line
        self._dropped = False  # drawn: its lines are kept again
        self._in_pass = True
        self._pass_whole, self._whole = self._whole, False
        try:
            if self._title_stale or self._legend_stale:  # shown now: its labels were left out while hidden
                self._relabel()
            rows = self._rows.render(self, crop)
            if rows is None:  # styles only Textual draws
                if self._framed:  # its cache missed every change since Textual last drew the chart
                    self._framed = False
                    self._styles_cache.clear()
                return super().render_lines(crop)
            self._framed = True
            return rows
        finally:
            self._in_pass, self._rendering = False, None

    def render_line(self, y: int) -> Strip:
        lines = self._rendering
        if lines is None:
            lines = self._picture(rendering=not self._pass_whole)
            if self._in_pass:
                self._rendering = lines
        return lines[y] if y < len(lines) else Strip.blank(0)

    def _picture(self, rendering: bool = False) -> list[Strip]:
        """The picture for the current size, theme and snapshot: drawn only when one of them changed.

        ``rendering``: Textual asks for some of the lines, not all.  A new epoch's picture is then
        not drawn here but just after (:meth:`_repaint`, which marks the rows it changed): drawn here,
        the rows Textual does not ask for would keep showing the picture before."""
        width, height = self.content_size
        if width < 8 or height < 3:
            return []
        theme_key, theme = self.colours.get()
        key = self._picture_key(width, height, theme_key)
        style = self.visual_style.rich_style
        if key != self._key and rendering and self._lines and isinstance(self._key, tuple) and key[1:] == self._key[1:]:
            if not self._catch_up:
                self._catch_up = True
                self.call_later(self._late_refresh)
            return self._lines
        if key != self._key:
            started = time.perf_counter()
            if not self._too_soon(key, started):
                try:
                    ansi = self.draw(width, height, theme)
                except Exception as exc:  # a chart bug must not take the run down with it
                    self.log.error(f"{type(self).__name__} failed: {exc!r}")
                    ansi = f"(chart could not be drawn: {type(exc).__name__}: {exc})"
                self.draws += 1
                self._note_drawn(key, width, height, theme, started)
                self._lines = to_strips(ansi, style, reuse=self._lines or None)
                self._key = key
                self._next_draw = started + (time.perf_counter() - started) / DRAW_SHARE
        if style != self._lines.base:  # the widget's colours changed (focus, theme): the same picture on them
            self._lines = to_strips(self._lines.text, style)
        return self._lines

    def _picture_key(self, width: int, height: int, theme_key: Hashable) -> tuple[Hashable, ...]:
        """Everything the picture depends on."""
        return (self._snap_key(), width, height, theme_key, self.mode(), self._overlay_key)

    def _too_soon(self, key: tuple[Hashable, ...], now: float) -> bool:
        """Only a new epoch (same size, theme and mode) and the last draw was recent: draw it later."""
        wait = self._next_draw - now
        if wait <= 0 or not isinstance(self._key, tuple) or key[1:] != self._key[1:]:
            return False
        if not self._catch_up:
            self._catch_up = True
            self.set_timer(wait, self._late_refresh)
        return True

    def _late_refresh(self) -> None:
        self._catch_up = False
        self._repaint()

    @property
    def up_to_date(self) -> bool:
        """The text on screen shows the latest snapshot (it has been drawn since it arrived)."""
        return isinstance(self._key, tuple) and self._key[0] == self._snap_key()

    @property
    def plain(self) -> str:
        """The text the chart shows now (for tests and screen readers)."""
        return "\n".join(line.text for line in self._lines)

    @property
    def legend_text(self) -> str:
        """The legend under the chart, as plain text (for tests and screen readers)."""
        if self._legend_stale or self._title_stale:
            self._relabel()
        return Content.from_markup(self.border_subtitle or "").plain

    @property
    def _text(self) -> Text:
        """The picture as rich Text (for tests: it is not what is drawn)."""
        return Text.from_ansi(self._lines.text, no_wrap=True, overflow="crop", end="")


def placeholder(width: int, height: int, hint: str = "no run yet") -> str:
    """An empty chart: the hint, centred (the board's before its rows come)."""
    lines = [" " * width] * height
    lines[height // 2] = hint[:width].center(width)
    return "\n".join(lines)


def _legend(entries: tuple[tuple[str, str, RGB | None], ...], caption: str) -> Content:
    """The legend line: each entry's key in its colour and its label, then the caption."""
    parts: list[str | tuple[str, str]] = []
    for key, label, colour in entries:
        if parts:
            parts.append("  ")
        parts += [(key, "rgb({},{},{})".format(*colour)) if colour is not None else key, f" {label}"]
    if caption:
        parts += ["  " if parts else "", caption]
    return Content.assemble(*parts)
