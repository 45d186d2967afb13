"""K one-hidden-layer MLPs as one wide model, every float operation the single run's.

The single run (``fastmlp``) spends its step in three MKL products and two torch
sums.  We measured what each computes (tests/test_sweep.py checks it again):

* ``h @ w_out`` (samples × H @ H × 1) rounds every product ``h_j * w_j`` and adds
  them in a fixed order that depends only on H — so ``(h * w_out) @ ones(H, 1)``
  computes the same sums, and does so for any number of rows: all K members'
  samples stacked as rows of one matrix.
* ``g.T @ h`` and ``gz.T @ x`` (contractions over the samples) likewise equal
  ``ones(1, N) @ (g * h)`` and ``(gz * x).T @ ones(N, 1)`` for any number of
  columns — and ``gz.T @ x`` itself for a shared ``x``.  ``bmm`` of each member's
  ``g.T`` with its (strided) block of ``h`` computes the same sums for some widths
  (4 or fewer, multiples of 4 here): checked when a model is built, and used then.
* ``sum(g, 0)`` over an (N, H) block sums each column in an order set by H; a
  strided output of that same shape keeps torch from merging the K members'
  columns into one long row, which would change the order.

So hidden tensors are stored ``(samples, K, W)``: member ``k``'s units side by
side, no gap between members (MKL sums a row in another order when the row
stride differs from its length by other than a multiple of 4), and every step
is one kernel call per op for all members.  Members of different
widths share a batch: each member's units sit in the columns whose place in the
output product's summation order is the place they have in the single run's
(see :func:`~quadtui.core.sweep.layout.unit_slots`); the other columns hold dead units that add exact zeros.
Only the bias gradient's column sum has an order that a block's width sets in
another way (1, 4 to 7, or more columns): members on another side of those lines
than the storage width sum theirs again from a block of their own shape.

The activation is computed elementwise by the single run's own kernels: exact
for ReLU, leaky ReLU and the identity; for the smooth ones (exp, tanh, erf...)
exact when every unit is computed in torch's vector loop, alone and in the batch
(:func:`~quadtui.core.sweep.layout.whole_vectors`).  Units no member has keep a zero learning rate.

Mini-batch members share their shuffles (one seed): each step gathers the same
samples for all of them, with a closure for each step size.  Every step's sample
count must be a multiple of 4 — the single run's output product sums its last
rows in another order otherwise (``sweep.layout.wide_key`` sends those runs elsewhere).

A build-time probe replays a step of random weights (of widely spread magnitudes)
through the batched ops and through the single-run ops for each step size; a member
whose bits differ anywhere (errors, gradients or updated weights) is refused
(``inexact``) and trained alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import torch

from quadtui.core.config import Config
from quadtui.core.data import Dataset
from quadtui.core.fastmlp import ROWWISE_MAX, mean_squared_rows
from quadtui.core.model import ACTIVATIONS, build_models
from quadtui.core.shuffle import EpochShuffle
from quadtui.core.sweep.batched import EXACT_ACTIVATIONS
from quadtui.core.sweep.exact import spread
from quadtui.core.sweep.layout import (
    PROBE_TRIALS,
    bmm_sums_exactly,
    step_sizes,
    storage_width,
    unit_slots,
    whole_vectors,
)
from quadtui.core.sweep.optim import BatchedOptimizer

Tensor = torch.Tensor
_aten = torch.ops.aten
_nn = torch._C._nn
BLOCK_EPOCHS = 256


def _raw(op: torch._ops.OpOverload) -> Callable[..., Any]:
    """The operator's C++ entry itself, without the Python wrapper (0.3-0.4 µs a call)."""
    return getattr(op, "_op", op)


