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
#: characters one cell wide each (rich's cell widths; a test checks every one): what charts are drawn
#: with (ASCII, Latin, Greek, punctuation, arrows, maths, box drawing, blocks, shapes, braille).  A line
#: of only these is as many cells as characters: its strip's length is known without measuring
#: each character (which is much of what a new chart row costs)
SINGLE_CELLS = (
    "\u0020-\u007e\u00a1-\u00ac\u00ae-\u02ff\u0370-\u03ff\u2010-\u2027\u2030-\u205e\u2070-\u209c"
    "\u2190-\u22ff\u2500-\u25fc\u25ff\u2800-\u28ff"
)
_single_cells = re.compile(f"[{SINGLE_CELLS}]*").fullmatch
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


class Strips(list[Strip]):
    """A picture's strips, with what they were made from: the text of each line, the codes in force
    where it starts, and the base style, so that the next picture can reuse the lines it shares."""

    def __init__(self, strips: list[Strip], lines: list[str], starts: list[tuple[str, ...]], base: Style | None):
        super().__init__(strips)
        self.lines, self.starts, self.base = lines, starts, base

    @property
    def text(self) -> str:
        """The text the strips were made from."""
        return "\n".join(self.lines)

    def changed(self, before: Strips | None) -> list[int] | None:
        """The rows that differ from ``before`` (None: all of them: a new size or base style)."""
        if before is None or len(before) != len(self) or before.base != self.base:
            return None
        return [y for y, (a, b) in enumerate(zip(before.lines, self.lines)) if a != b]


def to_strips(ansi: str, base: Style | None = None, reuse: Strips | None = None) -> Strips:
    """One strip per line of ``ansi``; styles carry over line ends, as in a terminal.

    With ``base`` each segment's style is ``base + its own`` (what ``Strip.apply_style(base)`` gives).
    A line that ``reuse`` (the picture before) has too, with the same codes in force, is its strip:
    a new frame of a chart shares most of its lines with the last, and a Strip is costly to make.
    """
    strips = []
    lines = ansi.split("\n")
    starts: list[tuple[str, ...]] = []
    codes: tuple[str, ...] = ()
    plain: Style | None = base or None  # rich's apply_style leaves segments alone under a null style
    styled: dict[tuple[str, ...], Style | None] = {}  # base + the style of a run of codes, this picture
    if reuse is not None and reuse.base != base:
        reuse = None
    for y, line in enumerate(lines):
        starts.append(codes)
        if (
            reuse is not None
            and y < len(reuse)
            and reuse.lines[y] == line
            and reuse.starts[y] == codes
            and ("\x1b" not in line or line.endswith("\x1b[0m"))
        ):
            strips.append(reuse[y])  # the same text from the same state ends in the same state (reset)
            codes = () if "\x1b" in line else codes
            continue
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
        shown = "".join([segment.text for segment in segments])
        strips.append(Strip(segments, len(shown) if _single_cells(shown) else None))  # else Textual measures it
    return Strips(strips, lines, starts, base)
