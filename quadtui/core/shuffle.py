"""The order of the samples in each mini-batch epoch: the one torch's DataLoader draws.

The printed script (:mod:`quadtui.core.codegen`) feeds its mini-batches through
``DataLoader(TensorDataset(x_train, y_train), batch_size=BATCH_SIZE, shuffle=True,
generator=torch.Generator().manual_seed(SEED))``, the way PyTorch is taught.  For the
app to train that very run, the engine and the sweeps draw the same permutations
from a generator seeded the same way, without the DataLoader's per-sample Python.

Each epoch (one ``for x_batch, y_batch in loader:``) the DataLoader takes three draws
from its generator, in this order (torch/utils/data/dataloader.py and sampler.py):

1. making the iterator draws an int64, the base seed of worker processes (drawn
   even when there are none);
2. its ``RandomSampler`` draws ``torch.randperm(n)``: the epoch's order;
3. once that order is used up, the sampler draws one more ``randperm(n)`` and
   yields none of it (the tail of ``num_samples % n`` samples, empty here).

tests/test_shuffle.py compares the orders with DataLoader's own.
"""

from __future__ import annotations

import torch


class EpochShuffle:
    """Each call of :meth:`next_order` is the sample order of the next epoch."""

    def __init__(self, samples: int, seed: int) -> None:
        self.samples = samples
        self.generator = torch.Generator().manual_seed(seed)

    def next_order(self) -> torch.Tensor:
        """The next epoch's permutation of ``range(samples)`` (int64)."""
        gen, n = self.generator, self.samples
        torch.empty((), dtype=torch.int64).random_(generator=gen)  # 1. the workers' base seed
        order = torch.randperm(n, generator=gen)  # 2. the epoch's order
        torch.randperm(n, generator=gen)  # 3. the sampler's (empty) tail
        return order

    def save(self) -> torch.Tensor:
        """The generator's state, to draw the same orders again after :meth:`restore`."""
        return self.generator.get_state()

    def restore(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)
