"""What the terminal can show: Unicode box drawing or only ASCII, true colour or 16 colours.

A fresh SSH login often has ``LANG=C`` (an ASCII locale) or an old ``TERM`` such as
``vt100``.  Textual sends UTF-8 boxes and blends colours regardless; these helpers
let the app fall back to ASCII lines and the terminal's own 16-colour palette.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

#: the locales Python itself switches a ``C``/``POSIX`` locale to (PEP 538): the user did not ask for them
_COERCED = {"C.UTF-8", "C.utf8", "UTF-8"}
_ASCII_LOCALES = {"", "C", "POSIX"}


def unicode_ok(environ: Mapping[str, str] | None = None) -> bool:
    """Does the locale promise UTF-8 (so box drawing, braille and ² can be drawn)?

    The first of ``LC_ALL``, ``LC_CTYPE``, ``LANG`` that is set decides, as in the C
    library.  Python coerces a ``C`` locale to ``C.UTF-8`` in ``LC_CTYPE`` of its own
    environment; that coerced value is seen through (``LANG`` then decides).
    """
    env = os.environ if environ is None else environ
    lc_all, lc_ctype, lang = (env.get(name, "") for name in ("LC_ALL", "LC_CTYPE", "LANG"))
    if lc_all:
        chosen = lc_all
    elif lc_ctype and not (lc_ctype in _COERCED and lang in _ASCII_LOCALES):
        chosen = lc_ctype
    else:
        chosen = lang
    codeset = chosen.partition(".")[2].partition("@")[0].lower().replace("-", "")
    return codeset == "utf8"


def _ascii_table() -> dict[int, str]:
    """One ASCII character for each drawing character (the same width: layouts do not move)."""
    table: dict[int, str] = {}
    for code in range(0x2500, 0x2580):  # box drawing
        name = chr(code)
        table[code] = "+"
        if name in "─━╌╍┄┅┈┉═╼╾╴╶╸╺":
            table[code] = "-"
        elif name in "│┃╎╏┆┇┊┋║╽╿╵╷╹╻":
            table[code] = "|"
    for code in range(0x2580, 0x25A0):  # block elements: scrollbars, bars, half-block charts
        table[code] = "#"
    table.update({ord(c): "|" for c in "▏▕▎▍▌▋▊▉▐"})  # left and right bars: input boxes' sides
    table.update({ord("▔"): "-", ord("▁"): "_", ord("▂"): "_"})  # input boxes' top and bottom lines
    for code in range(0x2801, 0x2900):  # braille dots (charts): a dot where any dot is
        table[code] = "."
    table[0x2800] = " "
    table.update(
        {
            ord(c): r
            for c, r in {
                "·": ".",
                "…": ".",
                "×": "x",
                "÷": "/",
                "²": "2",
                "³": "3",
                "±": "~",
                "◆": "*",
                "●": "o",
                "•": "*",
                "▼": "v",
                "▲": "^",
                "▶": ">",
                "◀": "<",
                "→": ">",
                "←": "<",
                "↑": "^",
                "↓": "v",
                "✓": "v",
                "✗": "x",
                "—": "-",
                "–": "-",
                "≈": "~",
                "≤": "<",
                "≥": ">",
                "′": "'",
                "“": '"',
                "”": '"',
                "‘": "'",
                "’": "'",
                "ᵢ": "i",
                "█": "#",
                "⁄": "/",
                "\u00a0": " ",
            }.items()
        }
    )
    return table


class AsciiFilter(LineFilter):
    """Draws every box, bar and braille character as ASCII (for terminals without a UTF-8 locale)."""

    TABLE = _ascii_table()

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        table = self.TABLE
        return [
            segment
            if segment.text.isascii()
            else Segment(segment.text.translate(table), segment.style, segment.control)
            for segment in segments
        ]


def few_colours(color_system: str | None) -> bool:
    """A 16-colour (or 8-colour) terminal: blended theme colours would land on harsh ANSI ones."""
    return color_system in ("standard", "windows")
