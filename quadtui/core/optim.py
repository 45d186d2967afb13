"""Optimizers without autograd: the updates of ``torch.optim``'s single-tensor code paths.

Each applies exactly the float operations ``torch.optim.SGD`` (with and without
momentum), ``Adam`` and ``RMSprop`` apply on the CPU, with their default betas,
alpha and eps, so training through them stays bit-identical to ``torch.optim``.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from quadtui.core.config import Config

Tensor = torch.Tensor

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
RMSPROP_ALPHA = 0.99
RMSPROP_EPS = 1e-8


class Optimizer:
    """Plain SGD (also the base class).  ``params`` may be any tensors, e.g. one flat buffer."""

    def __init__(self, params: list[Tensor], lr: float, weight_decay: float) -> None:
        self.params = params
        self.lr = lr
        self.weight_decay = weight_decay
        self.steps = 0

    def _decayed(self, grads: list[Tensor]) -> list[Tensor]:
        if self.weight_decay == 0:
            return grads
        return [g.add(p, alpha=self.weight_decay) for p, g in zip(self.params, grads)]

    def step(self, grads: list[Tensor]) -> None:
        self.steps += 1
        for p, g in zip(self.params, self._decayed(grads)):
            p.add_(g, alpha=-self.lr)

    def state(self) -> list[Tensor]:
        """Tensors that, with ``steps``, hold the optimizer's whole state."""
        return []


class Momentum(Optimizer):
    def __init__(self, params: list[Tensor], lr: float, weight_decay: float, momentum: float) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = momentum
        self.buffers = [torch.zeros_like(p) for p in params]

    def step(self, grads: list[Tensor]) -> None:
        first = self.steps == 0
        self.steps += 1
        for p, g, buf in zip(self.params, self._decayed(grads), self.buffers):
            if first or self.momentum == 0:
                buf.copy_(g)
            else:
                buf.mul_(self.momentum).add_(g)
            p.add_(buf, alpha=-self.lr)

    def state(self) -> list[Tensor]:
        return self.buffers


class Adam(Optimizer):
    def __init__(self, params: list[Tensor], lr: float, weight_decay: float) -> None:
        super().__init__(params, lr, weight_decay)
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self._denom = [torch.empty_like(p) for p in params]

    def step(self, grads: list[Tensor]) -> None:
        self.steps += 1
        beta1, beta2 = ADAM_BETAS
        step_size = self.lr / (1 - beta1**self.steps)
        correction2_sqrt = (1 - beta2**self.steps) ** 0.5
        state = zip(self.exp_avg, self.exp_avg_sq, self._denom)
        for p, g, (m, v, denom) in zip(self.params, self._decayed(grads), state):
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            torch.sqrt(v, out=denom).div_(correction2_sqrt).add_(ADAM_EPS)  # (v.sqrt() / c).add_(eps)
            p.addcdiv_(m, denom, value=-step_size)

    def state(self) -> list[Tensor]:
        return self.exp_avg + self.exp_avg_sq


class RMSprop(Optimizer):
    def __init__(self, params: list[Tensor], lr: float, weight_decay: float) -> None:
        super().__init__(params, lr, weight_decay)
        self.square_avg = [torch.zeros_like(p) for p in params]
        self._denom = [torch.empty_like(p) for p in params]

    def step(self, grads: list[Tensor]) -> None:
        self.steps += 1
        for p, g, sq, denom in zip(self.params, self._decayed(grads), self.square_avg, self._denom):
            sq.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            p.addcdiv_(g, torch.sqrt(sq, out=denom).add_(RMSPROP_EPS), value=-self.lr)

    def state(self) -> list[Tensor]:
        return self.square_avg


def make_optimizer(config: Config, params: list[Tensor]) -> Optimizer:
    if config.optimizer == "momentum":
        return Momentum(params, config.lr, config.weight_decay, config.momentum)
    if config.optimizer == "adam":
        return Adam(params, config.lr, config.weight_decay)
    if config.optimizer == "rmsprop":
        return RMSprop(params, config.lr, config.weight_decay)
    return Optimizer(params, config.lr, config.weight_decay)


def torch_optimizer(config: Config, model: nn.Module) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer our hand-written ones reproduce (for tests and code export)."""
    params, lr, wd = model.parameters(), config.lr, config.weight_decay
    if config.optimizer == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, weight_decay=wd)