class WideMLP:
    """K configs with one :func:`~quadtui.core.sweep.layout.wide_key`, trained as one."""

    def __init__(self, configs: Sequence[Config], datasets: Sequence[Dataset]) -> None:
        self.configs = list(configs)
        K = self.k_count = len(configs)
        first = configs[0]
        N = self.samples = first.samples
        self.activation = first.activation
        self.widths = [c.hidden for c in configs]
        W = self.width = storage_width(self.widths)
        self.slots = [_slots(h, W) for h in self.widths]

        xs = [d.x_train for d in datasets]
        ys = [d.y_train for d in datasets]
        self.shared_x = all(torch.equal(x, xs[0]) for x in xs)
        self.shared_y = all(torch.equal(y, ys[0]) for y in ys)
        self.x = xs[0].clone() if self.shared_x else torch.stack([x.reshape(N) for x in xs], 1).unsqueeze(2)
        self.y_rows = ys[0].reshape(1, N).clone() if self.shared_y else torch.stack([y.reshape(N) for y in ys])

        # -- parameters: one flat buffer [w_in | b_in | w_out | b_out], each (K, W) but b_out (K,)
        seg = K * W
        self.models = build_models(configs)  # the single runs' initial weights (read only)
        self.flat = torch.zeros(3 * seg + K)
        self.grad = torch.zeros_like(self.flat)
        views = self._views(self.flat)
        self.w_in, self.b_in, self.w_out, self.b_out = views
        # member k's parameters in nn.Linear order [w_in | b_in | w_out | b_out]: self.flat[self.places[k]]
        self.places = [
            torch.tensor([i * seg + k * W + c for i in range(3) for c in self.slots[k]] + [3 * seg + k])
            for k in range(K)
        ]
        for k, model in enumerate(self.models):
            self.flat[self.places[k]] = torch.cat([t.detach().reshape(-1) for t in model.parameters()])
        owner = torch.arange(K)
        owners = torch.cat([owner.repeat_interleave(W)] * 3 + [owner])
        self.owner = owners
        self.optimizer = BatchedOptimizer(configs, [self.flat], [owners])
        # units no member has stay zero: with act(0) != 0 (sigmoid, softplus) their output weight has a gradient
        dead = torch.ones_like(self.flat, dtype=torch.bool)
        dead[torch.cat(self.places)] = False
        for rate in self.optimizer.rates:
            rate.masked_fill_(dead, 0.0)

        # -- workspace ----------------------------------------------------------------------------------
        self.block = torch.empty(BLOCK_EPOCHS, K, N)  # each epoch's errors y_hat - y, member by member
        self.squares = torch.empty(BLOCK_EPOCHS, K, N)
        self._rows = list(self.block.unbind(0))
        self.batch = first.batch_size if not first.full_batch else None
        self.shuffle = EpochShuffle(N, first.seed)  # the single run's orders (members share the seed)
        # a step for each batch size: (step, its inputs, its targets); full batch: the data themselves
        self._steps: dict[int, tuple[Callable[[Tensor], None], Tensor, Tensor]] = {}
        if self.batch is None:
            self._steps[N] = (self._make_step(N, self.x, self.y_rows), self.x, self.y_rows)
        else:
            for rows in step_sizes(first):  # the last batch may be smaller
                x_rows = torch.empty(rows, *self.x.shape[1:])
                y_rows = torch.empty(self.y_rows.shape[0], rows)
                self._steps[rows] = (self._make_step(rows, x_rows, y_rows), x_rows, y_rows)
        self.inexact = self._probe()
        if self.activation not in EXACT_ACTIVATIONS and not all(whole_vectors(n * K * W) for n in self._steps):
            self.inexact = list(range(K))  # the batch's last units would be computed in the scalar tail

    def _views(self, flat: Tensor) -> list[Tensor]:
        K, W = self.k_count, self.width
        seg = K * W
        return [flat[i * seg : (i + 1) * seg].view(K, W) for i in range(3)] + [flat[3 * seg :]]

    # -- one epoch ----------------------------------------------------------------------------------------
    def _make_step(self, N: int, x: Tensor, y_rows: Tensor) -> Callable[[Tensor], None]:
        """One step on ``N`` samples (``x``, ``y_rows``) as a closure over prebuilt views: no per-step
        view, lookup or allocation.  The closure writes the errors ``y_hat - y`` into its (K, N) argument.

        Per step: 15 kernel calls for ReLU and one shared input (the single run makes 11).
        """
        K, W = self.k_count, self.width
        KW = K * W
        addmm, mm, mul, tsum, bmm = torch.addmm, torch.mm, torch.mul, torch.sum, torch.bmm
        z = torch.empty(N, K, W)
        # ReLU's backward needs only its output: it is computed in place (others need z too)
        h = z if self.activation in ("relu", "identity") else torch.empty(N, K, W)
        q = torch.empty(N, K, W)  # products, forward and backward
        gz = torch.empty(N, K, W)  # g broadcast over the units, then (in place) g * w_out, then masked
        g = torch.empty(K, N)
        b_in, w_in, w_out, b_out = self.b_in.view(1, KW), self.w_in.view(1, KW), self.w_out, self.b_out
        z2, q2, gz_t = z.view(N, KW), q.view(N, KW), gz.view(N, KW).t()
        q2_t, w_in_rows, b_in_rows = q2.t(), self.w_in, self.b_in
        q_units = q.view(N * K, W)
        g_expanded = g.t().unsqueeze(2).expand(N, K, W)
        ones_w, ones_n_col, ones_n_row = torch.ones(W, 1), torch.ones(N, 1), torch.ones(1, N)
        g_in, g_bin, g_wout, g_bout = self._views(self.grad)
        g_in, g_wout = g_in.view(KW, 1), g_wout.view(1, KW)
        by_bmm = bmm_sums_exactly(N, K, W)
        g_rows, h_blocks, g_wout_blocks = g.unsqueeze(1), h.permute(1, 0, 2), g_wout.view(K, 1, W)
        # The (K, W) bias gradient is contiguous: torch would sum the gradient as one (N, K*W)
        # block, in another order.  It goes to a strided scratch of the same shape first.
        bin_sums, copy_bin = torch.empty(K, W + 1)[:, :W], g_bin.copy_
        # The single run's mse_loss_backward computes float(2/N) * (y_hat - y): the same two roundings
        # here, keeping the errors for the epoch's loss ((y_hat - y)**2 is mse_loss's square).
        y_hat = torch.empty(N, K)
        y_col, y_t = y_hat.view(N * K, 1), y_hat.t()
        sub, per_sample = torch.sub, torch.tensor(2.0 / N)
        threshold_backward = _raw(_aten.threshold_backward.grad_input)
        leaky_backward = _raw(_aten.leaky_relu_backward.grad_input)
        leaky_relu, relu_ = _nn.leaky_relu, h.clamp_min_
        act_forward, act_backward = ACTIVATIONS[self.activation].forward_out, ACTIVATIONS[self.activation].backward_out
        optimizer_step: Callable[[list[Tensor]], None] = self.optimizer.step
        grads = [self.grad]
        if self.optimizer.plain_sgd:  # p -= lr * g, one fused call; freeze() zeroes the rates in place
            update, neg_lr, grad = self.flat.addcmul_, self.optimizer.rates[0], self.grad

            def sgd_step(_: list[Tensor]) -> None:
                update(grad, neg_lr)

            optimizer_step = sgd_step
        act, shared_x = self.activation, self.shared_x
        grad_index_copy = self.grad.index_copy_
        # torch sums an (N, H) block's columns in one order for 4 <= H <= 7, in another for wider
        # blocks and for H = 1 in a third: a member whose width is on another side of those lines
        # than the storage width gets its bias gradient summed again, from a block of its own shape.
        apart = [k for k, h in enumerate(self.widths) if h != W and (h == 1 or 4 <= h <= 7 or 4 <= W <= 7)]
        gather, blocks, sums, scatter = self._bias_sums_apart(apart, N)
        take = torch.take
        expand, times_w_out = gz.copy_, gz.mul_

        def step(errors: Tensor) -> None:
            if shared_x:  # addmm over one input: x * w + b, each product rounded, as the single run
                addmm(b_in, x, w_in, out=z2)
            else:
                mul(x, w_in_rows, out=z).add_(b_in_rows)
            if act == "relu":
                relu_(0)
            elif act == "leaky_relu":
                leaky_relu(z, 0.01, out=h)
            elif act_forward is not None:  # None: the identity
                act_forward(z, h)
            mul(h, w_out, out=q)
            mm(q_units, ones_w, out=y_col)
            y_hat.add_(b_out)
            sub(y_t, y_rows, out=errors)  # (K, N)
            mul(errors, per_sample, out=g)
            tsum(g, 1, out=g_bout)
            expand(g_expanded)  # one broadcast copy, then contiguous products
            if by_bmm:  # each member's g.T @ h, one call
                bmm(g_rows, h_blocks, out=g_wout_blocks)
            else:
                mul(gz, h, out=q)
                mm(ones_n_row, q2, out=g_wout)
            times_w_out(w_out)
            if act == "relu":
                threshold_backward(gz, h, 0, grad_input=gz)
            elif act == "leaky_relu":
                leaky_backward(gz, z, 0.01, False, grad_input=gz)
            elif act_backward is not None:
                act_backward(gz, z, h, gz)
            if shared_x:
                mm(gz_t, x, out=g_in)
            else:
                mul(gz, x, out=q)
                mm(q2_t, ones_n_col, out=g_in)
            tsum(gz, 0, out=bin_sums)
            copy_bin(bin_sums)
            if blocks:  # one gather, a sum per member, one scatter
                take(gz, gather, out=blocks[0][0])
                for block, out in blocks[1:]:
                    tsum(block, 0, out=out)
                grad_index_copy(0, scatter, sums)
            optimizer_step(grads)

        return step

    def _bias_sums_apart(
        self, members: list[int], N: int
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor]], Tensor, Tensor]:
        """Buffers to sum ``members``' bias gradients from blocks of their own shape.

        ``gather`` indexes ``gz`` so that one ``take`` lays each member's (N, h) block out
        contiguously (64-byte aligned) in one buffer; ``blocks`` is that buffer, then each
        (block, its sums) pair; ``scatter`` places ``sums`` in the flat gradient.
        """
        K, W = self.k_count, self.width
        gather: list[int] = []
        scatter: list[int] = []
        spans = []
        for k in members:
            h, start = len(self.slots[k]), len(gather)
            gather += [n * K * W + k * W + c for n in range(N) for c in self.slots[k]]
            gather += [0] * (-len(gather) % 16)
            spans.append((start, h))
            scatter += [K * W + k * W + c for c in self.slots[k]]  # b_in is the second (K, W) segment
        buffer = torch.empty(len(gather))
        sums = torch.empty(len(scatter))
        blocks = [(buffer, buffer)]
        done = 0
        for start, h in spans:
            blocks.append((buffer[start : start + N * h].view(N, h), sums[done : done + h]))
            done += h
        return torch.tensor(gather), blocks if members else [], sums, torch.tensor(scatter, dtype=torch.int64)

    def fit(self, n: int) -> Tensor:
        """``n`` epochs for every member; (n, K) losses, each before its epoch's update."""
        out = torch.empty(n, self.k_count)
        done = 0
        with torch.inference_mode():
            while done < n:
                count = min(BLOCK_EPOCHS, n - done)
                if self.batch is None:
                    step = self._steps[self.samples][0]
                    for errors in self._rows[:count]:
                        step(errors)
                    self._losses(self.block[:count], out[done : done + count])
                else:
                    for errors in self._rows[:count]:
                        self._minibatch_epoch(errors)
                    self._minibatch_losses(self.block[:count], out[done : done + count])
                done += count
        return out

    def _minibatch_epoch(self, errors: Tensor) -> None:
        """The single run's next shuffled pass (the same order for every member: one seed)."""
        N, B = self.samples, self.batch
        assert B is not None  # mini-batches
        order = self.shuffle.next_order()
        for start in range(0, N, B):
            idx = order[start : start + B]
            step, x_rows, y_rows = self._steps[len(idx)]
            torch.index_select(self.x, 0, idx, out=x_rows)
            torch.index_select(self.y_rows, 1, idx, out=y_rows)
            step(errors[:, start : start + len(idx)])

    def _losses(self, errors: Tensor, out: Tensor) -> None:
        """out[e, k] = mse_loss(pred of member k at epoch e): the single run's deferred row-wise mean."""
        rows, K, N = errors.shape
        if N <= ROWWISE_MAX:  # the squares, then each row summed as the single run's
            squares = self.squares[:rows]
            torch.mul(errors, errors, out=squares)
            torch.sum(squares.view(rows * K, N), 1, out=out.view(rows * K))
            out.div_(N)
        else:  # mse_loss against zeros squares the errors themselves
            mean_squared_rows(errors.reshape(rows * K, N), torch.zeros(N), out.view(rows * K))

    def _minibatch_losses(self, errors: Tensor, out: Tensor) -> None:
        """The single run's epoch loss: each batch's mse_loss, weighted by its size, summed in double."""
        rows, K, N = errors.shape
        batch = self.batch
        assert batch is not None  # mini-batches
        squares = self.squares[:rows]
        torch.mul(errors, errors, out=squares)
        total = torch.zeros(rows, K, dtype=torch.float64)
        for start in range(0, N, batch):
            size = min(batch, N - start)
            batch_loss = torch.sum(squares[:, :, start : start + size], 2).div_(size)
            total += batch_loss.double() * size
        out.copy_((total / N).float())

    # -- members ----------------------------------------------------------------------------------------------
    def member_params(self, k: int, flat: Tensor | None = None) -> list[Tensor]:
        """Member ``k``'s weights and biases (copies), in ``nn.Linear`` order; of ``flat`` (the gradients) if given."""
        h = self.widths[k]
        w_in, b_in, w_out, b_out = (self.flat if flat is None else flat)[self.places[k]].split_with_sizes([h, h, h, 1])
        return [w_in.reshape(h, 1), b_in, w_out.reshape(1, h), b_out]

    def finite(self) -> Tensor:
        """(K,) bool: every parameter of the member is finite."""
        bad = torch.zeros(self.k_count, dtype=torch.int64)
        bad.index_add_(0, self.owner, (~torch.isfinite(self.flat)).long())
        return bad == 0

    def freeze(self, k: int) -> None:
        """Stop member ``k`` for good: zero learning rate, zero (finite) state."""
        self.optimizer.freeze(k)

    # -- the probe -------------------------------------------------------------------------------------------
    def _probe(self) -> list[int]:
        """Members whose step on random weights differs from their single run's (in any bit).

        Every step size is tried (a mini-batch run has two when the last batch is smaller).
        Members of one width on the same data get the same random weights, so one single run
        checks all their gradients (and, for the first, the update: the others differ in rates only).
        """
        from quadtui.core.fastmlp import FastMLP

        groups: dict[tuple[int, int, int], list[int]] = {}
        for k, h in enumerate(self.widths):
            groups.setdefault((h, 0 if self.shared_x else k, 0 if self.shared_y else k), []).append(k)
        gen = torch.Generator().manual_seed(0)
        saved_flat, saved = self.flat.clone(), [t.clone() for t in self.optimizer.state + self.optimizer.state2]
        inexact: set[int] = set()
        errors = torch.empty(self.k_count, self.samples)
        checks = []
        for (h, x_at, y_at), members in groups.items():
            net = FastMLP(self.configs[members[0]], self.models[members[0]])  # fresh state, like the batch
            theirs = torch.cat([_places_in(net.flat, t) for t in net.params])  # where it keeps each parameter
            data = (self.x if self.shared_x else self.x[:, x_at], self.y_rows[y_at].reshape(-1, 1))
            checks.append((3 * h + 1, members, torch.cat([self.places[k] for k in members]), net, theirs, data))
        with torch.inference_mode():
            for _, (rows, (step, x_rows, y_rows)) in itertools.product(range(PROBE_TRIALS), self._steps.items()):
                self.flat.zero_()  # fresh weights each time: the members' updates made them differ
                for size, members, everywhere, *_ in checks:
                    self.flat[everywhere] = spread(gen, size).repeat(len(members))
                if x_rows is not self.x:  # a batch: the first samples
                    x_rows.copy_(self.x[:rows])
                    y_rows.copy_(self.y_rows[:, :rows])
                before = self.flat.clone()
                step(errors[:, :rows])
                for _size, members, _everywhere, net, theirs, (x, y) in checks:
                    first = self.places[members[0]]
                    net.flat[theirs] = before[first]
                    # the errors: the forward pass (its last sums are not always visible in the gradients)
                    want = (net.predict(x[:rows])[0] - y[:rows]).reshape(1, rows)
                    inexact.update(k for k in members if not torch.equal(errors[k : k + 1, :rows], want))
                    net.step(x[:rows], y[:rows])
                    # the gradients themselves: a one-ulp difference can vanish in the update's rounding
                    want = net.grad_flat[theirs]
                    inexact.update(k for k in members if not torch.equal(self.grad[self.places[k]], want))
                    if not torch.equal(self.flat[first], net.flat[theirs]):
                        inexact.add(members[0])
        self.flat.copy_(saved_flat)
        for dst, src in zip(self.optimizer.state + self.optimizer.state2, saved):
            dst.copy_(src)
        self.optimizer.steps = 0
        return sorted(inexact)


def _slots(width: int, storage: int) -> list[int]:
    """:func:`unit_slots` at a width :func:`storage_width` chose: one where every member has its slots."""
    slots = unit_slots(width, storage)
    assert slots is not None, f"{width} units have no slots in {storage} columns"
    return slots


def _places_in(flat: Tensor, view: Tensor) -> Tensor:
    """Indices in ``flat`` of the elements of ``view`` (a contiguous view of it), in order."""
    start = int(view.storage_offset() - flat.storage_offset())
    return torch.arange(start, start + view.numel())
