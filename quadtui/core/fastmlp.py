"""Training without autograd: closed-form gradients, the same float ops as autograd.

For a tiny MLP, autograd's graph building and ``torch.optim``'s bookkeeping cost
far more than the arithmetic.  Here forward and backward call the very aten
kernels autograd would (``addmm``, ``mm``, ``threshold_backward``,
``mse_loss_backward``, ...) in the same order, and the optimizers apply the same
updates as ``torch.optim``'s single-tensor code paths.  So the losses are not
just close to the notebook's: they are bit-for-bit the same, several times faster.
The tests check every activation × optimizer against autograd + ``torch.optim``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from quadtui.core.config import Config
from quadtui.core.model import ACTIVATIONS, linear_layers

Tensor = torch.Tensor
_aten = torch.ops.aten
_MEAN = 1  # at::Reduction::Mean

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
RMSPROP_ALPHA = 0.99
RMSPROP_EPS = 1e-8


class Optimizer:
    """Plain SGD (also the base class)."""

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

    def step(self, grads: list[Tensor]) -> None:
        self.steps += 1
        beta1, beta2 = ADAM_BETAS
        step_size = self.lr / (1 - beta1**self.steps)
        correction2_sqrt = (1 - beta2**self.steps) ** 0.5
        for p, g, m, v in zip(self.params, self._decayed(grads), self.exp_avg, self.exp_avg_sq):
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / correction2_sqrt).add_(ADAM_EPS)
            p.addcdiv_(m, denom, value=-step_size)

    def state(self) -> list[Tensor]:
        return self.exp_avg + self.exp_avg_sq


class RMSprop(Optimizer):
    def __init__(self, params: list[Tensor], lr: float, weight_decay: float) -> None:
        super().__init__(params, lr, weight_decay)
        self.square_avg = [torch.zeros_like(p) for p in params]

    def step(self, grads: list[Tensor]) -> None:
        self.steps += 1
        for p, g, sq in zip(self.params, self._decayed(grads), self.square_avg):
            sq.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            p.addcdiv_(g, sq.sqrt().add_(RMSPROP_EPS), value=-self.lr)

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


class FastMLP:
    """The parameters of an ``nn.Sequential`` MLP, trained with closed-form gradients."""

    def __init__(self, config: Config, model: nn.Sequential) -> None:
        linears = linear_layers(model)
        self.weights = [m.weight.detach().clone() for m in linears]
        self.biases = [m.bias.detach().clone() for m in linears]
        self.params = [t for pair in zip(self.weights, self.biases) for t in pair]
        self.act = ACTIVATIONS[config.activation]
        self.optimizer = make_optimizer(config, self.params)

    # -- forward ---------------------------------------------------------------
    def hidden(self, x: Tensor) -> list[tuple[Tensor, Tensor]]:
        """(pre-activation, activation) of every hidden layer for inputs ``x``."""
        out = []
        h = x
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            z = torch.addmm(b, h, w.t())
            h = self.act.forward(z)
            out.append((z, h))
        return out

    def predict(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(predictions, last hidden layer's activations) for inputs ``x``."""
        with torch.inference_mode():
            layers = self.hidden(x)
            h = layers[-1][1]
            return torch.addmm(self.biases[-1], h, self.weights[-1].t()), h

    # -- one optimisation step -----------------------------------------------------
    def step(self, x: Tensor, y: Tensor) -> Tensor:
        """One forward/backward/update on the batch ``(x, y)``; returns the loss before the update."""
        weights, biases = self.weights, self.biases
        layers = self.hidden(x)
        h = layers[-1][1]
        y_hat = torch.addmm(biases[-1], h, weights[-1].t())
        loss = F.mse_loss(y_hat, y)
        g = _aten.mse_loss_backward(_ONE, y_hat, y, _MEAN)
        n = len(weights)
        grad_w: list[Tensor] = [g] * n
        grad_b: list[Tensor] = [g] * n
        for i in range(n - 1, -1, -1):
            inp = layers[i - 1][1] if i else x
            grad_w[i] = g.t().mm(inp)
            grad_b[i] = g.sum(0)
            if i:
                g = self.act.backward(g.mm(weights[i]), *layers[i - 1])
        grads = [t for pair in zip(grad_w, grad_b) for t in pair]
        self.optimizer.step(grads)
        return loss

    # -- state, for rollback after divergence -----------------------------------------
    def save(self) -> tuple[list[Tensor], int]:
        return [t.clone() for t in self.params + self.optimizer.state()], self.optimizer.steps

    def restore(self, saved: tuple[list[Tensor], int]) -> None:
        tensors, steps = saved
        for dst, src in zip(self.params + self.optimizer.state(), tensors):
            dst.copy_(src)
        self.optimizer.steps = steps

    def all_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.params)

    def load_into(self, model: nn.Sequential) -> nn.Sequential:
        with torch.no_grad():
            for m, w, b in zip(linear_layers(model), self.weights, self.biases):
                m.weight.copy_(w)
                m.bias.copy_(b)
        return model


_ONE = torch.ones(())
