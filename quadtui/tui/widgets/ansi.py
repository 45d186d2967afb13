"""Chart text (ANSI colours) to Textual strips, fast.

``rich.text.Text.from_ansi`` followed by Textual's content pipeline costs about
as much as drawing the chart; chart text only ever holds SGR codes (colours,
bold, resets), so a regex split and a cache of styles per run of codes does the
same job several times faster.  Anything but SGR is dropped, as Text.from_ansi does.
A base style (the widget's colours) goes under every segment as the strips are made,
as ``Strip.apply_style`` would, without a second pass over the picture.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.strip import Strip

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER = re.compile(r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
#: styles by their run of codes; a chart uses a handful, a theme change brings a new handful
_styles: LRUCache[tuple[str, ...], Style | None] = LRUCache(maxsize=512)
_UNKNOWN = Style()  # not a cached style (None is one: no codes that rich knows)


def _style(codes: tuple[str, ...]) -> Style | None:
    """The style that ``codes`` (SGR parameters since the last reset) add up to, as rich decodes them."""
    style = _styles.get(codes, _UNKNOWN)
    if style is _UNKNOWN:
        text = Text.from_ansi("".join(f"\x1b[{code}m" for code in codes) + "x")
        spans = [span.style for span in text.spans if isinstance(span.style, Style)]
        style = Style.combine(spans) if spans else None
        _styles.set(codes, style)
    return style


def to_strips(ansi: str, base: Style | None = None) -> list[Strip]:
    """One strip per line of ``ansi``; styles carry over line ends, as in a terminal.

    With ``base`` each segment's style is ``base + its own`` (what ``Strip.apply_style(base)`` gives).
    """
    strips = []
    codes: tuple[str, ...] = ()
    plain: Style | None = base or None  # rich's apply_style leaves segments alone under a null style
    styled: dict[tuple[str, ...], Style | None] = {}  # base + the style of a run of codes, this picture
    for line in ansi.split("\n"):
        segments = []
        for i, piece in enumerate(_SGR.split(line)):
            if i % 2:  # an SGR parameter string
                if piece in ("", "0"):
                    codes = ()
                elif piece.startswith("0;"):
                    codes = (piece[2:],)
                else:
                    codes = (*codes, piece)
            elif piece:
                if "\x1b" in piece:
                    piece = _OTHER.sub("", piece)
                if not codes:
                    style = plain
                elif (style := styled.get(codes, _UNKNOWN)) is _UNKNOWN:
                    own = _style(codes)
                    style = styled[codes] = plain + own if plain is not None else own
                segments.append(Segment(piece, style))
        strips.append(Strip(segments))
    return strips
