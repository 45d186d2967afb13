"""Batched tensor ops that give each member exactly the single run's bits — checked, not assumed.

A batched op (``bmm``, a reduction over a padded axis) does not always run the
same float operations as the single run's op on the member's own shapes: CPU
BLAS picks kernels by shape, torch's reductions pick an order by width, and
padding a hidden layer changes both.  At the edge of stability (the notebook's
SGD at lr 0.02) one different rounding grows into a different final loss.

So each :class:`ExactOp` is *probed* when a batch is built: random inputs with
the members' real widths and padding go through the batched op and through the
single-run op, and every member whose bits differ is computed by the single-run
op on its own slice from then on (``fallback``).  On the machines we measured,
most members pass; the probe keeps the guarantee wherever they do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

Tensor = torch.Tensor
PROBE_TRIALS = 3


@dataclass
class ExactOp:
    """``batched(*padded) == stack(single(*member_slices))`` member by member.

    ``dims`` name each input's axes as the single run sees them: ``"N"`` samples,
    ``"H"`` hidden units (padded to the batch width in the batched op), ``"1"``.
    ``fills`` is the value padded units hold in each input (0 for weights and
    gradients, the activation of 0 for hidden outputs).
    """

    name: str
    single: Callable[..., Tensor]
    batched: Callable[..., Tensor]
    dims: Sequence[str]
    out: str
    fills: Sequence[float] = ()
    fallback: list[int] = field(default_factory=list)
    widths: Sequence[int] = ()

    def __call__(self, *padded: Tensor) -> Tensor:
        out = self.batched(*padded)
        for k in self.fallback:
            out[k][self._slicer(self.out, k)] = self.single(*self.member(padded, k))
        return out

    # -- slicing a member out of the batch -------------------------------------------
    def _slicer(self, dims: str, k: int) -> tuple[slice, ...]:
        return tuple(slice(0, self.widths[k]) if d == "H" else slice(None) for d in dims)

    def member(self, padded: Sequence[Tensor], k: int) -> list[Tensor]:
        return [t[k][self._slicer(d, k)].contiguous() for t, d in zip(padded, self.dims)]

    # -- the probe ----------------------------------------------------------------------
    def probe(self, widths: Sequence[int], samples: int, generator: torch.Generator) -> list[int]:
        """Find the members whose batched bits differ from their single run's; compute those alone."""
        self.widths = list(widths)
        k_count, width = len(widths), max(widths)
        sizes = {"N": samples, "H": width, "1": 1}
        bad: set[int] = set()
        for _ in range(PROBE_TRIALS):
            inputs = []
            for j, dims in enumerate(self.dims):
                t = spread(generator, k_count, *(sizes[d] for d in dims))
                fill = self.fills[j] if j < len(self.fills) else 0.0
                for k, w in enumerate(widths):
                    for axis, d in enumerate(dims):
                        if d == "H" and w < width:
                            t[k].narrow(axis, w, width - w).fill_(fill)
                inputs.append(t)
            got = self.batched(*inputs)
            for k in range(k_count):
                want = self.single(*self.member(inputs, k))
                if not torch.equal(got[k][self._slicer(self.out, k)], want):
                    bad.add(k)
        self.fallback = sorted(bad)
        return self.fallback


def spread(gen: torch.Generator, *shape: int) -> Tensor:
    """Random values of magnitudes 2**-10 to 2**10: sums of them that any reordering changes."""
    scale = torch.exp2(torch.randint(-10, 11, shape, generator=gen).float())
    return torch.randn(shape, generator=gen) * scale


def bmm_each(a: Tensor, b: Tensor) -> Tensor:
    """``bmm`` computed item by item with the single run's GEMM call.

    A non-contiguous result makes ATen multiply each item with the very
    ``addmm`` path ``torch.mm`` takes (no batched-BLAS kernel), without a
    dispatcher round trip per item.  Needed for the contractions over hidden units.
    """
    k, n, m = a.shape[0], a.shape[1], b.shape[2]
    out = torch.empty(k, n, m + 1, dtype=a.dtype)[:, :, :m]
    return torch.bmm(a, b, out=out)
