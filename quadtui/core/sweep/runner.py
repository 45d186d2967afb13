"""Hyperparameter sweeps: K runs that differ in one field, trained together.

``Sweep(base, "lr", [0.005, 0.01, 0.02]).run()`` gives each member exactly the
run ``Engine(base.replace(lr=value)).run()`` would give — same data, same
initial weights, the same float operations — but trains the members that can
share tensors as one batched model (:class:`~quadtui.core.sweep.batched.BatchedMLP`):

* one-hidden-layer members with the same activation, optimizer and sample count
  (and, for mini-batches, the same batch size and seed: the same shuffles) train
  as one :class:`~quadtui.core.sweep.wide.WideMLP` (one kernel call per op for all
  members, any widths mixed) when every step's sample count is a multiple of 4
  (:func:`~quadtui.core.sweep.layout.wide_key`) — for tanh, sigmoid, elu, gelu,
  silu and softplus only when no unit falls in the scalar tail of torch's vector
  loop (:func:`~quadtui.core.sweep.layout.whole_vectors`; 100 samples × 8 units qualify);
* other full-batch members (two hidden layers) with the same activation (ReLU,
  leaky ReLU, identity), optimizer and sample count (a multiple of 4) form one
  :class:`~quadtui.core.sweep.batched.BatchedMLP` group;
* groups train one after another; members alone in their group train with the
  single-run :class:`Engine` itself.

A member that diverges stops alone (status ``diverged``, ``diverged_at``), keeps
its last finite state like the single run, and the others train on.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from quadtui.core.config import Config, parse_value
from quadtui.core.data import Dataset, make_datasets
from quadtui.core.engine import Engine
from quadtui.core.fastmlp import FastMLP
from quadtui.core.history import LossHistory
from quadtui.core.model import build_model
from quadtui.core.snapshot import CancelFlag, Status
from quadtui.core.sweep.batched import BatchedMLP, group_key
from quadtui.core.sweep.layout import wide_key
from quadtui.core.sweep.results import SweepMember, SweepProgress, SweepResult
from quadtui.core.sweep.spec import MAX_MEMBERS, parse_sweep_spec
from quadtui.core.sweep.wide import WideMLP

__all__ = ["GridSweep", "Sweep", "SweepMember", "SweepProgress", "SweepResult", "parse_sweep_spec"]

CHUNK_SECONDS = 0.03  # train in chunks of about this long between cancel checks


class Sweep:
    def __init__(self, base: Config, param: str, values: list[Any]) -> None:
        if not 1 <= len(values) <= MAX_MEMBERS:
            raise ValueError(f"a sweep has 1 to {MAX_MEMBERS} values, not {len(values)}")
        self.base, self.param = base, param
        self.values = [parse_value(param, v) for v in values]
        self.configs = [base.replace(**{param: v}) for v in self.values]  # Config checks each
        self.members = [SweepMember(v, c) for v, c in zip(self.values, self.configs)]
        self.groups = _groups(self.configs)

    @classmethod
    def from_spec(cls, spec: str, base: Config) -> Sweep:
        param, values = parse_sweep_spec(spec, base)
        return cls(base, param, values)

    def run(
        self,
        cancel: CancelFlag | None = None,
        on_progress: Callable[[SweepProgress], object] | None = None,
        interval: float = 0.1,
    ) -> SweepResult:
        """Train every member to the end, divergence or cancel.  ``on_progress`` at most once per ``interval``."""
        cancel = cancel or threading.Event()
        started = time.perf_counter()
        self._total = sum(c.epochs for c in self.configs)
        self._last_emit = 0.0
        self._emit_interval = interval
        self._on_progress = on_progress
        datasets = make_datasets(self.configs)
        for group in self.groups:
            if cancel.is_set():
                for k in group:
                    self._stop_unstarted(k, datasets[k])
            elif len(group) == 1:
                for k in group:
                    self._run_engine(k, cancel)
            else:
                self._run_batched(group, datasets, cancel)
        self._emit(0, force=True)
        data = datasets[0]
        return SweepResult(
            self.param,
            list(self.values),
            self.members,
            data.grid,
            data.grid_target,
            time.perf_counter() - started,
            [list(g) for g in self.groups],
        )

    # -- progress ----------------------------------------------------------------------------------
    def _emit(self, epoch: int, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._last_emit < self._emit_interval:
            return
        self._last_emit = now
        losses = [m.history.last() if m.history is not None else None for m in self.members]
        done = sum(m.epochs_run for m in self.members)
        members = self.members
        self._on_progress(
            SweepProgress(
                epoch,
                losses,
                done,
                self._total,
                [m.epochs_run for m in members],
                [m.status for m in members],
                [m.prediction for m in members],
            )
        )

    # -- one member alone, with the single-run engine -------------------------------------------------
    def _run_engine(self, k: int, cancel: CancelFlag) -> None:
        member = self.members[k]
        engine = Engine(member.config)
        member.history = engine.history
        member.status = "training"

        def progress(epoch: int) -> None:
            member.epochs_run = epoch
            self._emit(epoch)

        snap = engine.run(cancel=cancel, on_progress=progress, interval=math.inf)
        self._finish_from_engine(member, engine)
        member.status = snap.status.value if snap.status is not Status.ERROR else "stopped"
        self._emit(member.epochs_run, force=True)  # its row and fit show now, not after the next chunk

    def _finish_from_engine(self, member: SweepMember, engine: Engine) -> None:
        snap = engine.snapshot()
        member.history = engine.history
        member.epochs_run = engine.epoch
        member.final_loss = engine.history.last()
        member.eval_loss = snap.eval_now
        member.prediction = snap.prediction
        member.diverged_at = engine.diverged_at

    def _stop_unstarted(self, k: int, data: Dataset) -> None:
        member = self.members[k]
        member.history = LossHistory(16)
        member.status = "stopped"
        net = FastMLP(member.config, build_model(member.config))
        member.prediction, member.eval_loss = _evaluate(net, data)

    # -- a group, as one batched model ----------------------------------------------------------------
    def _run_batched(self, group: list[int], datasets: list[Dataset], cancel: CancelFlag) -> None:
        model = _build(group, self.configs, datasets)
        if isinstance(model, WideMLP) and model.inexact:  # not bit-exact in a batch here: alone, then the rest
            for j in model.inexact:
                self._run_engine(group[j], cancel)
            group = [k for j, k in enumerate(group) if j not in model.inexact]
            if len(group) < 2:
                for k in group:
                    self._run_engine(k, cancel)
                return
            model = _build(group, self.configs, datasets)
        configs = [self.configs[k] for k in group]
        members = [self.members[k] for k in group]
        histories = [LossHistory(min(m.config.epochs, 1 << 16)) for m in members]
        for m, history in zip(members, histories):
            m.history = history
            m.status = "training"
        active = list(range(len(group)))
        finals: dict[int, list[torch.Tensor]] = {}

        def settle(j: int) -> None:
            """Member ``j``'s final loss, fit and eval from its final weights (as soon as it ends: shown live)."""
            net = FastMLP(members[j].config, model.models[j])  # the member's shapes; weights replaced here
            for dst, src in zip(net.params, finals[j]):
                dst.copy_(src)
            members[j].final_loss = histories[j].last()
            members[j].prediction, members[j].eval_loss = _evaluate(net, datasets[group[j]])

        epoch, chunk = 0, 16
        with torch.inference_mode():
            while active:
                if cancel.is_set():
                    for j in active:
                        members[j].status = "stopped"
                        finals[j] = model.member_params(j)
                    break
                n = min(chunk, *(configs[j].epochs - epoch for j in active))
                t0 = time.perf_counter()
                losses = model.fit(n).numpy()
                took = time.perf_counter() - t0
                finite_params = model.finite().numpy()
                for j in list(active):
                    m = members[j]
                    column = losses[:, j]
                    ok = np.isfinite(column)
                    if ok.all() and finite_params[j]:
                        histories[j].append(column)
                        m.epochs_run = epoch + n
                        if m.epochs_run == configs[j].epochs:
                            m.status = "done"
                            finals[j] = model.member_params(j)
                            model.freeze(j)
                            active.remove(j)
                            settle(j)
                        continue
                    bad = int(np.argmin(ok)) if not ok.all() else n
                    histories[j].append(column[:bad])
                    m.epochs_run = epoch + bad
                    m.diverged_at = epoch + bad + 1
                    m.status = "diverged"
                    model.freeze(j)
                    active.remove(j)
                epoch += n
                chunk = max(1, min(chunk * 2, int(n * CHUNK_SECONDS / took) + 1)) if took > 0 else chunk
                self._emit(epoch)
        for j, m in enumerate(members):
            if m.status == "diverged":
                self._replay_diverged(m)
            elif m.status == "stopped":
                settle(j)
        self._emit(epoch, force=True)

    def _replay_diverged(self, member: SweepMember) -> None:
        """The single run keeps its last finite state; replay it alone to get that state exactly."""
        engine = Engine(member.config)
        engine.advance(member.diverged_at or 0)
        self._finish_from_engine(member, engine)
        if engine.status is not Status.DIVERGED:  # only if the batch were not exact; trust the engine
            member.status = engine.status.value if engine.finished else "stopped"


