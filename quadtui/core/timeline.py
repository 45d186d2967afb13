"""Checkpoints of a run's parameters, to look at the network as it was at an earlier epoch.

State ``k`` is the network after ``k`` updates, so its full-batch training loss is
``train_loss[k]`` (the loss of epoch ``k + 1``, taken before that epoch's update),
and state ``epochs`` is the trained network.  Which states are kept is fixed when
the run starts: every one at first, then log-spaced to the end, at most
:data:`MAX_CHECKPOINTS` and within :data:`BUDGET_BYTES` (a wide net keeps fewer).
The engine copies the flat parameter buffer into a preallocated row at each kept
state — a few hundred nanoseconds, once per kept epoch, and no change to any number
it computes.

:func:`state_at` turns a checkpoint and a snapshot into the snapshot of that moment
(prediction, every layer, dead units, weights), with the same float ops the engine uses.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    from quadtui.core.snapshot import Snapshot

#: dead units are looked for on every training sample while that costs at most this many
#: multiply-adds (a millisecond or two), else on an evenly strided subset of that cost (at least DEAD_MIN)
DEAD_WORK, DEAD_MIN = 4_000_000, 256
BUDGET_BYTES = 32 * 2**20  # the checkpoints of one run take at most this much memory
MAX_CHECKPOINTS = 1024  # and there are at most this many of them


def schedule(epochs: int, slots: int) -> np.ndarray:
    """The states (0 … ``epochs``) to keep, ascending: all when they fit in ``slots``, else the
    first half of the slots one by one and the rest log-spaced up to the last state."""
    states = epochs + 1
    slots = max(2, slots)
    if states <= slots:
        return np.arange(states, dtype=np.int64)
    dense = slots // 2
    tail = np.unique(np.rint(np.geomspace(dense, epochs, slots - dense)).astype(np.int64))
    return np.unique(np.concatenate((np.arange(dense, dtype=np.int64), tail, [epochs])))


#: a rough cost model of this machine class, to keep the copies a small share of training: a
#: checkpoint copies 4 bytes a parameter into fresh memory (page faults included), an epoch costs a
#: fixed overhead per step and layer plus three multiply-adds per sample and parameter
COPY_NS, COPY_NS_PER_BYTE = 500.0, 1.25
STEP_NS, MAC_NS = 15_000.0, 0.04
SHARE = 0.02  # the copies may cost about this share of the run's training time


def affordable(epochs: int, samples: int, batches: int, layers: int, size: int) -> int:
    """How many checkpoints cost about SHARE of training ``epochs`` epochs (by the model above)."""
    epoch = STEP_NS * batches * (layers + 1) + 3 * samples * size * MAC_NS
    copy = COPY_NS + 4 * size * COPY_NS_PER_BYTE
    return int(SHARE * epochs * epoch / copy)


class Timeline:
    """The kept states of one run: ``epochs[i]`` and its flat parameters ``rows[i]`` (float32).

    ``slots`` caps how many are kept (besides the memory budget and MAX_CHECKPOINTS); the
    engine passes :func:`affordable`'s figure so that a short run of a wide net keeps fewer."""

    def __init__(self, epochs: int, size: int, budget: int = BUDGET_BYTES, slots: int = MAX_CHECKPOINTS) -> None:
        slots = min(MAX_CHECKPOINTS, slots, budget // (4 * max(1, size)))
        self.wanted = schedule(epochs, slots)
        self._store = np.empty((self.wanted.size, size), dtype=np.float32)  # pages touched as rows fill
        self._count = 0

    @property
    def epochs(self) -> np.ndarray:
        """The states kept so far (read-only view)."""
        view = self.wanted[: self._count]
        view.flags.writeable = False
        return view

    @property
    def rows(self) -> np.ndarray:
        view = self._store[: self._count]
        view.flags.writeable = False
        return view

    @property
    def nbytes(self) -> int:
        return self._store.nbytes

    def due(self, start: int, n: int) -> list[int]:
        """Offsets ``i`` in ``[0, n)`` whose state ``start + i`` is to be kept and is not yet."""
        lo = max(self._count, int(np.searchsorted(self.wanted, start)))
        hi = int(np.searchsorted(self.wanted, start + n))
        offsets: list[int] = (self.wanted[lo:hi] - start).tolist()
        return offsets

    def keep(self, state: int, flat: np.ndarray) -> None:
        """Store ``flat`` as state ``state`` (a state kept already, or not wanted, is ignored)."""
        if self._count < self.wanted.size and self.wanted[self._count] == state:
            self._store[self._count] = flat
            self._count += 1

    def forget_after(self, state: int) -> None:
        """Drop the states after ``state`` (a diverged chunk is replayed to its last good state)."""
        self._count = int(np.searchsorted(self.wanted[: self._count], state, side="right"))

    def frozen(self) -> TimelineView:
        return TimelineView(self.epochs, self.rows)


class ReceivedTimeline:
    """The kept states as another process ships them (in order, a few at a time): a growing buffer."""

    def __init__(self) -> None:
        self._epochs = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros((0, 0), dtype=np.float32)
        self._count = 0

    def add(self, epochs: np.ndarray, rows: np.ndarray) -> None:
        n = int(np.asarray(epochs).size)
        if not n:
            return
        need = self._count + n
        if need > self._epochs.size or rows.shape[1] != self._rows.shape[1]:
            grown = max(need, 2 * self._epochs.size, 16)
            epochs_buf = np.zeros(grown, dtype=np.int64)
            rows_buf = np.empty((grown, rows.shape[1]), dtype=np.float32)
            epochs_buf[: self._count] = self._epochs[: self._count]
            if self._count:
                rows_buf[: self._count] = self._rows[: self._count]
            self._epochs, self._rows = epochs_buf, rows_buf  # views handed out keep the old buffers
        self._epochs[self._count : need] = epochs
        self._rows[self._count : need] = rows
        self._count = need

    def frozen(self) -> TimelineView:
        epochs, rows = self._epochs[: self._count], self._rows[: self._count]
        epochs.flags.writeable = rows.flags.writeable = False
        return TimelineView(epochs, rows)


@dataclasses.dataclass(frozen=True)
class TimelineView:
    """The kept states at one moment: read-only views, O(1) to take."""

    epochs: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return int(self.epochs.size)

    def nearest(self, epoch: int) -> int:
        """The index of the kept state closest to ``epoch`` (the earlier one on a tie)."""
        if not len(self):
            raise IndexError("no checkpoints")
        i = int(np.searchsorted(self.epochs, epoch))
        if i == len(self):
            return i - 1
        if i and epoch - self.epochs[i - 1] <= self.epochs[i] - epoch:
            return i - 1
        return i


def unflatten(flat: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> tuple[np.ndarray, ...]:
    """The parameters (weight, bias per layer) in ``flat``, laid out as the engine's buffer is:
    each tensor starting on a 16-float boundary."""
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(np.asarray(flat[start : start + size]).reshape(shape).copy())
        start += -(-size // 16) * 16
    return tuple(out)


def dead_samples(x: torch.Tensor, hidden_weights: Sequence[torch.Tensor | np.ndarray]) -> torch.Tensor:
    """The training samples dead units are looked for on: all of them while one forward pass costs at
    most DEAD_WORK multiply-adds, else an evenly strided subset of that cost (at least DEAD_MIN)."""
    per_sample = sum(math.prod(np.shape(w)) for w in hidden_weights)
    most = max(DEAD_MIN, DEAD_WORK // max(1, per_sample))
    return x[:: math.ceil(x.shape[0] / most)] if x.shape[0] > most else x


def flat_size(shapes: Sequence[tuple[int, ...]]) -> int:
    return sum(-(-math.prod(shape) // 16) * 16 for shape in shapes)


@dataclasses.dataclass(frozen=True)
class PastQuestion:
    """What :func:`past_states` needs to know of a run: small, so that it crosses to another process cheaply
    (a snapshot also holds the loss history, up to 40 MB)."""

    activation: str
    shapes: tuple[tuple[int, ...], ...]
    grid: np.ndarray
    x_samples: np.ndarray

    @classmethod
    def of(cls, snap: Snapshot) -> PastQuestion:
        return cls(
            snap.config.activation,
            tuple(tuple(w.shape) for w in snap.weights),
            np.asarray(snap.grid),
            np.asarray(snap.x_samples),
        )


def past_states(question: PastQuestion, rows: Sequence[np.ndarray]) -> list[dict[str, object]]:
    """For each flat parameter row (a kept state): the snapshot fields that change with the weights
    (prediction, every layer, dead units, weights), with the same float ops the engine uses.

    Needs torch: in the app's real-terminal mode the UI process has none, so it asks a process
    forked from the fork server (:func:`quadtui.core.remote.call`), several states at a time.
    """
    import torch

    from quadtui.core.model import ACTIVATIONS

    act = ACTIVATIONS[question.activation]
    grid = torch.from_numpy(question.grid).reshape(-1, 1).float()
    x_train = torch.from_numpy(question.x_samples).reshape(-1, 1).float()
    found = []
    for row in rows:
        params = unflatten(row, question.shapes)
        tensors = [torch.from_numpy(p) for p in params]

        def hidden(x: torch.Tensor, tensors: list[torch.Tensor] = tensors) -> list[torch.Tensor]:
            out, h = [], x
            for w, b in zip(tensors[0:-2:2], tensors[1:-2:2]):
                h = act.forward(torch.addmm(b, h, w.t()))
                out.append(h)
            return out

        with torch.inference_mode():
            layers = hidden(grid)
            pred = torch.addmm(tensors[-1], layers[-1], tensors[-2].t())
            dead = tuple((h == 0).all(0).numpy() for h in hidden(dead_samples(x_train, params[:-2:2])))
            arrays = tuple(h.double().numpy() for h in layers)
        found.append(
            {
                "prediction": pred.reshape(-1).double().numpy(),
                "hidden": arrays[-1],
                "layers": arrays,
                "dead": dead,
                "out_weights": params[-2].reshape(-1).astype(np.float64),
                "out_bias": float(params[-1][0]),
                "weights": params,
            }
        )
    return found


def state_at(snap: Snapshot, index: int, fields: dict[str, object] | None = None) -> Snapshot:
    """``snap`` as it was at its timeline's ``index``-th kept state: the epoch, the weights, and what
    the charts draw from them (``fields``, from :func:`past_states`; computed here if not given)."""
    timeline = snap.timeline
    assert timeline is not None, "state_at needs a snapshot with a timeline"
    if fields is None:
        [fields] = past_states(PastQuestion.of(snap), [timeline.rows[index]])
    return dataclasses.replace(snap, epoch=int(timeline.epochs[index]), **fields)  # type: ignore[arg-type]
