"""Which runs a WideMLP can batch, where it puts each member's units, and which batched kernels
compute a single run's bits.

Measured facts about torch's CPU kernels (with MKL) that :mod:`quadtui.core.sweep.wide`
builds on; tests/test_sweep.py checks each again on the machine it runs on.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

from quadtui.core.config import Config
from quadtui.core.fastmlp import ROWWISE_MAX
from quadtui.core.sweep.batched import EXACT_ACTIVATIONS
from quadtui.core.sweep.exact import spread

LANES = 4
PROBE_TRIALS = 3
_VECTOR_FLOATS = {"AVX512": 16, "AVX2": 8, "DEFAULT": 8}  # floats in one of torch's CPU vectors


def _lanes(width: int) -> list[list[int]]:
    """The summation order of MKL's ``(N×width) @ (width×1)``: which products each of 4 accumulators adds.

    Up to 4 products add one after another.  Beyond, the first ``(width-1) % 4 + 1``
    go to accumulator 0, then the rest round-robin over the 4; the result is
    ``(acc0 + acc2) + (acc1 + acc3)`` (then the bias).
    """
    head = (width - 1) % LANES + 1
    lanes: list[list[int]] = [list(range(head)), [], [], []]
    for j in range(head, width):
        lanes[(j - head) % LANES].append(j)
    return lanes


def unit_slots(width: int, storage: int) -> list[int] | None:
    """Storage column of each of a ``width``-unit member's units in a product over ``storage`` columns.

    The member's products must be added in its own order with only zeros between,
    so each of its accumulators' sequences is laid into the same accumulator of
    the wider order.  ``None`` when it does not fit.
    """
    slots = [0] * width
    for mine, theirs in zip(_lanes(width), _lanes(storage)):
        if len(mine) > len(theirs):
            return None
        for j, column in zip(mine, theirs):
            slots[j] = column
    return slots


@functools.cache
def bmm_sums_exactly(samples: int, k_count: int, width: int) -> bool:
    """Whether ``bmm`` gives each member's ``g.T @ h`` (over a strided (samples, K, width) ``h``) exactly."""
    gen = torch.Generator().manual_seed(width)
    for _ in range(PROBE_TRIALS):
        h, g = spread(gen, samples, k_count, width), spread(gen, k_count, samples)
        batched = torch.bmm(g.unsqueeze(1), h.permute(1, 0, 2))
        for k in range(k_count):
            if not torch.equal(batched[k], g[k : k + 1] @ h[:, k].contiguous()):
                return False
    return True


def storage_width(widths: Sequence[int]) -> int:
    """The narrowest product width every member fits into."""
    w = max(widths)
    while any(unit_slots(h, w) is None for h in widths):
        w += 1
    return w


def whole_vectors(count: int) -> bool:
    """Whether an elementwise kernel over ``count`` contiguous floats computes every one in its vector loop.

    torch's CPU loops take two vectors a step and leave the rest to a scalar tail; for exp,
    tanh, erf... the tail (libm) can round otherwise than the vector code (SLEEF/VML), so a
    unit would differ between a single run and a batch unless neither has a tail.  With
    more than one thread the range is split, and the splits make tails of their own.
    """
    floats = _VECTOR_FLOATS.get(torch.backends.cpu.get_cpu_capability())
    return floats is not None and torch.get_num_threads() == 1 and count % (2 * floats) == 0


def wide_key(config: Config) -> tuple[object, ...] | None:
    """Configs with equal keys train as one :class:`WideMLP`; ``None``: not this way."""
    if config.layers != 1:
        return None
    if any(rows % LANES for rows in step_sizes(config)):
        return None  # MKL sums the last rows of such a product (a single run's output layer) in another order
    if config.activation not in EXACT_ACTIVATIONS and not all(
        whole_vectors(rows * config.hidden) for rows in step_sizes(config)
    ):
        return None  # the single run computes some units in the scalar tail: alone
    if config.full_batch:
        return ("wide", config.activation, config.optimizer, config.samples)
    if config.samples > ROWWISE_MAX:
        return None
    # mini-batches: the members must shuffle alike (the seed) and cut the same batches
    return ("wide", config.activation, config.optimizer, config.samples, config.batch_size, config.seed)


def step_sizes(config: Config) -> set[int]:
    """The sample counts of a run's steps: all of them, or the batch size (and a smaller last batch)."""
    if config.full_batch or config.batch_size is None:
        return {config.samples}
    return {config.batch_size, config.samples % config.batch_size or config.batch_size}
