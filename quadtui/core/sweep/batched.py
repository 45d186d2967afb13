"""K MLPs trained as one: stacked, zero-padded weights and batched closed-form gradients.

Member ``k`` of a :class:`BatchedMLP` is the single run of ``configs[k]``: its
initial weights come from :func:`build_model` (so they are the single run's),
and every step performs the single run's float operations on its slice:

* the hidden layers are padded to the widest member; a padded unit has zero
  incoming and outgoing weights, and its weight gradients are masked to zero, so
  it contributes exactly nothing and stays exactly zero;
* matrix products and reductions go through :class:`ExactOp`, probed at build
  time against the single-run ops (members whose bits differ are computed alone);
* optimizer updates are elementwise with per-member hyperparameters as tensors,
  written with the same fused operations the single run uses (``addcmul`` is the
  fused ``add(alpha=)``).

Members differ only in values (lr, hidden, momentum, weight decay, seed, data...).
Layer count, activation, optimizer kind and sample count must be equal (``group_key``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from quadtui.core.config import Config
from quadtui.core.data import Dataset
from quadtui.core.model import ACTIVATIONS, build_models, linear_layers
from quadtui.core.sweep.exact import ExactOp, bmm_each
from quadtui.core.sweep.optim import BatchedOptimizer

Tensor = torch.Tensor
_aten = torch.ops.aten
_ONE = torch.ones(())
_MEAN = 1


#: activations computed exactly (max, compare, one multiply): the same bits in a vectorized
#: loop and in its scalar tail.  The others (exp, log1p, erf, tanh...) use SLEEF in the vector
#: loop and libm in the tail, so a member's unit can round differently in a batch than alone.
#: (Giving each member its own loop fixed sigmoid and softplus in our tests, but not gelu.)
#: So :func:`group_key` keeps members with these activations out of batches (``sweep.wide``
#: batches them when neither the single runs nor the batch have a tail: ``whole_vectors``).
EXACT_ACTIVATIONS = frozenset({"relu", "leaky_relu", "identity"})


def group_key(config: Config) -> tuple[object, ...] | None:
    """Configs with equal keys can train as one batch; ``None``: train alone (single-run engine)."""
    if not config.full_batch or config.activation not in EXACT_ACTIVATIONS:
        return None
    if config.samples % 4:  # MKL's small products over such row counts are not always the single run's
        return None
    return (config.layers, config.activation, config.optimizer, config.samples)


class BatchedMLP:
    def __init__(self, configs: Sequence[Config], datasets: Sequence[Dataset]) -> None:
        keys = {group_key(c) for c in configs}
        if len(keys) != 1 or None in keys:
            raise ValueError("BatchedMLP needs configs with one group_key (full batch, exact activation)")
        self.configs = list(configs)
        k_count = len(configs)
        first = configs[0]
        self.widths = [c.hidden for c in configs]
        width = max(self.widths)
        self.act = ACTIVATIONS[first.activation]
        self.samples = first.samples
        self.x = _stack_data([d.x_train for d in datasets])
        self.y = _stack_data([d.y_train for d in datasets])

        # -- weights: the single runs' initial weights, zero-padded ----------------------
        n_layers = first.layers + 1
        shapes = [(width, 1)] + [(width, width)] * (first.layers - 1) + [(1, width)]
        self.weights = [torch.zeros(k_count, *s) for s in shapes]
        self.biases = [torch.zeros(k_count, s[0]) for s in shapes]
        self.masks = [torch.zeros(k_count, *s) for s in shapes]
        self.models = build_models(configs)  # the single runs' initial weights (read only)
        for k in range(k_count):
            for i, layer in enumerate(linear_layers(self.models[k])):
                out_f, in_f = layer.weight.shape
                self.weights[i][k, :out_f, :in_f] = layer.weight.detach()
                self.biases[i][k, :out_f] = layer.bias.detach()
                self.masks[i][k, :out_f, :in_f] = 1
        self.padded = any(w < width for w in self.widths)
        self.params = [t for pair in zip(self.weights, self.biases) for t in pair]
        self.optimizer = BatchedOptimizer(configs, self.params)
        self.n_layers = n_layers
        self._probe()

    # -- exact ops -------------------------------------------------------------------------
    def _probe(self) -> None:
        h0 = float(self.act.forward(torch.zeros(())))  # what a padded unit outputs
        ops = {
            "fwd_in": ExactOp(
                "fwd_in",
                lambda b, x, w: torch.addmm(b, x, w.t()),
                # one input: the product is exact, then one rounded add, as addmm's GEMM does
                lambda b, x, w: torch.mul(x, w.transpose(1, 2)).add_(b.unsqueeze(1)),
                ("H", "N1", "H1"),
                "NH",
            ),
            "fwd_hid": ExactOp(
                "fwd_hid",
                lambda b, h, w: torch.addmm(b, h, w.t()),
                lambda b, h, w: bmm_each(h, w.transpose(1, 2)).add_(b.unsqueeze(1)),
                ("H", "NH", "HH"),
                "NH",
                fills=(0.0, h0, 0.0),
            ),
            "fwd_out": ExactOp(
                "fwd_out",
                lambda b, h, w: torch.addmm(b, h, w.t()),
                # a fresh, dense result: the loss reduces it like the single run's (N, 1) tensor
                lambda b, h, w: torch.add(bmm_each(h, w.transpose(1, 2)), b.unsqueeze(1)),
                ("1", "NH", "1H"),
                "N1",
                fills=(0.0, h0, 0.0),
            ),
            "loss": ExactOp("loss", F.mse_loss, lambda a, b: (a - b).square_().mean((1, 2)), ("N1", "N1"), ""),
            "dloss": ExactOp(
                "dloss",
                lambda a, b: _aten.mse_loss_backward(_ONE, a, b, _MEAN),
                lambda a, b: (a - b).mul_(2.0 / self.samples),
                ("N1", "N1"),
                "N1",
            ),
            "gw_out": ExactOp("gw_out", _gw, _gw_b, ("N1", "NH"), "1H", fills=(0.0, h0)),
            "gw_hid": ExactOp("gw_hid", _gw, _gw_b, ("NH", "NH"), "HH", fills=(0.0, h0)),
            "gw_in": ExactOp("gw_in", _gw, _gw_b, ("NH", "N1"), "H1"),
            "gb_out": ExactOp("gb_out", lambda g: g.sum(0), lambda g: g.sum(1), ("N1",), "1"),
            "gb_hid": ExactOp("gb_hid", lambda g: g.sum(0), lambda g: g.sum(1), ("NH",), "H"),
            "gh_out": ExactOp("gh_out", lambda g, w: g.mm(w), torch.mul, ("N1", "1H"), "NH"),
            "gh_hid": ExactOp("gh_hid", lambda g, w: g.mm(w), lambda g, w: bmm_each(g, w), ("NH", "HH"), "NH"),
        }
        if self.n_layers == 2:
            del ops["fwd_hid"], ops["gw_hid"], ops["gh_hid"]
        gen = torch.Generator().manual_seed(0)
        self.ops = ops
        self.fallbacks = {name: op.probe(self.widths, self.samples, gen) for name, op in ops.items()}

    # -- one step ------------------------------------------------------------------------------
    def forward(self, x: Tensor) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
        ops, act = self.ops, self.act
        layers = []
        z = ops["fwd_in"](self.biases[0], x, self.weights[0])
        h = act.forward(z)
        layers.append((z, h))
        for w, b in zip(self.weights[1:-1], self.biases[1:-1]):
            z = ops["fwd_hid"](b, h, w)
            h = act.forward(z)
            layers.append((z, h))
        return ops["fwd_out"](self.biases[-1], h, self.weights[-1]), layers

    def step(self) -> Tensor:
        """One full-batch step for every member; returns the (K,) losses before the update."""
        ops = self.ops
        x, y = self.x, self.y
        y_hat, layers = self.forward(x)
        loss = ops["loss"](y_hat, y)
        g = ops["dloss"](y_hat, y)
        n = self.n_layers
        grad_w: list[Tensor] = [g] * n
        grad_b: list[Tensor] = [g] * n
        for i in range(n - 1, -1, -1):
            last, first = i == n - 1, i == 0
            inp = x if first else layers[i - 1][1]
            gw = ops["gw_in" if first else ("gw_out" if last else "gw_hid")](g, inp)
            if not first and self.padded:
                gw.mul_(self.masks[i])  # padded units feed act(0) forward: keep their weights at zero
            grad_w[i] = gw
            grad_b[i] = ops["gb_out" if last else "gb_hid"](g)
            if not first:
                gh = ops["gh_out" if last else "gh_hid"](g, self.weights[i])
                g = self._act_backward(gh, *layers[i - 1])
        self.optimizer.step([t for pair in zip(grad_w, grad_b) for t in pair])
        return loss

    def fit(self, n: int) -> Tensor:
        """``n`` steps; (n, K) losses, each before its step's update."""
        with torch.inference_mode():
            return torch.stack([self.step() for _ in range(n)])

    def _act_backward(self, g: Tensor, z: Tensor, h: Tensor) -> Tensor:
        if self.act.name == "relu":
            # threshold_backward is a scalar loop; sign(relu(z)) is the same 0/1 mask, vectorized.
            # g * 1 is g and g * 0 is a zero, so the values are threshold_backward's.
            return g.mul_(torch.sign(h))
        return self.act.backward(g, z, h)

    # -- members -----------------------------------------------------------------------------------
    def member_params(self, k: int) -> list[Tensor]:
        """Member ``k``'s unpadded weights and biases (copies), in ``nn.Linear`` order."""
        out = []
        width = self.widths[k]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            rows = 1 if i == last else width
            cols = 1 if i == 0 else width
            out += [w[k, :rows, :cols].clone(), b[k, :rows].clone()]
        return out

    def finite(self) -> Tensor:
        """(K,) bool: every parameter of the member is finite."""
        ok = torch.ones(len(self.configs), dtype=torch.bool)
        for p in self.params:
            ok &= torch.isfinite(p).flatten(1).all(1)
        return ok

    def freeze(self, k: int) -> None:
        """Stop member ``k`` for good: zero learning rate, clean (finite) state."""
        self.optimizer.freeze(k)


def _gw(g: Tensor, inp: Tensor) -> Tensor:
    return g.t().mm(inp)


def _gw_b(g: Tensor, inp: Tensor) -> Tensor:
    return torch.bmm(g.transpose(1, 2), inp)


def _stack_data(columns: Sequence[Tensor]) -> Tensor:
    first = columns[0]
    if all(c is first or torch.equal(c, first) for c in columns):
        return first.unsqueeze(0).expand(len(columns), *first.shape)
    return torch.stack(list(columns))
