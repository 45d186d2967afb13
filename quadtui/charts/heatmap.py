"""A two-setting sweep's losses as a heatmap: one cell a run, coloured by log loss.

Rows are the first setting's values, columns the second's.  A cell's colour runs from
the lowest loss of the grid (cool) to the highest (warm) on a log scale; the loss is
written in the cell when it fits; a diverged run is marked ``×``, one not finished
yet ``·``.  The cell under the cursor is drawn in reverse video.  Without colour
(NO_COLOR) the numbers and marks carry it all.  No Textual here; like every chart,
exactly ``height`` lines of ``width`` cells.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from quadtui.charts.text import clip
from quadtui.charts.theme import RGB, ChartTheme, mix

#: low loss → high loss
RAMP: tuple[RGB, ...] = ((38, 70, 160), (33, 145, 140), (94, 201, 98), (230, 200, 40), (215, 70, 50))
DIVERGED: RGB = (90, 20, 20)
RESET = "\x1b[0m"


def ramp(t: float) -> RGB:
    """The colour ``t`` (0 to 1) of the way from the lowest to the highest loss."""
    t = min(1.0, max(0.0, t)) * (len(RAMP) - 1)
    k = min(int(t), len(RAMP) - 2)
    return mix(RAMP[k], RAMP[k + 1], t - k)


def _ink(background: RGB) -> RGB:
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def _paint(text: str, background: RGB, theme: ChartTheme, reverse: bool = False) -> str:
    if not theme.color:
        return f"\x1b[7m{text}{RESET}" if reverse else text
    fg, bg = _ink(background), background
    if reverse:
        fg, bg = bg, fg
    return f"\x1b[38;2;{fg[0]};{fg[1]};{fg[2]};48;2;{bg[0]};{bg[1]};{bg[2]}m{text}{RESET}"


def loss_label(loss: float, width: int) -> str:
    for digits in (3, 2, 1):
        text = f"{loss:.{digits}g}"
        if len(text) <= width:
            return text
    return ""


def heatmap_chart(
    rows: Sequence[str],
    columns: Sequence[str],
    losses: Sequence[Sequence[float | None]],
    diverged: Sequence[Sequence[bool]],
    width: int,
    height: int,
    theme: ChartTheme,
    cursor: tuple[int, int] | None = None,
    title: str = "",
) -> str:
    """The grid of ``losses`` (``losses[i][j]``: row value i, column value j) as ANSI text."""
    width, height = max(1, width), max(1, height)
    finite = [
        v
        for row, bad_row in zip(losses, diverged)
        for v, bad in zip(row, bad_row)
        if not bad and v is not None and math.isfinite(v) and v > 0
    ]  # a diverged run's last loss is wild
    lo = math.log10(min(finite)) if finite else 0.0
    hi = math.log10(max(finite)) if finite else 1.0
    label_w = min(max((len(r) for r in rows), default=1), max(1, width // 4))
    cell_w = max(1, (width - label_w - 1) // max(1, len(columns)))
    cell_h = max(1, (height - 3) // max(1, len(rows)))
    out = [clip(title, width).ljust(width)]
    header = " " * (label_w + 1) + "".join(clip(c, cell_w - 1).center(cell_w) for c in columns)
    out.append(clip(header, width).ljust(width))
    for i, row in enumerate(rows):
        for line in range(cell_h):
            text = (clip(row, label_w).rjust(label_w) if line == (cell_h - 1) // 2 else " " * label_w) + " "
            used = label_w + 1
            for j in range(len(columns)):
                loss = losses[i][j] if i < len(losses) and j < len(losses[i]) else None
                bad = bool(diverged[i][j]) if i < len(diverged) and j < len(diverged[i]) else False
                if bad:
                    colour, mark = DIVERGED, "×"
                elif loss is None or not math.isfinite(loss) or loss <= 0:
                    colour, mark = mix(RAMP[0], (128, 128, 128), 0.8), "·"
                else:
                    colour = ramp(0.5 if hi == lo else (math.log10(loss) - lo) / (hi - lo))
                    mark = loss_label(loss, cell_w - 1)
                body = (mark if line == (cell_h - 1) // 2 else "").center(cell_w - 1) + " "
                if used + cell_w > width:
                    break
                text += _paint(body, colour, theme, reverse=cursor == (i, j))
                used += cell_w
            out.append(text + " " * (width - used))
    legend = "colour: log loss, low " + ("▮" * 5 if theme.color else "(numbers)") + " high · ×: diverged"
    if theme.color:
        swatches = "".join(f"\x1b[38;2;{c[0]};{c[1]};{c[2]}m▮" for c in RAMP) + RESET
        legend_text = clip("colour: log loss, low ", width)
        shown = legend_text + swatches + clip(" high · ×: diverged", max(0, width - len(legend_text) - 5))
        plain = len(legend_text) + 5 + len(clip(" high · ×: diverged", max(0, width - len(legend_text) - 5)))
        legend_line = shown + " " * max(0, width - plain) if plain <= width else clip(legend, width).ljust(width)
    else:
        legend_line = clip(legend, width).ljust(width)
    out.append(legend_line)
    out = out[:height]
    while len(out) < height:
        out.append(" " * width)
    return "\n".join(out)
