"""The single-run optimizers of ``fastmlp`` for K members at once, hyperparameters as tensors.

Every update is elementwise, so a member's elements see exactly the single run's
float operations as long as each is written with the same fused kernels
(``addcmul`` with a per-element ``-lr`` is the single run's ``add(alpha=-lr)``).
``owners[i]`` maps each element of ``params[i]`` to its member (broadcastable).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from quadtui.core.config import Config
from quadtui.core.optim import ADAM_BETAS, ADAM_EPS, RMSPROP_ALPHA, RMSPROP_EPS

Tensor = torch.Tensor


class BatchedOptimizer:
    def __init__(self, configs: Sequence[Config], params: list[Tensor], owners: list[Tensor] | None = None) -> None:
        self.kind = configs[0].optimizer
        self.params = params
        self.steps = 0
        k_count = len(configs)
        if owners is None:  # dim 0 is the member
            owners = [torch.arange(k_count).reshape(k_count, *([1] * (p.dim() - 1))) for p in params]
        self.owners = owners

        def per_member(values: list[float]) -> list[Tensor]:
            column = torch.tensor(values, dtype=torch.float64).float()
            return [column[o] for o in owners]

        self.lr = [float(c.lr) for c in configs]
        self._neg_lr = per_member([-c.lr for c in configs])
        self._wd = per_member([c.weight_decay for c in configs]) if any(c.weight_decay for c in configs) else None
        self._momentum = per_member([c.momentum for c in configs])
        self.plain_sgd = self.kind == "sgd" and self._wd is None  # p.addcmul_(g, -lr) is the whole step
        self.rates = self._neg_lr  # -lr per element; freeze() zeroes a member's in place
        self.state = [torch.zeros_like(p) for p in params]
        self.state2 = [torch.zeros_like(p) for p in params] if self.kind == "adam" else []
        # scratch, so that a step allocates nothing: decayed gradients, the step, its denominator
        self._decayed = [torch.empty_like(p) for p in params] if self._wd is not None else []
        self._update = [torch.empty_like(p) for p in params] if self.kind in ("adam", "rmsprop") else []
        self._denom = [torch.empty_like(p) for p in params] if self.kind in ("adam", "rmsprop") else []
        self._lr64 = torch.tensor(self.lr, dtype=torch.float64)

    def freeze(self, k: int) -> None:
        for t, o in zip(self._neg_lr, self.owners):
            t.masked_fill_(o == k, 0.0)
        for group in (self.params, self.state, self.state2):
            for t, o in zip(group, self.owners):
                t.masked_fill_(o == k, 0.0)

    def step(self, grads: list[Tensor]) -> None:
        self.steps += 1
        if self._wd is not None:  # g.add(p, alpha=wd) is one fused multiply-add, like addcmul
            grads = [torch.addcmul(g, p, wd, out=d) for p, g, wd, d in zip(self.params, grads, self._wd, self._decayed)]
        kind = self.kind
        if kind == "sgd":
            for p, g, lr in zip(self.params, grads, self._neg_lr):
                p.addcmul_(g, lr)
        elif kind == "momentum":
            first = self.steps == 1
            for p, g, buf, lr, mom in zip(self.params, grads, self.state, self._neg_lr, self._momentum):
                if first:
                    buf.copy_(g)
                else:
                    buf.mul_(mom).add_(g)
                p.addcmul_(buf, lr)
        elif kind == "adam":
            beta1, beta2 = ADAM_BETAS
            correction1 = 1 - beta1**self.steps
            correction2_sqrt = (1 - beta2**self.steps) ** 0.5
            scratch = zip(self._update, self._denom)
            for p, g, m, v, lr, o, (update, denom) in zip(
                self.params, grads, self.state, self.state2, self._neg_lr, self.owners, scratch
            ):
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                torch.sqrt(v, out=denom).div_(correction2_sqrt).add_(ADAM_EPS)
                step_size = lr if correction1 == 1.0 else self._scaled(lr, o, correction1)  # -lr / 1 is -lr
                p.add_(torch.mul(m, step_size, out=update).div_(denom))
        else:  # rmsprop
            scratch = zip(self._update, self._denom)
            for p, g, sq, lr, (update, denom) in zip(self.params, grads, self.state, self._neg_lr, scratch):
                sq.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
                p.add_(torch.mul(g, lr, out=update).div_(torch.sqrt(sq, out=denom).add_(RMSPROP_EPS)))

    def _scaled(self, neg_lr: Tensor, owner: Tensor, correction: float) -> Tensor:
        """-lr / correction per member, computed in double then rounded once, as the single run does."""
        column = (-(self._lr64 / correction)).float()
        return column[owner] * (neg_lr != 0)