class GridSweep(Sweep):
    """A sweep over two settings: one member per pair of values (``member.value`` is the pair).

    The members are the grid's configs, grouped and trained exactly as a one-setting
    sweep's (see :mod:`quadtui.core.sweep.grid`).
    """

    def __init__(self, base: Config, params: list[str], values: list[list[Any]]) -> None:
        from quadtui.core.sweep.grid import grid_pairs

        pairs = grid_pairs([[parse_value(p, v) for v in vs] for p, vs in zip(params, values)])
        if not 1 <= len(pairs) <= MAX_MEMBERS:
            raise ValueError(f"a sweep has 1 to {MAX_MEMBERS} runs, not {len(pairs)}")
        self.base, self.params, self.param = base, list(params), " × ".join(params)
        self.grid_values = [[parse_value(p, v) for v in vs] for p, vs in zip(params, values)]
        self.values = pairs
        self.configs = [base.replace(**dict(zip(params, pair))) for pair in pairs]  # Config checks each
        self.members = [SweepMember(pair, c) for pair, c in zip(pairs, self.configs)]
        self.groups = _groups(self.configs)

    def run_grid(
        self,
        cancel: CancelFlag | None = None,
        on_progress: Callable[[SweepProgress], object] | None = None,
        interval: float = 0.1,
    ) -> Any:
        """:meth:`Sweep.run`, as a :class:`~quadtui.core.sweep.grid.GridResult`."""
        from quadtui.core.sweep.grid import GridResult

        result = self.run(cancel=cancel, on_progress=on_progress, interval=interval)
        return GridResult(
            self.params,
            self.grid_values,
            result.members,
            result.grid,
            result.grid_target,
            result.seconds,
            result.groups,
        )


def _groups(configs: list[Config]) -> list[list[int]]:
    groups: dict[tuple[object, ...], list[int]] = {}
    for k, c in enumerate(configs):
        groups.setdefault(wide_key(c) or group_key(c) or ("alone", k), []).append(k)
    return list(groups.values())


def _build(group: list[int], configs: list[Config], datasets: list[Dataset]) -> WideMLP | BatchedMLP:
    chosen = [configs[k] for k in group]
    data = [datasets[k] for k in group]
    return WideMLP(chosen, data) if wide_key(chosen[0]) else BatchedMLP(chosen, data)


def _evaluate(net: FastMLP, data: Dataset) -> tuple[np.ndarray, float]:
    """(prediction on the view grid, MSE vs the true function on the x_plot grid), as Snapshot has them."""
    grid = torch.from_numpy(data.grid).reshape(-1, 1).float()
    pred, _ = net.predict(grid)
    with torch.inference_mode():
        eval_loss = float(F.mse_loss(net.predict(data.x_eval)[0], data.y_eval))
    return pred.reshape(-1).double().numpy(), eval_loss
