"""The training engine: the notebook's run, advanced in chunks, observable by snapshots.

No UI here.  A caller (the headless CLI, or a Textual thread worker) drives the
engine with :meth:`Engine.advance` or :meth:`Engine.run`, passes a
``threading.Event``-like cancel flag, and asks for a :class:`Snapshot` only when
it wants to draw — snapshots cost nothing between redraws.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from quadtui.core.config import Config
from quadtui.core.control import Control
from quadtui.core.data import Dataset, make_dataset
from quadtui.core.fastmlp import FastMLP
from quadtui.core.history import LossHistory
from quadtui.core.model import build_model
from quadtui.core.shuffle import EpochShuffle
from quadtui.core.snapshot import CancelFlag, Snapshot, Status, new_run_id
from quadtui.core.timeline import Timeline, affordable, dead_samples

if TYPE_CHECKING:
    from quadtui.core.hand_edit import Change, WeightEdit

EVAL_POINTS = 1000  # at most about this many eval-loss samples per run
#: a training snapshot for a UI that draws every ``Control.pace`` goes at least this share of the pace early: on
#: a busy machine the trainer (lowest priority) and the snapshot's way to the UI are late by tens of ms now and
#: then (the UI draws one that comes a little early for the frame due: :data:`quadtui.core.pacing.SLACK`)
EARLY = 0.05


class Engine:
    """Trains one config.  Not thread-safe: one thread drives it."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.data: Dataset = make_dataset(self.config)
        self.reset()

    # -- lifecycle -----------------------------------------------------------------
    def reset(self) -> None:
        """Back to epoch 0: the same data and the same initial weights."""
        self.run_id = new_run_id()
        self.model = build_model(self.config)
        self.net = FastMLP(self.config, self.model)
        self.shuffle = EpochShuffle(self.config.samples, self.config.seed)  # mini-batches: DataLoader's order
        cfg, size = self.config, self.net.flat.numel()
        batches = 1 if cfg.full_batch else math.ceil(cfg.samples / (cfg.batch_size or cfg.samples))
        self.timeline = Timeline(cfg.epochs, size, slots=affordable(cfg.epochs, cfg.samples, batches, cfg.layers, size))
        self._flat = self.net.flat.numpy()  # a view: what the timeline copies at a kept epoch
        # room for every epoch up front: pages are only touched (resident) as losses arrive
        self.history = LossHistory(self.config.epochs)
        self.eval_every = max(1, math.ceil(self.config.epochs / EVAL_POINTS))
        evals = math.ceil(self.config.epochs / self.eval_every)
        self._eval_epochs = np.zeros(evals, dtype=np.int64)
        self._eval_loss = np.zeros(evals, dtype=np.float32)
        self._evals = 0
        self.epoch = 0
        self.lr_schedule: tuple[tuple[int, float], ...] = ()
        self.weight_edits: tuple[WeightEdit, ...] = ()
        self.status = Status.READY
        self.diverged_at: int | None = None
        self.error: str | None = None
        #: wall-clock seconds the run has spent training, its pauses left out: what "elapsed" shows
        self.elapsed = 0.0
        #: seconds spent inside advance(): what the epochs cost, without pacing or pauses (epochs per second)
        self.compute_seconds = 0.0
        self._rate = 0.0
        self._rate_window: list[tuple[float, int]] = []
        self._chunk_started = 0.0

    @property
    def lr(self) -> float:
        return self.net.optimizer.lr

    def set_lr(self, lr: float) -> None:
        """Change the learning rate from the next epoch on, without a reset (kept in ``lr_schedule``)."""
        from quadtui.core.config import parse_value

        lr = parse_value("lr", lr)
        if lr == self.config.lr:
            return
        if self.epoch:  # before the first epoch it is simply the run's learning rate
            kept = [step for step in self.lr_schedule or ((0, self.config.lr),) if step[0] < self.epoch]
            if kept[-1][1] != lr:
                kept.append((self.epoch, lr))
            self.lr_schedule = tuple(kept) if len(kept) > 1 else ()
        self.net.optimizer.lr = lr
        self.config = self.config.replace(lr=lr)

    def set_weights(self, changes: Sequence[Change]) -> None:
        """Set parameters by hand, (name, index, value) each, from the next epoch on, without a reset
        (kept in ``weight_edits``; the optimizer's state, e.g. Adam's moments, stays as it is)."""
        from quadtui.core.hand_edit import apply_edits

        self.weight_edits += apply_edits(self.net.params, changes, self.epoch)

    @property
    def remaining(self) -> int:
        return self.config.epochs - self.epoch

    @property
    def finished(self) -> bool:
        return self.status in (Status.DONE, Status.DIVERGED, Status.STOPPED, Status.ERROR)

    def stop(self) -> None:
        if not self.finished:
            self.status = Status.STOPPED

    # -- training ------------------------------------------------------------------
    def advance(self, n: int) -> int:
        """Train up to ``n`` epochs (fewer at the end or on divergence).  Returns epochs run."""
        n = min(n, self.remaining)
        if n <= 0 or self.finished:
            return 0
        started = time.perf_counter()
        saved, shuffled = self.net.save(), self.shuffle.save()
        chunk, eval_at, eval_loss = self._train(n)
        finite = np.isfinite(chunk)
        if not finite.all() or not self._next_loss_finite():
            # Keep the last state whose loss was finite: replay the chunk up to there.
            bad = int(np.argmin(finite)) if not finite.all() else n
            keep = max(bad - 1, 0)
            self.net.restore(saved)
            self.shuffle.restore(shuffled)
            self.timeline.forget_after(self.epoch - 1)
            self._train(keep)
            self.diverged_at = self.epoch + bad + 1
            chunk = chunk[:bad]
            n = bad
            kept = eval_at <= self.epoch + bad
            eval_at, eval_loss = eval_at[kept], eval_loss[kept]
            self.status = Status.DIVERGED
        self.history.append(chunk)
        k = self._evals
        self._eval_epochs[k : k + eval_at.size] = eval_at
        self._eval_loss[k : k + eval_at.size] = eval_loss
        self._evals += eval_at.size
        self.epoch += n
        if self.status is not Status.DIVERGED:
            self.status = Status.DONE if self.remaining == 0 else Status.TRAINING
        if self.status is Status.DONE:
            self.timeline.keep(self.epoch, self._flat)  # the trained network
        now = time.perf_counter()
        self.compute_seconds += now - started
        self.elapsed += now - started  # run() adds the rest of its running time (pacing, snapshots)
        self._chunk_started = started
        self._note_rate(now, n)
        return n

    def _train(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` epochs from the current state: (losses, epochs of eval losses, eval losses).

        The eval loss is measured before the update of every epoch ``e`` with
        ``(e - 1) % eval_every == 0``.
        """
        data, first, every = self.data, self.epoch + 1, self.eval_every
        offset = -(first - 1) % every  # index of the first eval epoch in this chunk
        at = range(offset, n, every)
        losses = torch.empty(n)
        eval_loss = torch.empty(len(at))
        start, timeline, flat = self.epoch, self.timeline, self._flat
        kept = timeline.due(start, n)  # states to copy (before the update of those epochs)
        if self.config.full_batch:
            probe = (data.x_eval, data.y_eval, at, eval_loss)
            self.net.fit(
                data.x_train, data.y_train, losses, probe, keep=(kept, lambda i: timeline.keep(start + i, flat))
            )
        else:
            evals = iter(enumerate(at))
            j, next_eval = next(evals, (0, -1))
            keeps = iter(kept)
            next_keep = next(keeps, -1)
            for i in range(n):
                if i == next_eval:
                    eval_loss[j] = self._eval_loss_now()
                    j, next_eval = next(evals, (0, -1))
                if i == next_keep:
                    timeline.keep(start + i, flat)
                    next_keep = next(keeps, -1)
                losses[i] = self._minibatch_epoch()
        return losses.numpy(), np.arange(first + offset, first + n, every, dtype=np.int64), eval_loss.numpy()

    def _minibatch_epoch(self) -> torch.Tensor:
        """One pass in batches, shuffled as the script's DataLoader shuffles them.

        The epoch's loss is the sample-weighted mean of the batch losses (summed in double,
        kept in float32: the script prints the same float).
        """
        cfg, data = self.config, self.data
        order = self.shuffle.next_order()
        total = torch.zeros((), dtype=torch.float64)
        bs = cfg.batch_size or cfg.samples
        for start in range(0, cfg.samples, bs):
            idx = order[start : start + bs]
            loss = self.net.step(data.x_train[idx], data.y_train[idx])
            total += loss.double() * idx.numel()
        return (total / cfg.samples).float()

    def _next_loss_finite(self) -> bool:
        """Whether the state a chunk ends in still gives a finite loss (else the run diverges
        at the next epoch, and the chunk is replayed to its last finite state: a later chunk
        could not go back that far)."""
        if not self.net.all_finite():
            return False
        return bool(torch.isfinite(self.net.loss(self.data.x_train, self.data.y_train)))

    def _eval_loss_now(self) -> torch.Tensor:
        return self.net.loss(self.data.x_eval, self.data.y_eval)

    def _note_rate(self, now: float, n: int) -> None:
        """Epochs per wall-clock second over about the last second."""
        window = self._rate_window
        window.append((now, self.epoch))
        while len(window) > 2 and now - window[0][0] > 1.0:
            window.pop(0)
        (t0, e0), (t1, e1) = window[0], window[-1]
        took = now - self._chunk_started
        self._rate = (e1 - e0) / (t1 - t0) if t1 > t0 else (n / took if took > 0 else 0.0)

    # -- the loop used by the CLI and the TUI worker ------------------------------------
    def run(
        self,
        cancel: CancelFlag | None = None,
        control: Control | None = None,
        on_snapshot: Callable[[Snapshot], None] | None = None,
        interval: float = 1 / 15,
        on_progress: Callable[[int], None] | None = None,
    ) -> Snapshot:
        """Train to the end (or divergence, or cancel), honouring pause/step/speed requests.

        ``on_snapshot`` is called at most once per ``interval`` seconds while training (or
        per ``control.pace``, when the UI draws less often: it may change during the run),
        on every state change, and once at the end.

        ``elapsed`` runs like a stopwatch: from the first epoch, through pacing sleeps and
        snapshots, stopped while paused (a student who pauses for a minute has not trained
        for a minute).
        """
        control = control or Control()
        cancel = cancel or threading.Event()
        chunk = 1  # grows (doubling) towards ~10 ms of epochs: a slow epoch is shown at once
        last_emit = 0.0
        shown_paused = False
        #: the current stretch of running (not paused): when it began, and ``elapsed`` then
        stretch: tuple[float, float] | None = None

        def clock() -> None:  # bring ``elapsed`` up to now
            if stretch is not None:
                self.elapsed = max(self.elapsed, stretch[1] + time.perf_counter() - stretch[0])

        while not self.finished:
            if cancel.is_set():
                self.status = Status.STOPPED
                break
            paused = control.paused  # read first: weights set and then resumed are set before training on
            lr = control.take_lr()
            if lr is not None:
                self.set_lr(lr)
                last_emit = 0.0
            edits = control.take_edits()
            if edits:
                self.set_weights(edits)
                last_emit = 0.0
            speed = control.speed
            # full speed: chunks of about 10 ms; a set speed: one interval's worth of epochs
            n = min(self.remaining, chunk if speed is None else max(1, int(speed * interval)))
            if paused:
                n = control.take_steps(n)  # the rest of a big step stays queued
                if n == 0:
                    clock()
                    stretch = None  # the stopwatch stops while paused
                    if not shown_paused or lr is not None or edits:
                        self.status = Status.PAUSED
                        shown_paused = True
                        if on_snapshot:
                            on_snapshot(self.snapshot())
                    _sleep(0.05, cancel, control)
                    continue
            resumed, shown_paused = shown_paused, False  # training again after a pause: shown at once
            if stretch is None:
                stretch = (time.perf_counter(), self.elapsed)
            started = time.perf_counter()
            ran = self.advance(n)
            took = time.perf_counter() - started
            if control.paused and not self.finished:
                self.status = Status.PAUSED
            if speed is None and took > 0:  # aim for chunks of about 10 ms
                chunk = max(1, min(chunk * 2, int(ran * 0.01 / took) + 1))
            elif speed is not None:
                _sleep(ran / speed - took, cancel, control)
            clock()
            if on_progress:
                on_progress(self.epoch)
            now = time.perf_counter()
            due = (
                control.paused
                or resumed
                or self._snapshot_due(now - last_emit, now - started, interval, control.pace, speed)
            )
            if on_snapshot and due and not self.finished:  # a finished run's state is sent once, below
                on_snapshot(self.snapshot())
                last_emit = now
        clock()
        snap = self.snapshot()
        if on_snapshot:
            on_snapshot(snap)
        return snap

    @staticmethod
    def _snapshot_due(since: float, chunk: float, interval: float, pace: float | None, speed: float | None) -> bool:
        """Whether a training snapshot is due, ``since`` seconds after the last, at the end of a ``chunk`` seconds long.

        Every ``interval`` (at a set speed: every chunk, each about an interval long).  When the
        UI draws less often (``pace``, longer than the interval), one a pace: the snapshot for
        a frame goes at the end of the last chunk before a pace has passed, and a little early
        (:data:`EARLY`), so that one delayed on its way still comes before the next frame is due
        (a snapshot that comes late costs the UI a frame: its pacer draws only what arrives).
        """
        if pace is None or pace <= interval:  # the loop's own rate
            return speed is not None or since >= interval
        soon = since + max(chunk, EARLY * pace) > pace  # the next chunk's end would be too late
        return soon if speed is not None else soon and since >= interval

    # -- observing ---------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        data = self.data
        grid = torch.from_numpy(data.grid).reshape(-1, 1).float()
        pred, layers = self.net.predict_layers(grid)
        w_out = self.net.weights[-1].reshape(-1)
        return Snapshot(
            run_id=self.run_id,
            config=self.config,
            status=self.status,
            epoch=self.epoch,
            train_loss=self.history.values,
            history=self.history.frozen(),
            eval_epochs=_frozen(self._eval_epochs[: self._evals]),
            eval_loss=_frozen(self._eval_loss[: self._evals]),
            eval_now=float(self._eval_loss_now()),
            grid=data.grid,
            grid_target=data.grid_target,
            prediction=pred.reshape(-1).double().numpy(),
            hidden=layers[-1],  # the same array: shipped once (pickle keeps one copy of a shared object)
            out_weights=w_out.double().numpy(),
            out_bias=float(self.net.biases[-1][0]),
            x_samples=data.x,
            y_samples=data.y,
            epochs_per_s=self._rate,
            elapsed=self.elapsed,
            compute_seconds=self.compute_seconds,
            diverged_at=self.diverged_at,
            error=self.error,
            weights=tuple(p.numpy().copy() for p in self.net.params),
            lr_schedule=self.lr_schedule,
            weight_edits=self.weight_edits,
            layers=layers,
            dead=self._dead_units(),
            timeline=self.timeline.frozen(),
        )

    def _dead_units(self) -> tuple[np.ndarray, ...]:
        """Per hidden layer, which units are zero on every training sample.

        One forward pass per snapshot, of bounded cost: with many samples and a wide net, on an
        evenly strided subset of the samples (see DEAD_WORK), so that a snapshot stays cheap."""
        x = dead_samples(self.data.x_train, self.net.weights[:-1])
        with torch.inference_mode():
            return tuple((h == 0).all(0).numpy() for _, h in self.net.hidden(x))

    def trained_model(self) -> torch.nn.Module:
        """An ``nn.Sequential`` holding the current weights (for export)."""
        return self.net.load_into(build_model(self.config))


def _frozen(view: np.ndarray) -> np.ndarray:
    view.flags.writeable = False
    return view


def _sleep(seconds: float, cancel: CancelFlag, control: Control) -> None:
    """Wait up to ``seconds``, waking early for a cancel or a new request."""
    end = time.perf_counter() + seconds
    while not cancel.is_set():
        left = end - time.perf_counter()
        if left <= 0 or control.wake.wait(min(left, 0.05)):
            break
    control.wake.clear()
