"""Training without autograd: closed-form gradients, the same float ops as autograd.

For a tiny MLP, autograd's graph building and ``torch.optim``'s bookkeeping cost
far more than the arithmetic.  Here forward and backward call the very aten
kernels autograd would (``addmm``, ``mm``, ``threshold_backward``,
``mse_loss_backward``, ...) in the same order, and the optimizers apply the same
updates as ``torch.optim``'s single-tensor code paths.  So the losses are not
just close to the notebook's: they are bit-for-bit the same, several times faster.
The tests check every activation × optimizer against autograd + ``torch.optim``.

What is left of the cost is Python calling into torch, so an epoch is a fixed
list of kernel calls on preallocated buffers (``out=`` everywhere, transposes
made once), the parameters live in one flat buffer (one optimizer call updates
them all), and the loss of every epoch is computed afterwards, for a whole block
of epochs at once, from the stored predictions: a row-wise mean over one
contiguous block sums in the same order as the per-epoch ``mse_loss``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import torch
import torch.nn as nn

from quadtui.core.config import Config
from quadtui.core.model import ACTIVATIONS, BackwardOut, ForwardOut, linear_layers
from quadtui.core.optim import make_optimizer

Tensor = torch.Tensor
_aten = torch.ops.aten
_nn = torch._C._nn
_MEAN, _NONE = 1, 0  # at::Reduction

#: float32 elements per 64 bytes: every buffer starts where torch's allocator would put it
_ALIGN = 16
#: epochs whose predictions are kept for one block of deferred losses
_BLOCK_ROWS = 256
#: beyond this many samples torch may split a sum across threads: then losses are taken one by one
ROWWISE_MAX = 8192


def _out_kernels(name: str) -> tuple[ForwardOut, BackwardOut] | None:
    """An activation's out= kernels (see ``model.Activation``); None for the identity."""
    act = ACTIVATIONS[name]
    if act.forward_out is None or act.backward_out is None:
        return None
    return act.forward_out, act.backward_out


