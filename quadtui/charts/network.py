"""The network, layer by layer: every hidden unit a braille tile, the weights between layers as heat maps.

Reading order, left to right: hidden layer 1, the weights into layer 2, layer 2, …,
the output weights, the output.  Each tile is one unit's activation over the view
range on its own y scale, coloured by the sign of the weight that carries it
onward (blue +, red −), with the x where its pre-activation crosses zero marked
(the kink of a ReLU-like unit, the centre of tanh or sigmoid) and "dead" on a unit
that is zero on every training sample.  A weight matrix between two layers is one
cell per weight (two rows per text line): colour for the sign, shade for the size.

Drawn straight from numpy into text (the plots: :mod:`quadtui.charts.braille`;
the numbers about each unit: :mod:`quadtui.charts.units`): a frame costs O(units shown)
(a page of at most :data:`PAGE` tiles per layer) and a millisecond or two, so it
keeps up with the other charts.  Wide layers are paged; the caller says which unit
is selected and the page follows it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from quadtui.charts.braille import GLYPHS, cells, curves
from quadtui.charts.text import clean, clip, fit_block, message
from quadtui.charts.theme import DARK_PALETTE, LIGHT_PALETTE, RGB, ChartTheme, mix
from quadtui.charts.units import Unit, hidden_layers, unit_info

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

PAGE = 16  # at most this many tiles of a layer at once
MIN_TILE_W, MIN_TILE_H = 8, 3  # a label line and two braille rows
NUMBERS_FROM = 5  # tiles at least this tall also print their weight and bias
_RESET = "\x1b[0m"
_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_REVERSE = "\x1b[7m"


@dataclass(frozen=True)
class Layout:
    """Where things go for one size: tiles per page and their grid, column widths."""

    page: int  # units per page: tiles in each layer column
    cols: int  # tile columns within a layer column (tiles run down, then across)
    rows: int
    tile_w: int
    tile_h: int
    layer_w: int  # cells of each layer column
    strip_w: int  # cells of each weight strip (1: just a gap, no matrix)
    out_w: int  # cells of the output column

    def pages(self, units: int) -> int:
        return max(1, math.ceil(units / self.page))

    def spot(self, k: int) -> tuple[int, int]:
        """(column, row) of the ``k``-th tile of a page."""
        return k // self.rows, k % self.rows


def network_layout(width: int, height: int, layers: int, units: int) -> Layout | None:
    """The layout with the most units per page (up to :data:`PAGE`), weight strips if they fit,
    then the biggest tiles; None when not even one tile fits."""
    body = height - 3  # header, column titles, footer
    layers, units = max(1, layers), max(1, units)
    out_w = min(40, max(12, width // 6))
    for page in range(min(PAGE, units), 0, -1):
        for strips in (True, False):
            strip_w = page + 2 if strips else 1
            layer_w = (width - out_w - layers * strip_w) // layers
            best: tuple[float, Layout] | None = None
            for cols in range(1, page + 1):
                rows = math.ceil(page / cols)
                if math.ceil(page / rows) != cols:  # a column would be empty
                    continue
                tile_w, tile_h = (layer_w + 1) // cols - 1, body // rows
                if tile_w < MIN_TILE_W or tile_h < MIN_TILE_H:
                    continue
                score = min(tile_w, 3 * tile_h) * min(tile_h, tile_w / 3)  # the biggest 3:1 plot inside
                if best is None or score > best[0]:
                    spare = width - out_w - layers * (layer_w + strip_w)
                    best = (score, Layout(page, cols, rows, tile_w, tile_h, layer_w, strip_w, out_w + spare))
            if best is not None:
                return best[1]
    return None


# -- the chart --------------------------------------------------------------------------------
def network_chart(
    snap: Snapshot | None,
    width: int,
    height: int,
    theme: ChartTheme,
    selected: tuple[int, int] | None = None,
    hint: str = "no run yet",
) -> str:
    """The network view as exactly ``height`` lines of ``width`` cells (ANSI colours unless
    ``theme.color`` is False).  ``selected`` is (layer, unit): layer 1… for hidden layers, one
    more for the output; the page shown is the one holding that unit.  Never raises."""
    width, height = max(0, int(width)), max(0, int(height))
    try:
        return _network(snap, width, height, theme, selected, hint)
    except Exception as error:  # a chart must never take the app down
        return message(f"network · chart failed: {type(error).__name__}", width, height)


def _network(
    snap: Snapshot | None, width: int, height: int, theme: ChartTheme, selected: tuple[int, int] | None, hint: str
) -> str:
    if snap is None:
        return message(f"network · {hint}", width, height)
    acts = hidden_layers(snap)
    count, units = len(acts), int(np.asarray(acts[-1]).shape[1])
    layout = network_layout(width, height, count, units)
    if layout is None:
        return message("network · too small: make the view bigger", width, height)
    layer, unit = selected if selected is not None else (1, 0)
    layer = min(max(1, layer), count + 1)
    unit = min(max(0, unit), units - 1)
    page = unit // layout.page
    first, last = page * layout.page, min(units, (page + 1) * layout.page)
    shown = list(range(first, last))
    paint = _Paint(theme)

    info = [unit_info(snap, n, shown) for n in range(1, count + 1)]
    blocks: list[list[str]] = []
    for n in range(1, count + 1):
        blocks.append(_layer_column(paint, layout, n, info[n - 1], snap, layer == n, unit))
        blocks.append(_strip(paint, layout, snap, n, shown, count))
    blocks.append(_output_column(paint, layout, snap, layer == count + 1))
    tall = height - 2  # between the header and the footer
    body = ["".join(parts) for parts in zip(*(_fill(block, tall) for block in blocks))]

    cfg = snap.config
    epochs = getattr(cfg, "epochs", 0)
    pages = layout.pages(units)
    header = _fitting(
        width,
        "network",
        f"units {first}–{last - 1} of {units}" + (f" (page {page + 1}/{pages})" if pages > 1 else ""),
        f"{count} × {units} {getattr(cfg, 'activation', '')}",
        f"epoch {snap.epoch:,}/{epochs:,}",
    )
    if layer <= count:
        footer = info[layer - 1][unit - first].describe(layer == count)
    else:
        footer = f"output ŷ = W·h + b · b {float(snap.out_bias):+.4g} · ↑↓ unit  ←→ layer  enter: open"
    lines = [paint.text(header, width, bold=True), *body, paint.text(footer, width)]
    return fit_block("\n".join(lines), width, height)


def _fitting(width: int, *parts: str, sep: str = " · ") -> str:
    """As many of ``parts`` (most important first) as fit in ``width``, joined by ``sep``."""
    text = parts[0]
    for part in parts[1:]:
        if len(text) + len(sep) + len(part) <= width:
            text += sep + part
    return text


def _fill(block: list[str], height: int) -> list[str]:
    """``block`` (lines of one width) cut or padded with blank lines to ``height``."""
    width = len(_visible(block[0])) if block else 0
    return block[:height] + [" " * width] * (height - len(block))


def _visible(line: str) -> str:
    return _ESCAPE.sub("", line)


class _Paint:
    """Colours (or none) as escape codes, and exact-width text."""

    def __init__(self, theme: ChartTheme) -> None:
        self.theme = theme
        self.on = theme.color
        palette = DARK_PALETTE if theme.dark else LIGHT_PALETTE
        self.plus, self.minus, self.kink = palette[0], palette[3], palette[1]
        self.background = theme.background or ((24, 24, 24) if theme.dark else (250, 250, 250))
        base = theme.foreground or ((200, 200, 200) if theme.dark else (60, 60, 60))
        self.dim = mix(base, self.background, 0.6)
        self.muted = theme.muted
        self.fg = theme.foreground

    def sign(self, value: float) -> RGB:
        return self.minus if value < 0 else self.plus

    def shades(self, values: np.ndarray, most: float) -> np.ndarray:
        """(…, 3) colours: the sign's colour, faded towards the background the smaller |value| / most."""
        strength = np.clip(np.abs(values) / most, 0.0, 1.0) if most > 0 else np.zeros(values.shape)
        sign = np.where((values < 0)[..., None], np.array(self.minus), np.array(self.plus))
        fade = (1.0 - (0.15 + 0.85 * strength))[..., None]
        return np.rint(sign + (np.array(self.background) - sign) * fade).astype(np.int64)

    def colour(self, text: str, rgb: RGB | None) -> str:
        if not self.on or rgb is None or not text.strip():
            return text
        return f"\x1b[38;2;{rgb[0]};{rgb[1]};{rgb[2]}m{text}{_RESET}"

    def text(self, text: str, width: int, bold: bool = False, reverse: bool = False, rgb: RGB | None = None) -> str:
        line = clip(clean(text), width)
        line += " " * (width - len(line))
        if not self.on:
            return line
        codes = ("\x1b[1m" if bold else "") + (_REVERSE if reverse else "")
        if rgb is not None:
            codes += f"\x1b[38;2;{rgb[0]};{rgb[1]};{rgb[2]}m"
        elif self.fg is not None:
            codes += f"\x1b[38;2;{self.fg[0]};{self.fg[1]};{self.fg[2]}m"
        return f"{codes}{line}{_RESET}" if codes else line


