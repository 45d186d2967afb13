"""What the network view says about each hidden unit: its activation, weights, kinks, whether it is dead,
and what it adds to the output.  Plain numpy on a snapshot; no drawing here."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

_NO_KINK = {"identity"}  # activations whose zero crossing means nothing


@dataclass(frozen=True)
class Unit:
    """What the tile and the footer say about one hidden unit."""

    layer: int  # 1-based
    index: int
    units: int
    weight: float | None  # the incoming weight (layer 1: a number); None for deeper layers
    weight_norm: float  # ‖incoming weights‖
    bias: float
    out: float  # the output weight (last layer), else the sum of the weights leaving it
    kinks: tuple[float, ...]  # x where the pre-activation crosses zero, within the view
    dead: bool
    activation: np.ndarray  # on the grid

    def describe(self, last: bool) -> str:
        """One line for the footer: ``layer 1 · neuron 3 of 16 · w +1.20 · b -0.30 · …``."""
        parts = [f"layer {self.layer} · neuron {self.index} of {self.units}"]
        parts.append(f"w {self.weight:+.4g}" if self.weight is not None else f"‖w‖ {self.weight_norm:.4g}")
        parts.append(f"b {self.bias:+.4g}")
        parts.append(f"{'out' if last else 'Σout'} {self.out:+.4g}")
        if self.kinks:
            shown = ", ".join(f"{x:.3g}" for x in self.kinks[:3]) + (", …" if len(self.kinks) > 3 else "")
            parts.append(f"z=0 at x={shown}")
        if self.dead:
            parts.append("dead")
        return " · ".join(parts)


def hidden_layers(snap: Snapshot) -> tuple[np.ndarray, ...]:
    """Every hidden layer's activations on the grid (older snapshots: just the last one)."""
    layers = tuple(getattr(snap, "layers", ()) or ())
    return layers or (np.asarray(snap.hidden),)


def knockout(snap: Snapshot, layer: int, unit: int) -> np.ndarray | None:
    """What ``unit`` of hidden ``layer`` adds to the output over the grid: ŷ minus ŷ with that unit's
    activation set to zero (the layers above recomputed, in float64).  For the last hidden layer this
    is exactly w·h(x); None when the snapshot lacks the weights or the activation is unknown."""
    acts = hidden_layers(snap)
    weights = tuple(getattr(snap, "weights", ()) or ())
    function = _NUMPY_ACTIVATIONS.get(getattr(snap.config, "activation", ""))
    if len(weights) != 2 * (len(acts) + 1) or function is None:
        return None
    params = [np.asarray(w, dtype=np.float64) for w in weights]
    full = np.asarray(acts[layer - 1], dtype=np.float64)
    without = full.copy()
    without[:, unit] = 0.0
    with np.errstate(all="ignore"):
        outputs = []
        for h in (full, without):
            for k in range(layer, len(acts)):  # the hidden layers above
                h = function(h @ params[2 * k].T + params[2 * k + 1])
            outputs.append((h @ params[-2].T + params[-1]).ravel())
    effect: NDArray[np.float64] = outputs[0] - outputs[1]
    return effect


def _gelu(z: NDArray[np.float64]) -> NDArray[np.float64]:
    erf = np.frompyfunc(math.erf, 1, 1)
    exact = cast("NDArray[np.object_]", erf(z / math.sqrt(2.0)))  # an array in, an array out
    return 0.5 * z * (1.0 + exact.astype(np.float64))


#: the activations in numpy (float64), as torch defines them
_NUMPY_ACTIVATIONS: dict[str, Callable[[NDArray[np.float64]], NDArray[np.float64]]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(z / 2.0)),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "gelu": _gelu,
    "silu": lambda z: z * 0.5 * (1.0 + np.tanh(z / 2.0)),
    "softplus": lambda z: np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20.0)))),
    "identity": lambda z: z,
}


def unit_info(snap: Snapshot, layer: int, indices: Sequence[int]) -> list[Unit]:
    """:class:`Unit` for ``indices`` of hidden ``layer`` (1-based): O(grid × units) each."""
    acts = hidden_layers(snap)
    count = len(acts)
    grid = np.asarray(snap.grid, dtype=np.float64).ravel()
    h = np.asarray(acts[layer - 1], dtype=np.float64)
    weights = tuple(getattr(snap, "weights", ()) or ())
    have = len(weights) == 2 * (count + 1)
    dead_all = tuple(getattr(snap, "dead", ()) or ())
    idx = np.asarray(indices, dtype=np.int64)
    if have:
        w_in = np.asarray(weights[2 * (layer - 1)], dtype=np.float64)[idx]  # (k, inputs)
        b_in = np.asarray(weights[2 * (layer - 1) + 1], dtype=np.float64)[idx]
        below = grid[:, None] if layer == 1 else np.asarray(acts[layer - 2], dtype=np.float64)
        with np.errstate(all="ignore"):
            z = below @ w_in.T + b_in  # (grid, k): the pre-activations
        w_next = np.asarray(weights[2 * layer], dtype=np.float64)[:, idx]  # (next units, k)
        out = w_next.sum(axis=0)
    else:
        w_in, b_in, z = np.zeros((idx.size, 1)), np.zeros(idx.size), None
        out = np.ones(idx.size)
    if len(dead_all) == count:
        dead = np.asarray(dead_all[layer - 1], dtype=bool)[idx]
    else:  # no word from the engine: zero on the whole grid
        dead = ~np.any(h[:, idx] != 0, axis=0)
    kinkless = getattr(snap.config, "activation", "") in _NO_KINK
    zeros = [()] * idx.size if z is None or kinkless else _zeros(grid, z)
    units = []
    for j, i in enumerate(idx.tolist()):
        kinks = zeros[j]
        units.append(
            Unit(
                layer=layer,
                index=i,
                units=h.shape[1],
                weight=float(w_in[j, 0]) if layer == 1 and have else None,
                weight_norm=float(np.linalg.norm(w_in[j])),
                bias=float(b_in[j]),
                out=float(out[j]),
                kinks=kinks,
                dead=bool(dead[j]),
                activation=h[:, i],
            )
        )
    return units


def _zeros(x: np.ndarray, z: np.ndarray) -> list[tuple[float, ...]]:
    """For each column of ``z`` (sampled at ``x``), where it crosses zero, linearly interpolated
    (none for a column with a non-finite value)."""
    k = z.shape[1]
    found: list[list[float]] = [[] for _ in range(k)]
    if x.size < 2:
        return [()] * k
    a, b = z[:-1], z[1:]
    with np.errstate(all="ignore"):
        cross = (a == 0) | (((a < 0) != (b < 0)) & (b != 0))
        t = np.where(a == 0, 0.0, a / (a - b))
    at = x[:-1, None] + t * (x[1:] - x[:-1])[:, None]
    rows, cols = np.nonzero(cross)
    for c, value in zip(cols.tolist(), at[rows, cols].tolist()):
        found[c].append(value)
    for c in np.flatnonzero(z[-1] == 0).tolist():
        found[c].append(float(x[-1]))
    bad = ~np.isfinite(z).all(axis=0)
    return [() if bad[c] else tuple(found[c]) for c in range(k)]
