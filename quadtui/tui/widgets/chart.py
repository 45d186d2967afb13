"""Chart widgets: a snapshot drawn by a :mod:`quadtui.charts` function, cached per frame.

A chart calls its chart function from :meth:`render` with its content size and
keeps the result keyed on everything the picture depends on (run, epoch,
status, size, theme, neuron, mode and overlays).  Unchanged frames — a paused run, a
redraw caused by something else on screen — cost nothing; a resize or a theme
change draws afresh.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Hashable, Sequence

from rich.text import Text
from textual.app import App
from textual.widget import Widget

from quadtui.charts import ChartTheme, fit_chart, loss_chart, neuron_chart

if TYPE_CHECKING:
    from quadtui.core.engine import Snapshot

#: a chart may spend at most about this share of the UI thread on drawing a running run
DRAW_SHARE = 0.2
_ACCENTS = ("primary", "secondary", "accent", "warning", "error", "success")
_theme_cache: dict[tuple[str, bool], ChartTheme] = {}


def chart_theme(app: App[Any]) -> tuple[tuple[str, bool], ChartTheme]:
    """The chart colours for the app's current Textual theme (no colour at all under NO_COLOR)."""
    key = (app.theme, app.no_color)
    theme = _theme_cache.get(key)
    if theme is None:
        if app.no_color:
            theme = ChartTheme(dark=app.current_theme.dark, color=False)
        else:
            colours = app.get_css_variables()
            theme = ChartTheme.from_textual(
                dark=app.current_theme.dark,
                foreground=colours.get("foreground"),
                background=colours.get("background"),
                accents=[colours[name] for name in _ACCENTS if name in colours],
                color=True,
            )
        _theme_cache[key] = theme
    return key, theme


class Chart(Widget):
    """Base class: subclasses say how to draw and what else the picture depends on."""

    DEFAULT_CSS = """
    Chart {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1 0 0;
    }
    """

    TITLE = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.snapshot: Snapshot | None = None
        self._key: Hashable = None
        self._text = Text()
        self.draws = 0  # how many times the chart function ran (for tests)
        self._next_draw = 0.0  # perf_counter time before which a new epoch is not drawn
        self._catch_up = False  # a refresh is scheduled for a frame that was skipped
        self.overlays: Sequence[Any] = ()  # earlier runs drawn under this one (loss and fit charts)
        self._overlay_key: Hashable = None

    def on_mount(self) -> None:
        self.border_title = self.title()

    # -- what subclasses provide ------------------------------------------------------
    def title(self) -> str:
        return self.TITLE

    def mode(self) -> Hashable:
        """Anything besides the snapshot, size and theme that changes the picture."""
        return None

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        raise NotImplementedError

    # -- updating ---------------------------------------------------------------------
    def _snap_key(self) -> Hashable:
        snap = self.snapshot
        return None if snap is None else (snap.run_id, snap.epoch, snap.status)

    def show(self, snapshot: Snapshot | None) -> None:
        """Draw ``snapshot`` on the next refresh, if it changes the picture."""
        old = self._snap_key()
        self.snapshot = snapshot
        if self._snap_key() != old:
            self.border_title = self.title()
            self.refresh()

    def set_overlays(self, overlays: Sequence[Any], key: Hashable) -> None:
        """Draw ``overlays`` (earlier runs) too; ``key`` changes whenever they do."""
        if key != self._overlay_key:
            self.overlays, self._overlay_key = overlays, key
            self.refresh()

    def changed(self) -> None:
        """The mode changed: redraw."""
        self.border_title = self.title()
        self.refresh()

    def render(self) -> Text:
        width, height = self.content_size
        if width < 8 or height < 3:
            return Text("")
        theme_key, theme = chart_theme(self.app)
        key = (self._snap_key(), width, height, theme_key, self.mode(), self._overlay_key)
        if key != self._key:
            started = time.perf_counter()
            if self._too_soon(key, started):
                return self._text
            try:
                ansi = self.draw(width, height, theme)
            except Exception as exc:  # a chart bug must not take the run down with it
                self.log.error(f"{type(self).__name__} failed: {exc!r}")
                ansi = f"(chart could not be drawn: {type(exc).__name__}: {exc})"
            self._text = Text.from_ansi(ansi, no_wrap=True, overflow="crop", end="")
            self._key = key
            self.draws += 1
            self._next_draw = started + (time.perf_counter() - started) / DRAW_SHARE
        return self._text

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
        self.refresh()

    @property
    def up_to_date(self) -> bool:
        """The text on screen shows the latest snapshot (it has been drawn since it arrived)."""
        return isinstance(self._key, tuple) and self._key[0] == self._snap_key()

    @property
    def plain(self) -> str:
        """The text the chart shows now (for tests and screen readers)."""
        return self._text.plain


class LossChart(Chart):
    TITLE = "loss"

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return loss_chart(self.snapshot, width, height, theme, overlays=self.overlays)


class FitChart(Chart):
    TITLE = "fit"

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return fit_chart(self.snapshot, width, height, theme, overlays=self.overlays)


class NeuronChart(Chart):
    """One hidden neuron: its activation hᵢ(x), or its contribution wᵢ·hᵢ(x) to the output."""

    def __init__(self, neuron: int = 0, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.neuron = neuron
        self.contribution = False

    def title(self) -> str:
        units = self.snapshot.units if self.snapshot is not None else None
        of = f" of {units}" if units else ""
        what = f"contribution w{self.neuron}·h{self.neuron}(x)" if self.contribution else f"h{self.neuron}(x)"
        return f"neuron {self.neuron}{of}: {what}"

    def mode(self) -> Hashable:
        return (self.neuron, self.contribution)

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return neuron_chart(self.snapshot, self.neuron, self.contribution, width, height, theme)