def _layer_column(
    paint: _Paint, layout: Layout, layer: int, units: list[Unit], snap: Snapshot, current: bool, selected: int
) -> list[str]:
    """Title line, then the tiles of this page, down then across."""
    width = layout.layer_w
    activation = getattr(snap.config, "activation", "")
    mark = "▸ " if current else ""
    title = _fitting(width, f"{mark}layer {layer}", activation) if width >= len(mark) + 7 else f"{mark}L{layer}"
    lines = [paint.text(title, width, bold=current)]
    grid = np.asarray(snap.grid, dtype=np.float64).ravel()
    tiles = _tiles(paint, layout, grid, units, selected if current else None, layer == 1)
    blank = [" " * layout.tile_w] * layout.tile_h
    for row in range(layout.rows):
        for line in range(layout.tile_h):
            pieces = []
            for col in range(layout.cols):
                k = col * layout.rows + row
                pieces.append((tiles[k] if k < len(tiles) else blank)[line])
            text = " ".join(pieces)
            lines.append(text + " " * (width - layout.cols * (layout.tile_w + 1) + 1))
    return lines


def _tiles(
    paint: _Paint, layout: Layout, grid: np.ndarray, units: list[Unit], selected: int | None, first: bool
) -> list[list[str]]:
    """Each unit's tile: a label line, the braille plot, and (tall tiles) its weight and bias.
    The plots of a page are computed together, as one array."""
    if not units:
        return []
    w, h = layout.tile_w, layout.tile_h
    numbers = h >= NUMBERS_FROM
    rows = h - 1 - numbers
    values = np.column_stack([u.activation for u in units])  # (grid, k)
    finite = np.where(np.isfinite(values), values, 0.0)
    lo = np.minimum(0.0, finite.min(axis=0))
    hi = np.maximum(0.0, finite.max(axis=0))
    hi = np.where(hi - lo <= 1e-12, lo + 1.0, hi)
    x_lo, x_hi = (float(grid[0]), float(grid[-1])) if grid.size > 1 else (0.0, 1.0)
    dots = curves(grid, values, x_lo, x_hi, lo, hi, w, rows)
    kink_cells: list[list[int]] = [[] for _ in units]
    for j, unit in enumerate(units):
        for x in unit.kinks:
            if x_lo <= x <= x_hi:
                col = min(2 * w - 1, int((x - x_lo) / (x_hi - x_lo) * 2 * w))
                dots[j, 1::2, col] = True
                kink_cells[j].append(col // 2)
    codes = cells(dots, rows, w).tolist()
    tiles = []
    for j, unit in enumerate(units):
        colour = paint.dim if unit.dead else paint.sign(unit.out)
        mine = unit.index == selected
        top, bottom = float(hi[j]), float(lo[j])
        scale = f"{_num(bottom)}…{_num(top)}" if bottom < 0 else f"↑{_num(top)}"
        name = f"{'▸' if mine else ''}{unit.index}" + (" dead" if unit.dead else "")
        gap = w - len(name) - len(scale)
        label = name + " " * gap + scale if gap >= 1 else name
        out = [paint.text(label, w, bold=mine, reverse=mine and paint.on, rgb=None if mine else colour)]
        kinks = sorted(set(kink_cells[j]))
        for r in range(rows):
            out.append(_row(paint, [GLYPHS[c] for c in codes[j][r]], colour, kinks))
        if numbers:
            if first and unit.weight is not None:
                parts = (f"w{_short(unit.weight)}", f"b{_short(unit.bias)}")
            else:
                parts = (f"b{_short(unit.bias)}", f"‖w‖{_short(unit.weight_norm)[1:]}")
            out.append(paint.text(_fitting(w, *parts, sep=" "), w, rgb=paint.muted if paint.on else None))
        tiles.append(out)
    return tiles


def _row(paint: _Paint, chars: list[str], colour: RGB, kinks: list[int]) -> str:
    """A row of braille cells in the tile's colour, kink cells in the kink colour."""
    if not paint.on or not kinks:
        return paint.colour("".join(chars), colour)
    pieces, start = [], 0
    for k in kinks:
        pieces.append(paint.colour("".join(chars[start:k]), colour))
        pieces.append(paint.colour(chars[k], paint.kink))
        start = k + 1
    pieces.append(paint.colour("".join(chars[start:]), colour))
    return "".join(pieces)


def _strip(paint: _Paint, layout: Layout, snap: Snapshot, layer: int, shown: list[int], count: int) -> list[str]:
    """The weights from ``layer`` into the next one (or the output) as a heat map of the page's units."""
    width, height = layout.strip_w, layout.rows * layout.tile_h + 1  # as tall as the tiles and their title
    weights = tuple(getattr(snap, "weights", ()) or ())
    if width < 3 or len(weights) != 2 * (count + 1):
        return [" " * width] * height
    matrix = np.asarray(weights[2 * layer], dtype=np.float64)  # (next, this)
    most = float(np.abs(matrix).max()) if matrix.size and np.isfinite(matrix).all() else 0.0
    rows_of = shown if layer < count else [0]
    block = matrix[np.ix_(rows_of, shown)]
    name = f"W{layer + 1}" if layer < count else "Wout"
    lines = [paint.text(name.center(width - 1), width, rgb=paint.muted if paint.on else None)]
    inner = width - 2
    if paint.on:
        shades = paint.shades(block, most).tolist()  # (rows, cols, 3)
        for r in range(0, block.shape[0], 2):
            ups, downs = shades[r], shades[r + 1] if r + 1 < block.shape[0] else None
            cells = [
                f"\x1b[38;2;{u[0]};{u[1]};{u[2]}m" + (f"\x1b[48;2;{d[0]};{d[1]};{d[2]}m" if downs else "") + "▀"
                for u, d in zip(ups, downs or ups)
            ]
            lines.append(" " + "".join(cells) + _RESET + " " * (inner - block.shape[1] + 1))
    else:
        for r in range(block.shape[0]):
            chars = "".join("·" if abs(v) < most / 4 else "-" if v < 0 else "+" for v in block[r].tolist())
            lines.append(" " + chars + " " * (inner - len(chars) + 1))
    if len(lines) < height:
        scale = " " + f"±{_num(most)}".center(width - 2)
        lines.append(paint.text(scale, width, rgb=paint.muted if paint.on else None))
    lines = lines[:height]
    return lines + [" " * width] * (height - len(lines))


def _output_column(paint: _Paint, layout: Layout, snap: Snapshot, current: bool) -> list[str]:
    """The output unit: the prediction (bright) over the target (muted), on the target's scale."""
    width, height = layout.out_w, layout.rows * layout.tile_h  # the plot's title line takes the place of a row
    plot_w = width - 1
    title = f"{'▸ ' if current else ''}output ŷ"
    lines = [" " + paint.text(title, plot_w, bold=current)]
    grid = np.asarray(snap.grid, dtype=np.float64).ravel()
    target = np.asarray(snap.grid_target, dtype=np.float64).ravel()
    prediction = np.asarray(snap.prediction, dtype=np.float64).ravel()
    good = target[np.isfinite(target)]
    if not good.size:
        good = prediction[np.isfinite(prediction)]
    lo, hi = (float(good.min()), float(good.max())) if good.size else (-1.0, 1.0)
    pad = (hi - lo) * 0.06 or 1.0
    lo, hi = lo - pad, hi + pad
    rows = height - 1
    x_lo, x_hi = (float(grid[0]), float(grid[-1])) if grid.size > 1 else (0.0, 1.0)
    both = curves(
        grid,
        np.column_stack((target, prediction)),
        x_lo,
        x_hi,
        np.full(2, lo),
        np.full(2, hi),
        plot_w,
        rows,
        inside_only=True,
    )
    codes = cells(both[:1] | both[1:], rows, plot_w)[0]
    mine = cells(both[1:], rows, plot_w)[0] > 0
    model = paint.theme.series(0)
    for r in range(rows):
        chars = [GLYPHS[c] for c in codes[r].tolist()]
        if not paint.on:
            lines.append(" " + "".join(chars))
            continue
        pieces, start, flags = [], 0, mine[r].tolist()
        for k in range(1, plot_w + 1):
            if k == plot_w or flags[k] != flags[start]:
                pieces.append(paint.colour("".join(chars[start:k]), model if flags[start] else paint.muted))
                start = k
        lines.append(" " + "".join(pieces))
    return lines


def _num(value: float, signed: bool = False) -> str:
    """A short number for a tile: 3 significant figures at most, a sign when asked."""
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    text = (
        f"{value:.1e}"
        if size >= 1000 or 0 < size < 0.001
        else f"{value:.0f}"
        if size >= 100
        else f"{value:.1f}"
        if size >= 10
        else f"{value:.2f}"
    )
    return f"+{text}" if signed and not text.startswith("-") else text


def _short(value: float) -> str:
    """A signed number in at most 5 characters, for a tile's weight and bias: +2.2, -.57, +12."""
    if not math.isfinite(value):
        return f"{value:+}"[:5]
    size = abs(value)
    if size >= 9999.5:
        return f"{value:+.0e}".replace("e+0", "e").replace("e+", "e")
    if size >= 9.95:
        return f"{value:+.0f}"
    if size >= 0.995:
        return f"{value:+.1f}"
    return f"{value:+.2f}".replace("0.", ".", 1)
