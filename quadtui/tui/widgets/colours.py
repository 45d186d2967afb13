"""A widget's chart colours, from the app's Textual theme: worked out once, again when the theme changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.widget import Widget

from quadtui.charts import ChartTheme

_ACCENTS = ("primary", "secondary", "accent", "warning", "error", "success")


def chart_theme(app: App[Any]) -> tuple[tuple[str, bool], ChartTheme]:
    """(a key naming it, the chart colours) for the app's current Textual theme (no colour under NO_COLOR).

    Widgets keep the result (:class:`ThemedColours`) and ask again only when the app's
    ``theme_changed_signal`` says the theme changed.
    """
    key = (app.theme, app.no_color)
    if app.no_color:
        return key, ChartTheme(dark=app.current_theme.dark, color=False)
    colours = app.get_css_variables()
    return key, ChartTheme.from_textual(
        dark=app.current_theme.dark,
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        accents=[colours[name] for name in _ACCENTS if name in colours],
        color=True,
    )


class ThemedColours:
    """A widget's chart colours: worked out once, again only after the app's theme changed.

    ``changed`` is called when it did (after the widget's first look at its colours).
    """

    def __init__(self, widget: Widget, changed: Callable[[], None]) -> None:
        self._widget = widget
        self._changed = changed
        self._value: tuple[tuple[str, bool], ChartTheme] | None = None
        self._subscribed = False

    def get(self) -> tuple[tuple[str, bool], ChartTheme]:
        """(a key naming the theme, the colours)."""
        if self._value is None:
            widget = self._widget
            if not self._subscribed and widget.is_running:
                widget.app.theme_changed_signal.subscribe(widget, self._theme_changed)
                self._subscribed = True
            value = chart_theme(widget.app)
            if not self._subscribed:
                return value  # not mounted yet: asked again once it is
            self._value = value
        return self._value

    def _theme_changed(self, _theme: object) -> None:
        self._value = None
        self._changed()