def _padded(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _flat_views(shapes: Sequence[torch.Size]) -> tuple[Tensor, list[Tensor]]:
    """One zeroed buffer, and a 64-byte-aligned view of it for each shape."""
    sizes = [_padded(torch.Size(s).numel()) for s in shapes]
    flat = torch.zeros(sum(sizes))
    views, start = [], 0
    for shape, size in zip(shapes, sizes):
        views.append(flat[start : start + torch.Size(shape).numel()].view(shape))
        start += size
    return flat, views


def _row_block(rows: int, n: int) -> tuple[Tensor, list[Tensor]]:
    """A (rows, n) buffer with aligned rows, and each row as an (n, 1) column."""
    block = torch.empty(rows, _padded(n))[:, :n]
    return block, list(block.unsqueeze(2).unbind(0))


def mean_squared_rows(pred: Tensor, y: Tensor, out: Tensor) -> None:
    """out[i] = mse_loss(pred[i], y): the per-epoch loss, summed in the same order as mse_loss."""
    if pred.shape[1] > ROWWISE_MAX and pred.shape[0] > 1:  # one at a time, as mse_loss would split it
        for i in range(pred.shape[0]):
            mean_squared_rows(pred[i : i + 1], y, out[i : i + 1])
        return
    sq = _nn.mse_loss(pred, y.reshape(1, -1).expand_as(pred), _NONE)  # type: ignore[arg-type]  # stubs: a str; C takes the enum
    torch.sum(sq, 1, out=out)
    out.div_(pred.shape[1])


class _Workspace:
    """Buffers and the fixed kernel calls of one training step, for batches of ``n`` samples."""

    def __init__(self, net: FastMLP, n: int) -> None:
        ws, kernels = net.weights, net.kernels
        widths = [w.shape[0] for w in ws[:-1]]
        self.x = torch.empty(n, ws[0].shape[1])
        self.y = torch.empty(n, 1)
        self.z = [torch.empty(n, h) for h in widths]
        self.h = [torch.empty(n, h) for h in widths] if kernels else self.z
        self.grad_h = [torch.empty(n, h) for h in widths]  # d loss / d h_i
        self.grad_z = [torch.empty(n, h) for h in widths] if kernels else self.grad_h
        self.grad_y = torch.empty(n, 1)
        self.block_rows = min(_BLOCK_ROWS, max(1, (1 << 20) // (4 * _padded(n))))  # at most 1 MB
        self.block, self.rows = _row_block(self.block_rows, n)

        # forward through the hidden layers, then (per epoch, into a fresh row) the output layer
        self.forward: list[Callable[[], object]] = []
        inputs = [self.x] + self.h
        for i, (w_t, b) in enumerate(zip(net.weights_t[:-1], net.biases[:-1])):
            self.forward.append(partial(torch.addmm, b, inputs[i], w_t, out=self.z[i]))
            if kernels:
                self.forward.append(partial(kernels[0], self.z[i], self.h[i]))
        self.last_h = inputs[-1]
        # backward from grad_y, layer by layer, into the flat gradient buffer
        self.backward: list[Callable[[], object]] = []
        grad_out = [self.grad_y] + self.grad_z[::-1]
        for k, i in enumerate(range(len(ws) - 1, -1, -1)):
            g = grad_out[k]
            self.backward.append(partial(torch.mm, g.t(), inputs[i], out=net.grad_w[i]))
            self.backward.append(partial(torch.sum, g, 0, out=net.grad_b[i]))
            if i:
                self.backward.append(partial(torch.mm, g, ws[i], out=self.grad_h[i - 1]))
                if kernels:
                    args = (self.grad_h[i - 1], self.z[i - 1], self.h[i - 1], self.grad_z[i - 1])
                    self.backward.append(partial(kernels[1], *args))


class FastMLP:
    """The parameters of an ``nn.Sequential`` MLP, trained with closed-form gradients."""

    def __init__(self, config: Config, model: nn.Sequential) -> None:
        linears = linear_layers(model)
        shapes = [t.shape for m in linears for t in (m.weight, m.bias)]
        self.flat, self.params = _flat_views(shapes)
        for view, source in zip(self.params, (t for m in linears for t in (m.weight, m.bias))):
            view.copy_(source.detach())
        self.weights, self.biases = self.params[0::2], self.params[1::2]
        self.weights_t = [w.t() for w in self.weights]
        self.grad_flat, grads = _flat_views(shapes)
        self.grad_w, self.grad_b = grads[0::2], grads[1::2]
        self.act = ACTIVATIONS[config.activation]
        self.kernels = _out_kernels(config.activation)
        self.optimizer = make_optimizer(config, [self.flat])
        self._grads = [self.grad_flat]
        self._workspaces: dict[tuple[str, int], _Workspace] = {}

    def _workspace(self, role: str, n: int) -> _Workspace:
        ws = self._workspaces.get((role, n))
        if ws is None:
            ws = self._workspaces[role, n] = _Workspace(self, n)
        return ws

    # -- forward ---------------------------------------------------------------
    def hidden(self, x: Tensor) -> list[tuple[Tensor, Tensor]]:
        """(pre-activation, activation) of every hidden layer for inputs ``x``."""
        out = []
        h = x
        for w_t, b in zip(self.weights_t[:-1], self.biases[:-1]):
            z = torch.addmm(b, h, w_t)
            h = self.act.forward(z)
            out.append((z, h))
        return out

    def predict(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(predictions, last hidden layer's activations) for inputs ``x``."""
        with torch.inference_mode():
            h = self.hidden(x)[-1][1]
            return torch.addmm(self.biases[-1], h, self.weights_t[-1]), h

    def predict_layers(self, x: Tensor) -> tuple[Tensor, tuple[np.ndarray, ...]]:
        """(predictions, every hidden layer's activations as float64 arrays) for inputs ``x``:
        the same float ops as :meth:`predict`."""
        with torch.inference_mode():
            layers = self.hidden(x)
            pred = torch.addmm(self.biases[-1], layers[-1][1], self.weights_t[-1])
            return pred, tuple(h.double().numpy() for _, h in layers)

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The mean squared error on ``(x, y)`` (no update)."""
        with torch.inference_mode():
            return _nn.mse_loss(self.predict(x)[0], y, _MEAN)  # type: ignore[arg-type]  # stubs: a str; C takes the enum

    # -- training ----------------------------------------------------------------------
    def step(self, x: Tensor, y: Tensor) -> Tensor:
        """One forward/backward/update on the batch ``(x, y)``; returns the loss before the update."""
        with torch.inference_mode():
            ws = self._workspace("train", x.shape[0])
            ws.x.copy_(x)
            ws.y.copy_(y)
            self._epoch(ws, ws.rows[0])
            loss = torch.empty(1)
            mean_squared_rows(ws.block[:1], ws.y, loss)
            return loss[0]

    def fit(
        self,
        x: Tensor,
        y: Tensor,
        losses: Tensor,
        probe: tuple[Tensor, Tensor, Sequence[int], Tensor] | None = None,
        keep: tuple[Sequence[int], Callable[[int], object]] | None = None,
    ) -> None:
        """``len(losses)`` full-batch epochs on ``(x, y)``; each epoch's loss (before its update) into ``losses``.

        ``probe = (x2, y2, at, out)`` also measures the loss on ``(x2, y2)`` before the
        epochs whose index (0-based, within this call) is in the ascending ``at``, into ``out``.
        ``keep = (at, store)`` calls ``store(i)`` before the update of the epochs whose index is in the
        ascending ``at`` (the timeline copies the parameters then).
        Equal, loss for loss, to calling :meth:`step` ``len(losses)`` times.
        """
        with torch.inference_mode():
            ws = self._workspace("train", x.shape[0])
            ws.x.copy_(x)
            ws.y.copy_(y)
            if probe is not None:
                px, py, at, probe_out = probe
                pws = self._workspace("probe", px.shape[0])
                pws.x.copy_(px)
                pblock, prows = _row_block(len(at), px.shape[0])
                targets = iter(zip(at, prows))
            total, done = losses.shape[0], 0
            next_probe, probe_row = next(targets, (-1, None)) if probe is not None else (-1, None)
            keeps, store = (iter(keep[0]), keep[1]) if keep is not None else (iter(()), None)
            next_keep = next(keeps, -1)
            while done < total:
                k = min(ws.block_rows, total - done)
                for i, row in zip(range(done, done + k), ws.rows):
                    if i == next_probe:
                        assert probe_row is not None  # a probe's row comes with its epoch
                        self._forward(pws, probe_row)
                        next_probe, probe_row = next(targets, (-1, None))
                    if i == next_keep:
                        store(i)  # type: ignore[misc]
                        next_keep = next(keeps, -1)
                    self._epoch(ws, row)
                mean_squared_rows(ws.block[:k], ws.y, losses[done : done + k])
                done += k
            if probe is not None:
                mean_squared_rows(pblock, py, probe_out)

    def _forward(self, ws: _Workspace, out: Tensor) -> None:
        for call in ws.forward:
            call()
        torch.addmm(self.biases[-1], ws.last_h, self.weights_t[-1], out=out)

    def _epoch(self, ws: _Workspace, y_hat: Tensor) -> None:
        """Forward into ``y_hat``, backward into ``grad_flat``, update (within inference mode)."""
        for call in ws.forward:
            call()
        torch.addmm(self.biases[-1], ws.last_h, self.weights_t[-1], out=y_hat)
        _aten.mse_loss_backward.grad_input(_ONE, y_hat, ws.y, _MEAN, grad_input=ws.grad_y)
        for call in ws.backward:
            call()
        self.optimizer.step(self._grads)

    # -- state, for rollback after divergence -----------------------------------------
    def save(self) -> tuple[list[Tensor], int]:
        return [t.clone() for t in [self.flat] + self.optimizer.state()], self.optimizer.steps

    def restore(self, saved: tuple[list[Tensor], int]) -> None:
        tensors, steps = saved
        for dst, src in zip([self.flat] + self.optimizer.state(), tensors):
            dst.copy_(src)
        self.optimizer.steps = steps

    def all_finite(self) -> bool:
        return bool(torch.isfinite(self.flat).all())

    def load_into(self, model: nn.Sequential) -> nn.Sequential:
        with torch.no_grad():
            for m, w, b in zip(linear_layers(model), self.weights, self.biases):
                m.weight.copy_(w)
                m.bias.copy_(b)
        return model


_ONE = torch.ones(())
