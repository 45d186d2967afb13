"""A compact, append-only loss history.

Values live in a growable float32 array (4 bytes an epoch; 10 million epochs
is 40 MB).  Beside it a min/max summary of fixed-size blocks is kept up to date
as values arrive, so a chart can ask for ``bins`` columns and pay O(bins),
never O(epochs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BLOCKS = 4096


@dataclass(frozen=True)
class Series:
    """Points to draw: x (1-based epochs), and the low/high value in each bin."""

    x: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def bin_edges(size: int, bins: int) -> np.ndarray:
    """``np.unique(np.linspace(0, size, bins + 1).astype(np.int64))``: where ``bins`` even bins of ``size``
    values start (and ``size``), as a chart asks for them every frame, without the cost of linspace's
    and unique's generality (about half of a decimation): the same products, truncated, and the
    repeats (always neighbours: the edges never fall) dropped."""
    if bins < 1 or size <= 0:
        return np.unique(np.linspace(0, size, bins + 1).astype(np.int64))
    edges = (np.arange(bins + 1, dtype=np.float64) * (float(size) / bins)).astype(np.int64)
    edges[-1] = size
    new = np.empty(edges.size, dtype=bool)
    new[0] = True
    np.not_equal(edges[1:], edges[:-1], out=new[1:])
    return edges[new]


class LossHistory:
    def __init__(self, capacity: int = 1024) -> None:
        self._values = np.empty(max(16, capacity), dtype=np.float32)
        self._frozen = False
        self._n = 0
        self._block = 1  # epochs per summary block (a power of two)
        self._bmin = np.empty(MAX_BLOCKS, dtype=np.float32)
        self._bmax = np.empty(MAX_BLOCKS, dtype=np.float32)

    def __len__(self) -> int:
        return self._n

    @property
    def values(self) -> np.ndarray:
        """A read-only view of every value so far (valid however long it grows)."""
        if self._values is None:  # a summary(): only the block minima are left
            return self._bmin
        view = self._values[: self._n]
        view.flags.writeable = False
        return view

    @property
    def nbytes(self) -> int:
        """Bytes reserved (pages never written to are not resident)."""
        raw = 0 if self._values is None else self._values.nbytes
        return raw + self._bmin.nbytes + self._bmax.nbytes

    @property
    def used_bytes(self) -> int:
        """Bytes holding data: 4 per value, plus the fixed-size block summary."""
        raw = 0 if self._values is None else self._values.itemsize * self._n
        return raw + self._bmin.nbytes + self._bmax.nbytes

    def last(self) -> float | None:
        if not self._n or self._values is None:  # empty, or a summary() without the values
            return None
        return float(self._values[self._n - 1])

    def frozen(self) -> LossHistory:
        """An unchanging copy of the history as it is now, safe to read from another thread.

        It shares the values (only ever written past the current end) and copies the
        small block summary, so it costs O(MAX_BLOCKS), not O(epochs).
        """
        copy = object.__new__(LossHistory)
        nblocks = -(-self._n // self._block)
        copy._values, copy._n, copy._block, copy._frozen = self._values, self._n, self._block, True
        copy._bmin, copy._bmax = self._bmin[:nblocks].copy(), self._bmax[:nblocks].copy()
        return copy

    def summary(self) -> LossHistory:
        """A frozen copy that keeps only the block summary: at most 32 KB, whatever the length.

        It draws the same chart as the full history at any width up to ``MAX_BLOCKS / 2``
        columns; for keeping many finished runs (``values`` is then the block minima).
        """
        if self._block == 1:
            return self.frozen()  # at most MAX_BLOCKS values: keep them
        copy = self.frozen()
        copy._values = None  # type: ignore[assignment]
        return copy

    def append(self, chunk: np.ndarray) -> None:
        if self._frozen:
            raise ValueError("a frozen history cannot grow")
        chunk = np.asarray(chunk, dtype=np.float32).ravel()
        if not chunk.size:
            return
        start, end = self._n, self._n + chunk.size
        if end > self._values.size:
            grown = np.empty(max(end, 2 * self._values.size), dtype=np.float32)
            grown[:start] = self._values[:start]
            self._values = grown  # views handed out earlier keep the old buffer
        self._values[start:end] = chunk
        self._n = end
        while -(-end // self._block) > MAX_BLOCKS:
            self._coarsen(valid=start)
        self._summarise(start // self._block, end)

    def _coarsen(self, valid: int) -> None:
        full = valid // self._block // 2 * 2  # complete old blocks that pair up
        half = full // 2
        self._bmin[:half] = np.minimum(self._bmin[0:full:2], self._bmin[1:full:2])
        self._bmax[:half] = np.maximum(self._bmax[0:full:2], self._bmax[1:full:2])
        self._block *= 2
        # whatever was left over is recomputed by _summarise from the raw values

    def _summarise(self, first_block: int, end: int) -> None:
        b = self._block
        lo = first_block * b
        last_block = -(-end // b)
        whole = (end - lo) // b
        if whole:
            seg = self._values[lo : lo + whole * b].reshape(whole, b)
            self._bmin[first_block : first_block + whole] = seg.min(axis=1)
            self._bmax[first_block : first_block + whole] = seg.max(axis=1)
        if first_block + whole < last_block:  # a partial last block
            tail = self._values[lo + whole * b : end]
            self._bmin[last_block - 1] = tail.min()
            self._bmax[last_block - 1] = tail.max()

    def decimate(self, bins: int) -> Series:
        """About ``bins`` points that keep each bin's extremes, in O(bins + MAX_BLOCKS)."""
        n = self._n
        bins = max(1, bins)
        summary_only = self._values is None
        if n <= bins and not summary_only:
            v = self._values[:n].copy()
            return Series(np.arange(1, n + 1, dtype=np.float64), v, v)
        nblocks = -(-n // self._block)
        if nblocks > bins or summary_only:
            mins, maxs, size = self._bmin[:nblocks], self._bmax[:nblocks], self._block
        else:  # few epochs: bin the raw values (n <= bins * block is small here)
            mins = maxs = self._values[:n]
            size = 1
        edges = bin_edges(mins.size, bins)
        lo = np.minimum.reduceat(mins, edges[:-1])
        hi = np.maximum.reduceat(maxs, edges[:-1])
        centre = (edges[:-1] + edges[1:]) / 2 * size
        x = np.minimum(centre, n) + 0.5
        return Series(x, lo, hi)

    def decimate_log(self, bins: int) -> Series:
        """About ``bins`` points evenly spaced in log(epoch), each bin's extremes kept, for a log x axis.

        The first epochs get bins of their own (one epoch each); later bins are wider.  Bins
        narrower than a summary block read the raw values (only the first few thousand
        epochs are ever read so), the rest the block summary: O(bins + MAX_BLOCKS).
        """
        n = self._n
        bins = max(1, bins)
        if not n:
            return Series(np.empty(0), np.empty(0, np.float32), np.empty(0, np.float32))
        # bin k covers epochs [edges[k], edges[k+1]) counted from 0
        edges = np.unique(np.geomspace(1, n + 1, bins + 1).astype(np.int64) - 1)
        edges[-1] = n
        block = self._block
        raw = self._values is not None
        wide = np.flatnonzero(np.diff(edges) >= block)  # bins that a block summary can serve
        cut = 0 if not raw else n if block == 1 or not wide.size else int(edges[wide[0]])
        cut = min(n, -(-cut // block) * block)  # raw values up to a block boundary, blocks after it
        parts_lo, parts_hi, parts_x = [], [], []
        head = edges[edges < cut]
        if head.size:
            bounds = np.append(head, cut)
            lo = np.minimum.reduceat(self._values[:cut], head)
            hi = np.maximum.reduceat(self._values[:cut], head)
            parts_lo.append(lo)
            parts_hi.append(hi)
            parts_x.append(np.sqrt((bounds[:-1] + 1.0) * bounds[1:]))
        if cut < n:
            starts = np.unique(np.append(cut, edges[(edges > cut) & (edges < n)]) // block)
            nblocks = -(-n // block)
            lo = np.minimum.reduceat(self._bmin[:nblocks], starts)
            hi = np.maximum.reduceat(self._bmax[:nblocks], starts)
            bounds = np.minimum(np.append(starts, nblocks) * block, n)
            parts_lo.append(lo)
            parts_hi.append(hi)
            parts_x.append(np.sqrt((bounds[:-1] + 1.0) * bounds[1:]))
        return Series(np.concatenate(parts_x), np.concatenate(parts_lo), np.concatenate(parts_hi))
