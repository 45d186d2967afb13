"""The network: an ``nn.Sequential`` built exactly as the notebook builds it.

The engine trains the same parameters without autograd (see ``fastmlp``), so
each activation comes with the backward op autograd itself would call; that
keeps every float operation, and so every loss, identical to the notebook's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from quadtui.core.config import Config, built_once

Tensor = torch.Tensor
_aten = torch.ops.aten
_SEED_LOCK = threading.Lock()


ForwardOut = Callable[[Tensor, Tensor], object]
BackwardOut = Callable[[Tensor, Tensor, Tensor, Tensor], object]


@dataclass(frozen=True)
class Activation:
    """One activation, with the very kernels autograd runs for it, in two forms."""

    name: str
    module: Callable[[], nn.Module]
    forward: Callable[[Tensor], Tensor]
    #: (grad of output, pre-activation, output) -> grad of pre-activation
    backward: Callable[[Tensor, Tensor, Tensor], Tensor]
    #: how the activation is written in generated code
    code: str
    #: the same kernels writing into buffers: forward(z, out=h); backward(grad_h, z, h, out=grad_z).
    #: None for the identity (nothing to compute).
    forward_out: ForwardOut | None
    backward_out: BackwardOut | None


_nn = torch._C._nn

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(  # relu is clamp_min(z, 0) inside aten
            "relu",
            nn.ReLU,
            torch.relu,
            lambda g, z, h: _aten.threshold_backward(g, h, 0),
            "nn.ReLU()",
            lambda z, h: torch.clamp_min(z, 0, out=h),
            lambda g, z, h, o: _aten.threshold_backward.grad_input(g, h, 0, grad_input=o),
        ),
        Activation(
            "tanh",
            nn.Tanh,
            torch.tanh,
            lambda g, z, h: _aten.tanh_backward(g, h),
            "nn.Tanh()",
            lambda z, h: torch.tanh(z, out=h),
            lambda g, z, h, o: _aten.tanh_backward.grad_input(g, h, grad_input=o),
        ),
        Activation(
            "sigmoid",
            nn.Sigmoid,
            torch.sigmoid,
            lambda g, z, h: _aten.sigmoid_backward(g, h),
            "nn.Sigmoid()",
            lambda z, h: torch.sigmoid(z, out=h),
            lambda g, z, h, o: _aten.sigmoid_backward.grad_input(g, h, grad_input=o),
        ),
        Activation(
            "leaky_relu",
            nn.LeakyReLU,
            F.leaky_relu,
            lambda g, z, h: _aten.leaky_relu_backward(g, z, 0.01, False),
            "nn.LeakyReLU()",
            lambda z, h: _nn.leaky_relu(z, 0.01, out=h),
            lambda g, z, h, o: _aten.leaky_relu_backward.grad_input(g, z, 0.01, False, grad_input=o),
        ),
        Activation(
            "elu",
            nn.ELU,
            F.elu,
            lambda g, z, h: _aten.elu_backward(g, 1.0, 1, 1, False, z),
            "nn.ELU()",
            lambda z, h: _nn.elu(z, 1.0, 1, 1, out=h),  # type: ignore[call-arg]  # torch's stubs lack out=
            lambda g, z, h, o: _aten.elu_backward.grad_input(g, 1.0, 1, 1, False, z, grad_input=o),
        ),
        Activation(
            "gelu",
            nn.GELU,
            F.gelu,
            lambda g, z, h: _aten.gelu_backward(g, z),
            "nn.GELU()",
            lambda z, h: _nn.gelu(z, out=h),  # type: ignore[call-arg]  # torch's stubs lack out=
            lambda g, z, h, o: _aten.gelu_backward.grad_input(g, z, grad_input=o),
        ),
        Activation(
            "silu",
            nn.SiLU,
            F.silu,
            lambda g, z, h: _aten.silu_backward(g, z),
            "nn.SiLU()",
            lambda z, h: _nn.silu(z, out=h),  # type: ignore[call-arg]  # torch's stubs lack out=
            lambda g, z, h, o: _aten.silu_backward.grad_input(g, z, grad_input=o),
        ),
        Activation(
            "softplus",
            nn.Softplus,
            F.softplus,
            lambda g, z, h: _aten.softplus_backward(g, z, 1, 20),
            "nn.Softplus()",
            lambda z, h: _nn.softplus(z, 1, 20, out=h),  # type: ignore[call-arg]  # torch's stubs lack out=
            lambda g, z, h, o: _aten.softplus_backward.grad_input(g, z, 1, 20, grad_input=o),
        ),
        Activation("identity", nn.Identity, lambda z: z, lambda g, z, h: g, "nn.Identity()", None, None),
    )
}


def build_model(config: Config) -> nn.Sequential:
    """``nn.Sequential(Linear, act, [Linear, act]..., Linear)`` initialised from ``config.seed``.

    Like the notebook, the weights come from the CPU generator seeded with ``seed``
    (what ``torch.manual_seed(seed)`` seeds) followed directly by the layer
    constructors.  The generator is forked so that building a model never disturbs
    anyone else's random state.
    """
    act = ACTIVATIONS[config.activation]
    with _SEED_LOCK, torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(config.seed)  # not torch.manual_seed: no GPU seeding (0.4 ms)
        layers: list[nn.Module] = [nn.Linear(1, config.hidden), act.module()]
        for _ in range(config.layers - 1):
            layers += [nn.Linear(config.hidden, config.hidden), act.module()]
        layers.append(nn.Linear(config.hidden, 1))
        return nn.Sequential(*layers)


def build_models(configs: Sequence[Config]) -> list[nn.Sequential]:
    """``build_model`` of each config, built once for configs with the same initial weights (shared: read only)."""
    return built_once(configs, _model_key, build_model)


def _model_key(config: Config) -> tuple[object, ...]:
    """Every field :func:`build_model` reads."""
    return (config.seed, config.hidden, config.layers, config.activation)


def linear_layers(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]
