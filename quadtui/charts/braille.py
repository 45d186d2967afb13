"""Curves as braille dots: many small plots at once, as numpy arrays, for the network view's tiles."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GLYPHS = [" "] + [chr(0x2800 + code) for code in range(1, 256)]  # code 0 (no dot) as a plain space
#: braille dot bits by [dot row][dot column] within a cell (Unicode's numbering)
_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)


def curves(
    x: np.ndarray,
    ys: np.ndarray,
    x_lo: float,
    x_hi: float,
    y_lo: np.ndarray,
    y_hi: np.ndarray,
    w: int,
    rows: int,
    inside_only: bool = False,
) -> np.ndarray:
    """The dots (k × 4·rows × 2·w) of the k curves ``ys[:, j]`` over ``x``, each on its own
    y range, every dot column joined halfway to its neighbours'."""
    k = ys.shape[1]
    cols, depth = 2 * w, 4 * rows
    if x.size < 2 or ys.shape[0] != x.size or depth == 0:
        return np.zeros((k, depth, cols), dtype=bool)
    xs = x_lo + (np.arange(cols) + 0.5) * (x_hi - x_lo) / cols
    at = np.clip(np.searchsorted(x, xs) - 1, 0, x.size - 2)
    t = np.clip((xs - x[at]) / (x[at + 1] - x[at]), 0.0, 1.0)[:, None]
    sampled = ys[at] * (1 - t) + ys[at + 1] * t  # (cols, k), linear between grid points
    with np.errstate(invalid="ignore"):
        r = ((y_hi - sampled) / (y_hi - y_lo) * (depth - 1)).T  # (k, cols), 0 at the top
        ok = np.isfinite(r)
        if inside_only:
            ok &= (r > -0.5) & (r < depth - 0.5)
    r = np.clip(np.where(ok, r, 0.0), 0, depth - 1)
    prev = np.where(_shift(ok, 1, False), _shift(r, 1, None), r)
    nxt = np.where(_shift(ok, -1, False), _shift(r, -1, None), r)
    top = np.floor(np.minimum(r, np.minimum((r + prev) / 2, (r + nxt) / 2)) + 0.5)
    bottom = np.floor(np.maximum(r, np.maximum((r + prev) / 2, (r + nxt) / 2)) + 0.5)
    index = np.arange(depth)[None, :, None]
    dots: NDArray[np.bool_] = (index >= top[:, None, :]) & (index <= bottom[:, None, :]) & ok[:, None, :]
    return dots


def _shift(a: np.ndarray, by: int, fill: object) -> np.ndarray:
    """``a`` moved ``by`` columns right (left when negative); the gap takes ``fill`` (None: the edge)."""
    out = np.empty_like(a)
    if by > 0:
        out[:, by:] = a[:, :-by]
        out[:, :by] = a[:, :1] if fill is None else fill
    else:
        out[:, :by] = a[:, -by:]
        out[:, by:] = a[:, -1:] if fill is None else fill
    return out


def cells(dots: np.ndarray, rows: int, w: int) -> np.ndarray:
    """Braille code points (minus U+2800) of each cell: (k, rows, w)."""
    k = dots.shape[0]
    codes: NDArray[np.int64] = (dots.reshape(k, rows, 4, w, 2) * _BITS[None, None, :, None, :]).sum(axis=(2, 4))
    return codes
