"""A bordered widget's rows, finished for the compositor and kept: a repainted row is a list lookup.

Textual paints a widget's line through its StylesCache: for every row it repaints it reads the
border, padding and colours from the styles again, wraps the content line in them, renders the
border title's Content and runs the app's line filters.  A chart repaints rows many times a second
where only a few of them changed, and every screen update asks a widget for all its rows.
:class:`FramedRows` keeps each finished row (border, padding, content and filters in one Strip)
beside what it was made from: the content line (the same Strip object while the line stands), the
border title or subtitle (the same Content while it stands).  A row is made again only when that
changed, all rows only when a style did (size, colours, border, filters, theme).

The result is the same as Textual's, segment for segment (the tests compare them): a content row
is made the way Textual makes it (``StylesCache.render_line``), and the border's top and bottom
rows and any padding rows are made by Textual itself.  Styles this does not reproduce (an outline,
hatch, tint, opacity, text opacity) say None: the widget uses Textual's own path.  Links are not
restyled on hover (Textual's ``auto_links``): a chart's rows have none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.filter import ANSIToTruecolor, LineFilter, Monochrome, NoColor
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style

try:  # Textual's own row maker: internals, so guarded (see FramedRows.render)
    from textual._border import get_box
    from textual._styles_cache import StylesCache
except ImportError:  # pragma: no cover (a Textual whose internals moved: its own path draws the rows)
    get_box = StylesCache = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.terminal_theme import TerminalTheme
    from textual.color import Color
    from textual.css.styles import StylesBase
    from textual.geometry import Size, Spacing
    from textual.widget import Widget


#: Textual's line filters that only give each segment a new style, from its style and the background
#: (the text and the cells stay): the app's ANSI-colour filter, and NO_COLOR's Monochrome or NoColor
_RESTYLING = (ANSIToTruecolor, Monochrome, NoColor)
#: styles remembered per frame at most (a chart uses a few dozen; a new picture reuses them)
_RESTYLED_AT_MOST = 1024
_UNKNOWN = RichStyle()  # not a remembered style (None is one)


class _Frame:
    """What every row is made with, for one set of styles: worked out when the widget's styles (or
    size, or the app's line filters) changed, not for every render."""

    __slots__ = (
        "size",
        "filters",
        "background",
        "labels",
        "label_styles",
        "looks",
        "restyle",
        "top",
        "bottom",
        "gutter_top",
        "content",
        "content_width",
        "left",
        "right",
        "inner",
    )

    def __init__(self, widget: Widget, filters: tuple[LineFilter, ...], textual: StylesCache) -> None:
        styles = widget.styles
        self.size = size = widget.outer_size
        self.filters = filters
        base_background, self.background = widget.background_colors
        height = size.height
        (top, _), (right, right_colour), (bottom, _), (left, left_colour) = styles.border
        pad_top, pad_right, pad_bottom, pad_left = padding = styles.padding
        gutter = styles.gutter
        self.gutter_top = gutter.top
        self.content_width, content_height = content_size = widget.content_region.size
        self.top, self.bottom = bool(top), bool(bottom)
        #: per row: a content row (made here), or a border, padding or blank row (made by Textual);
        #: the same tests, in the same order, as ``StylesCache.render_line``
        self.content = [
            not ((top and y == 0) or (bottom and y == height - 1))
            and not ((pad_top and y < gutter.top) or (pad_bottom and y >= height - gutter.bottom))
            and 0 <= y - gutter.top < content_height
            for y in range(height)
        ]
        inner, outer = textual.get_inner_outer(base_background, self.background)
        self.inner = inner.rich_style
        #: what goes left and right of a content line: the border's side and the padding
        self.left: list[Segment] = []
        self.right: list[Segment] = []
        if left:
            self.left.append(get_box(left, inner, outer, Style(foreground=base_background + left_colour))[1][0])
        if pad_left:
            self.left.append(Segment(" " * pad_left, self.inner))
        if pad_right:
            self.right.append(Segment(" " * pad_right, self.inner))
        if right:
            self.right.append(get_box(right, inner, outer, Style(foreground=base_background + right_colour))[1][2])
        #: Textual's row maker's arguments besides the row and the labels (for the border and padding rows)
        app = widget.app
        self.labels: tuple[StylesBase, Size, Size, Spacing, Color, Color, Callable[[int], Strip]] = (
            styles,
            size,
            content_size,
            padding,
            base_background,
            self.background,
            widget.render_line,
        )
        self.label_styles = (
            widget._get_title_style_information(base_background),
            widget._get_subtitle_style_information(base_background),
        )
        self.looks: tuple[float, TerminalTheme, bool] = (widget.opacity, app.ansi_theme, app.native_ansi_color)

        #: the app's filters' style for each style (the filters only restyle segments, one at a time), or None
        self.restyle: dict[RichStyle | None, RichStyle | None] | None = (
            {} if filters and all(type(f) in _RESTYLING for f in filters) else None
        )

    def filtered(self, segments: list[Segment]) -> list[Segment]:
        """``segments`` through the app's filters (:attr:`restyle`): the same segments as theirs, where the
        filters' own ``apply`` runs a cached lookup or two for every segment of every row."""
        restyle = self.restyle
        assert restyle is not None
        if len(restyle) > _RESTYLED_AT_MOST:
            restyle.clear()
        out = []
        for text, style, control in segments:
            if control:  # not in a chart's rows: the filters themselves
                return self._through_filters(segments)
            new = restyle.get(style, _UNKNOWN)
            if new is _UNKNOWN:
                new = restyle[style] = self._through_filters([Segment(" ", style)])[0].style
            out.append(Segment(text, new))
        return out

    def _through_filters(self, segments: list[Segment]) -> list[Segment]:
        for line_filter in self.filters:
            segments = line_filter.apply(segments, self.background)
        return segments

    @staticmethod
    def supported(widget: Widget) -> bool:
        """Whether the widget's styles are ones this draws (not an outline, hatch, tint, opacity or
        text opacity: Textual's own path draws those)."""
        styles = widget.styles
        return not (
            widget.opacity != 1.0
            or styles.text_opacity != 1.0
            or styles.tint.a
            or any(edge for edge, _ in styles.outline)
            or (styles.has_rule("hatch") and styles.hatch != "none")
        )


