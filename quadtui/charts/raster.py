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

import functools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from quadtui.charts.text import single_cells
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
#: a curve for :meth:`Cells.curves`: x, y, joined, marker, colour (as :meth:`Cells.plot` takes them)
Curve = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], str, "RGB | None"]


class Cells:
    """``height`` × ``width`` cells of text, each with an ink (0: the text's colour; see :meth:`ink`).

    ``chars``: the cells' characters to start from (copied; e.g. a cached frame of axes and labels),
    ``narrow`` saying whether each of them is one printable character a cell.  The grid keeps
    track of that (:attr:`narrow`): a grid of such characters is exactly ``width`` cells a line, so
    its text needs no measuring, and its lines are read straight from the array.
    """

    def __init__(
        self,
        width: int,
        height: int,
        text_colour: RGB | None = None,
        chars: NDArray[np.str_] | None = None,
        narrow: bool = True,
    ) -> None:
        self.width, self.height = width, height
        if chars is None:
            self.chars: NDArray[np.str_] = np.full((height, width), " ", dtype="<U1")
        else:
            self.chars = np.array(chars, dtype="<U1", copy=True).reshape(height, width)
        self.inks: NDArray[np.int16] = np.zeros((height, width), dtype=np.int16)
        self.colours: list[RGB | None] = [text_colour]
        #: every cell holds one printable character one cell wide (see :func:`quadtui.charts.text.single_cells`)
        self.narrow = narrow

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
            part = text[start - col : stop - col]
            self.chars[row, start:stop] = list(part)
            self.inks[row, start:stop] = self.ink(colour)
            self.narrow = self.narrow and single_cells(part)

    def column(self, start: int, stop: int, col: int, char: str) -> None:
        """``char`` in column ``col`` from row ``start`` to before ``stop``, in the text's colour."""
        if 0 <= col < self.width:
            self.narrow = self.narrow and bool(char) and single_cells(char)
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
        self.curves(area, [(x, y, joined, marker, colour)])

    def curves(self, area: tuple[int, int, int, int], curves: Sequence[Curve]) -> None:
        """Each curve as :meth:`plot` draws it, one after the other (a later one covers an earlier
        one cell by cell), with the numpy work done once for all of them: a chart's few curves cost
        little more than one."""
        top, left, rows, cols = area
        if rows <= 0 or cols <= 0 or not curves:
            return
        looks = [_dots(marker) for _, _, _, marker, _ in curves]
        lut, bases = _dot_places(rows, cols, tuple(bits.shape for bits, _, _ in looks))
        places = np.empty((5, sum(x.size for x, *_ in curves)))  # x, y in dots; then their span, depth, LUT base
        joins = np.zeros(places.shape[1], dtype=bool)
        at = 0
        for (x, y, joined, _, _), (bits, _, _), base in zip(curves, looks, bases):
            down, across = bits.shape
            depth, span, end = rows * down, cols * across, at + x.size
            np.multiply(x, span - 1, out=places[0, at:end])
            np.subtract(1.0, y, out=places[1, at:end])
            places[1, at:end] *= depth - 1
            places[2, at:end], places[3, at:end], places[4, at:end] = span, depth, base
            last = min(joined.size, x.size - 1)  # the last point joins nothing (not the next curve)
            joins[at : at + max(0, last)] = joined[:last]
            at = end
        lined = _joined_up(places, joins)
        dots = np.rint(lined[:2]).astype(np.int64)
        meta = lined[2:].astype(np.int64)
        inside = dots.view(np.uint64) < meta[:2].view(np.uint64)  # a negative is huge
        inside = inside[0] & inside[1]
        on = np.zeros(len(curves) * rows * cols * 8, dtype=np.uint8)  # a cell's 8 dots: each its glyph bit's place
        on[lut[(meta[2] + dots[1] * meta[0] + dots[0])[inside]]] = 1
        codes = np.packbits(on, bitorder="little").reshape(len(curves), rows, cols)  # a cell's bits: its glyph
        window = (slice(top, top + rows), slice(left, left + cols))
        chars, inks = self.chars[window], self.inks[window]
        for (*_, colour), (_, glyphs, plain), code in zip(curves, looks, codes):
            drawn = code > 0
            if drawn.any():
                chars[drawn] = glyphs[code[drawn]]
                inks[drawn] = self.ink(colour)
                self.narrow = self.narrow and plain

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
        without ``color``; with ``background`` every cell is on it.

        A :attr:`narrow` grid is read straight from the array, a string a row, its runs found in one
        pass over all rows; any other (a NUL, say, which numpy's strings cannot hold) cell by cell.
        """
        width, height = self.width, self.height
        fast = self.narrow and width > 0 and height > 0
        if not color:
            if fast:
                return "\n".join(np.ascontiguousarray(self.chars).view(f"<U{width}").ravel().tolist())
            return "\n".join("".join(row) for row in self.chars.tolist())
        codes = _codes(tuple(self.colours), background)
        if not fast:
            return "\n".join("".join(codes[ink] + text for text, ink in row) + "\x1b[0m" for row in self.lines())
        size = width * height
        tail = "\x1b[0m"  # each row ends by resetting its colours
        rows = np.ascontiguousarray(self.chars).view(f"<U{width}").ravel().tolist()
        text = (tail + "\n").join(rows) + tail
        inks = self.inks.reshape(-1)
        new = np.empty(size, dtype=bool)  # where a run starts: a new ink, or a new row
        new[0] = True
        np.not_equal(inks[1:], inks[:-1], out=new[1:])
        new[::width] = True
        starts = new.nonzero()[0]
        bounds = (starts + starts // width * (len(tail) + 1)).tolist()  # in the text: after the rows' tails
        bounds.append(len(text))
        pieces = [""] * (2 * len(starts))  # each run's code, then its text (and its row's tail, if it ends one)
        pieces[::2] = map(codes.__getitem__, inks[starts].tolist())
        pieces[1::2] = map(text.__getitem__, map(slice, bounds[:-1], bounds[1:]))
        return "".join(pieces)


@functools.lru_cache(maxsize=32)
def _dots(marker: str) -> tuple[NDArray[np.int64], NDArray[np.str_], bool]:
    """A marker's dot bits and glyphs (see _DOTS; any other marker: its first character, one dot a
    cell), and whether its glyphs are one printable character a cell (:func:`~quadtui.charts.text.single_cells`)."""
    if marker in _DOTS:
        return (*_DOTS[marker], True)
    glyph = marker[:1] or "•"
    return np.ones((1, 1), dtype=np.int64), np.array([" ", glyph]), single_cells(glyph)


@functools.lru_cache(maxsize=64)
def _codes(colours: tuple[RGB | None, ...], background: RGB | None) -> tuple[str, ...]:
    """The colour code of each ink: it resets what came before, sets the background (if any), then the ink."""
    under = "48;2;{};{};{};".format(*background) if background is not None else ""
    return tuple(f"\x1b[0;{under}" + ("38;2;{};{};{}".format(*c) if c is not None else "39") + "m" for c in colours)


@functools.lru_cache(maxsize=8)  # a few charts' grids (each map 4 bytes a dot: ~30 KB for a 47×17 chart)
def _dot_places(rows: int, cols: int, shapes: tuple[tuple[int, int], ...]) -> tuple[NDArray[np.int32], tuple[int, ...]]:
    """Where each dot goes, for curves of dots ``shapes`` (a cell's dot rows, dot columns) on a
    ``rows`` × ``cols`` grid of cells: for curve k, from ``bases[k]`` on, one entry for each of its
    dots (row by row of dots): 8 × (k's grid, then the cell's number) + the place of the dot's bit
    in its cell's glyph code (see _DOTS).  The dots set in an array of 8 a cell then pack
    (little-endian) into each curve's glyph codes.  Read-only."""
    parts, bases, base = [], [], 0
    for k, (down, across) in enumerate(shapes):
        bits = next((b for b, _ in _DOTS.values() if b.shape == (down, across)), np.ones((down, across), np.int64))
        place = np.log2(bits).astype(np.int64)
        row, dot_row = np.divmod(np.arange(rows * down), down)
        col, dot_col = np.divmod(np.arange(cols * across), across)
        cell = (k * rows + row[:, None]) * cols + col[None, :]
        parts.append((cell * 8 + place[dot_row[:, None], dot_col[None, :]]).ravel())
        bases.append(base)
        base += parts[-1].size
    out = np.concatenate(parts).astype(np.int32)
    out.flags.writeable = False
    return out, tuple(bases)


def _joined_up(places: NDArray[np.float64], joined: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The points (``places``: x, y and any further rows), and a dot every step along each joined
    pair (a straight line between them: x and y step, the further rows stay the pair's first)."""
    n = places.shape[1]
    starts = joined[: max(0, n - 1)].nonzero()[0]
    if not starts.size:
        return places
    if starts.size == n - 1:  # a solid line: every point joins the next
        first = places[:, :-1]
        delta = places[:, 1:] - first
    else:
        first = places.take(starts, axis=1)
        delta = places.take(starts + 1, axis=1) - first
    size = np.abs(delta[:2])
    steps = np.minimum(np.ceil(np.maximum(size[0], size[1])), MAX_STEPS).astype(np.int64)
    np.maximum(steps, 1, out=steps)
    segment = np.arange(starts.size).repeat(steps)
    along = (np.arange(segment.size) - (steps.cumsum() - steps).repeat(steps)) / steps.repeat(steps)
    lines = np.empty((places.shape[0], segment.size))
    np.add(first[:2].take(segment, axis=1), delta[:2].take(segment, axis=1) * along, out=lines[:2])
    lines[2:] = first[2:].take(segment, axis=1)
    return np.concatenate((places, lines), axis=1)
