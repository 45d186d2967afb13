"""Text in terminal cells: cleaning, measuring, clipping and fitting ANSI lines to a box."""

from __future__ import annotations

import re
import unicodedata

_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# runs of characters known to take one cell: ASCII, Latin-1, box drawing, blocks, braille
_NARROW = re.compile(r"[\x20-\x7e\u00a0-\u00ff\u2010-\u2027\u2500-\u259f\u2800-\u28ff]+")


def clean(text: object) -> str:
    """One printable line: control characters and escapes become spaces."""
    return "".join(c if c.isprintable() else " " for c in _ESCAPE.sub("", str(text)))


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (wide CJK = 2, combining marks = 0)."""
    if text.isascii() and text.isprintable():  # tick labels, numbers: a cell a character
        return len(text)
    rest = _NARROW.sub("", text)  # chart glyphs are all one cell: only look at the others
    return len(text) - len(rest) + sum(_char_width(c) for c in rest)


def single_cells(text: str) -> bool:
    """Whether each character of ``text`` is printable and takes exactly one cell: a line of ``n``
    such characters is ``n`` cells wide, whatever surrounds it (no escape, no newline, no wide
    or combining character)."""
    rest = _NARROW.sub("", text)
    return not rest or all(c.isprintable() and _char_width(c) == 1 for c in rest)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, with an ellipsis when cut."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for c in text:
        w = _char_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def visible(text: str) -> str:
    """``text`` without its escape codes."""
    return _ESCAPE.sub("", text)


def fit_block(text: str, width: int, height: int) -> str:
    """Pad or cut rendered lines to exactly ``height`` lines of ``width`` cells, escapes kept."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and len(lines) > height:
        lines.pop()
    lines = lines[:height] + [""] * (height - len(lines))
    return "\n".join(_fit_line(line, width) for line in lines)


def _fit_line(line: str, width: int) -> str:
    size = cell_width(visible(line))
    if size == width:
        return line
    if size < width:
        return line + " " * (width - size)
    out: list[str] = []
    used, pos = 0, 0
    for match in _ESCAPE.finditer(line):
        used = _take(line[pos : match.start()], width, used, out)
        out.append(match.group())
        pos = match.end()
    used = _take(line[pos:], width, used, out)
    return "".join(out) + " " * (width - used)


def _take(chunk: str, width: int, used: int, out: list[str]) -> int:
    for c in chunk:
        w = _char_width(c)
        if used + w > width:
            break
        out.append(c)
        used += w
    return used


def _char_width(c: str) -> int:
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def message(text: str, width: int, height: int) -> str:
    """``text`` centred in a blank ``width`` × ``height`` block (plain, no escapes)."""
    width, height = max(0, int(width)), max(0, int(height))
    lines = [" " * width] * height
    if height:
        line = clip(clean(text), width)
        pad = width - cell_width(line)
        lines[(height - 1) // 2] = " " * (pad // 2) + line + " " * (pad - pad // 2)
    return "\n".join(lines)