class FramedRows:
    """One widget's finished rows (see the module's docstring).

    The widget calls :meth:`clear` wherever Textual clears its own StylesCache (``Widget._set_dirty``
    with no regions: a style, the size or the theme changed), and :meth:`render` from ``render_lines``.
    """

    #: set once making rows failed: this draws on Textual's internals (its row maker, its box characters), and
    #: a Textual whose internals changed must cost speed, never a frame: its own path draws from then on
    broken = StylesCache is None

    def __init__(self) -> None:
        self._frame: _Frame | None = None
        self._rows: list[Strip | None] = []
        self._sources: list[object] = []  # what each row was made from (compared by identity)
        self._textual = None if self.broken else StylesCache()  # Textual's row maker: border and padding rows
        self.made = 0  # rows made, not looked up (for tests)

    def clear(self) -> None:
        """Forget every row: the next render makes them all, with the styles as they are then."""
        self._frame = None

    def render(self, widget: Widget, crop: Region) -> list[Strip] | None:
        """``widget``'s rows in ``crop``, as Textual's ``Widget.render_lines`` gives them;
        None: styles that only Textual's own path draws (or this Textual's internals are not what
        this was made for: :attr:`broken`)."""
        if FramedRows.broken or self._textual is None:
            return None
        try:
            return self._render(widget, crop)
        except Exception as exc:
            FramedRows.broken = True
            self._frame = None
            widget.log.error(f"chart rows: Textual's own path from now on ({type(exc).__name__}: {exc})")
            return None

    def _render(self, widget: Widget, crop: Region) -> list[Strip] | None:
        assert self._textual is not None
        filters = tuple(widget.get_line_filters())  # applied to every row, as Textual does at every render
        frame = self._frame
        if frame is None or frame.filters != filters or frame.size != widget.outer_size:
            if not _Frame.supported(widget):
                self._frame = None
                return None
            frame = self._frame = _Frame(widget, filters, self._textual)
            self._rows = [None] * frame.size.height
            self._sources = [None] * frame.size.height
        rows, sources = self._rows, self._sources
        background = frame.background
        content, (width, height), top = frame.content, frame.size, frame.gutter_top
        strips = []
        for y in crop.line_range:
            if y >= height:
                break
            source: object
            is_content = content[y]
            if is_content:
                source = widget.render_line(y - top)
            elif y == 0 and frame.top:
                source = widget._border_title
            elif y == height - 1 and frame.bottom:
                source = widget._border_subtitle
            else:
                source = None
            row = rows[y]
            if row is None or sources[y] is not source:
                self.made += 1
                segments: list[Segment]
                if is_content:
                    assert isinstance(source, Strip)
                    line = source.adjust_cell_length(frame.content_width, frame.inner)
                    segments = [*frame.left, *line, *frame.right]
                else:
                    segments = list(self._textual_row(widget, y, frame))
                if frame.restyle is not None:
                    segments = frame.filtered(segments)
                else:
                    for line_filter in filters:  # what Strip.apply_filter does, without a Strip for each filter
                        segments = line_filter.apply(segments, background)
                row = Strip(segments, width)
                rows[y], sources[y] = row, source
            strips.append(row)
        x1, x2 = crop.column_span
        if (x1, x2) != (0, width):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _textual_row(self, widget: Widget, y: int, frame: _Frame) -> Strip:
        """Row ``y`` (a border or padding row) made by Textual's StylesCache, unfiltered."""
        styles, size, content_size, padding, base, background, line = frame.labels
        title_style, subtitle_style = frame.label_styles
        title, subtitle = widget._border_title, widget._border_subtitle
        assert self._textual is not None
        self._textual._simple_strip = None
        return self._textual.render_line(
            styles,
            y,
            size,
            content_size,
            padding,
            base,
            background,
            line,
            None if title is None else (title, *title_style),
            None if subtitle is None else (subtitle, *subtitle_style),
            *frame.looks,
        )
