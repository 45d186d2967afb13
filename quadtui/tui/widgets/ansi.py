"""Chart text (plotext's ANSI colours) to Textual strips, fast.

``rich.text.Text.from_ansi`` followed by Textual's content pipeline costs about
as much as drawing the chart; chart text only ever holds SGR codes (colours,
bold, resets), so a regex split and a cache of styles per run of codes does the
same job several times faster.  Anything but SGR is dropped, as Text.from_ansi does.
"""

from __future__ import annotations

import re
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER = re.compile(r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_styles: dict[tuple[str, ...], Style | None] = {}
_MAX_STYLES = 512


def _style(codes: tuple[str, ...]) -> Style | None:
    """The style that ``codes`` (SGR parameters since the last reset) add up to, as rich decodes them."""
    style: Style | None | Literal[False] = _styles.get(codes, False)  # False: not decoded yet
    if style is False:
        if len(_styles) >= _MAX_STYLES:
            _styles.clear()
        text = Text.from_ansi("".join(f"\x1b[{code}m" for code in codes) + "x")
        spans = [span.style for span in text.spans if isinstance(span.style, Style)]
        style = Style.combine(spans) if spans else None
        _styles[codes] = style
    return style


def to_strips(ansi: str) -> list[Strip]:
    """One strip per line of ``ansi``; styles carry over line ends, as in a terminal."""
    strips = []
    codes: tuple[str, ...] = ()
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
                segments.append(Segment(piece, _style(codes) if codes else None))
        strips.append(Strip(segments))
    return strips
