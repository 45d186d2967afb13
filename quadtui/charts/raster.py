"""A grid of terminal cells that curves are drawn into as dots, straight from numpy.

Every chart used to go through plotext, which builds a Python object per point, draws
lines point by point and parses its own output again: about 3 ms for a loss chart at
80×24 (a quarter of a training frame's cost to the UI), and 8 MB and 100 ms of imports
in every student's session.  Our charts need little of it: a few curves of dots, tick
labels, a note.  Here a curve is a handful of array operations over its points, so a
chart draws in well under a millisecond and the app never imports plotext.

A :class:`Cells` holds one character and one ink (an index into its inks; 0 is the
text colour) per cell.  :meth:`Cells.plot` turns a curve into dots at the marker's
resolution (``hd``: 2×2 quarter blocks a cell, ``braille``: 2×4 dots; any other
marker is one character a cell), joining consecutive points with straight lines;
a later curve covers an earlier one cell by cell.  :meth:`Cells.ansi` writes the
grid as lines with one colour code per run of cells of the same ink.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from quadtui.charts.theme import RGB

HD_GLYPHS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"  # by bits: 1 top left, 2 top right, 4 bottom left, 8 bottom right
BRAILLE_GLYPHS = " " + "".join(chr(0x2800 + code) for code in range(1, 256))  # no dot: a plain space
#: (dot rows, dot columns) a cell, each dot's bit, and the glyph per sum of bits
_DOTS: dict[str, tuple[NDArray[np.int64], NDArray[np.str_]]] = {
    "hd": (np.array([[1, 2], [4, 8]]), np.array(list(HD_GLYPHS))),
    "braille": (
        np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]),
        np.array(list(BRAILLE_GLYPHS)),
    ),
}
_DOTS["fhd"] = _DOTS["hd"]
MAX_STEPS = 4096  # dots along one segment at most (a far-off point is clipped to a few plot heights)


class Cells:
    """``height`` × ``width`` cells of text, each with an ink (0: the text's colour; see :meth:`ink`)."""

    def __init__(self, width: int, height: int, text_colour: RGB | None = None) -> None:
        self.width, self.height = width, height
        self.chars: NDArray[np.str_] = np.full((height, width), " ", dtype="<U1")
        self.inks: NDArray[np.int16] = np.zeros((height, width), dtype=np.int16)
        self.colours: list[RGB | None] = [text_colour]

    def ink(self, colour: RGB | None) -> int:
        """The ink number of ``colour`` (None: the text's colour)."""
        if colour is None:
            return 0
        if colour not in self.colours:
            self.colours.append(colour)
        return self.colours.index(colour)

    def text(self, row: int, col: int, text: str, colour: RGB | None = None) -> None:
        """``text`` from (row, col), one character a cell, cut at the edges."""
        if not 0 <= row < self.height or not text:
            return
        start, stop = max(col, 0), min(col + len(text), self.width)
        if start < stop:
            self.chars[row, start:stop] = list(text[start - col : stop - col])
            self.inks[row, start:stop] = self.ink(colour)

    def column(self, start: int, stop: int, col: int, char: str) -> None:
        """``char`` in column ``col`` from row ``start`` to before ``stop``, in the text's colour."""
        if 0 <= col < self.width:
            self.chars[max(start, 0) : stop, col] = char
            self.inks[max(start, 0) : stop, col] = 0

    def plot(
        self,
        area: tuple[int, int, int, int],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        joined: NDArray[np.bool_],
        marker: str,
        colour: RGB | None,
    ) -> None:
        """Points (``x``, ``y`` as shares of the area: 0..1 left to right, bottom to top) into the
        cells of ``area`` (top, left, rows, cols), point i joined to point i+1 where ``joined[i]``."""
        top, left, rows, cols = area
        bits, glyphs = _DOTS.get(marker, (np.ones((1, 1), dtype=np.int64), np.array([" ", marker[:1] or "•"])))
        down, across = bits.shape
        depth, span = rows * down, cols * across
        px, py = _joined_up(x * (span - 1), (1.0 - y) * (depth - 1), joined)
        ix, iy = np.rint(px).astype(np.int64), np.rint(py).astype(np.int64)
        inside = (ix >= 0) & (ix < span) & (iy >= 0) & (iy < depth)
        if not inside.any():
            return
        dots = np.zeros((depth, span), dtype=np.int64)
        dots[iy[inside], ix[inside]] = 1
        codes = (dots.reshape(rows, down, cols, across) * bits[None, :, None, :]).sum(axis=(1, 3))
        drawn = codes > 0
        window = (slice(top, top + rows), slice(left, left + cols))
        self.chars[window][drawn] = glyphs[codes[drawn]]
        self.inks[window][drawn] = self.ink(colour)

    def lines(self) -> list[list[tuple[str, int]]]:
        """Each row as runs of (text, ink)."""
        texts = ["".join(row) for row in self.chars.tolist()]
        inks = self.inks.tolist()
        rows, cuts = np.nonzero(np.diff(self.inks, axis=1))
        starts: list[list[int]] = [[0] for _ in texts]
        for row, cut in zip(rows.tolist(), (cuts + 1).tolist()):
            starts[row].append(cut)
        out = []
        for text, ink, start in zip(texts, inks, starts):
            ends = [*start[1:], len(text)]
            out.append([(text[a:b], ink[a]) for a, b in zip(start, ends)])
        return out

    def ansi(self, color: bool = True, background: RGB | None = None) -> str:
        """The grid as text: one colour code per run of a new ink (each resets what came before), none
        without ``color``; with ``background`` every cell is on it."""
        if not color:
            return "\n".join("".join(row) for row in self.chars.tolist())
        under = "48;2;{};{};{};".format(*background) if background is not None else ""
        codes = [
            f"\x1b[0;{under}" + ("38;2;{};{};{}".format(*c) if c is not None else "39") + "m" for c in self.colours
        ]
        return "\n".join("".join(codes[ink] + text for text, ink in row) + "\x1b[0m" for row in self.lines())


def _joined_up(
    x: NDArray[np.float64], y: NDArray[np.float64], joined: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The points, and a dot every step along each joined pair (a straight line between them)."""
    starts = np.flatnonzero(joined[: max(0, x.size - 1)])
    if not starts.size:
        return x, y
    dx, dy = x[starts + 1] - x[starts], y[starts + 1] - y[starts]
    steps = np.minimum(np.ceil(np.maximum(np.abs(dx), np.abs(dy))), MAX_STEPS).astype(np.int64)
    steps = np.maximum(steps, 1)
    segment = np.repeat(np.arange(starts.size), steps)
    along = (np.arange(segment.size) - np.repeat(np.cumsum(steps) - steps, steps)) / steps[segment]
    lx = x[starts][segment] + dx[segment] * along
    ly = y[starts][segment] + dy[segment] * along
    return np.concatenate((x, lx)), np.concatenate((y, ly))
