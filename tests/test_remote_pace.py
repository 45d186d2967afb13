"""A run's process sends the snapshots of a training run at the pace the UI draws them, and
every change of state at once (issue 15: the UI no longer decodes snapshots it will drop).

Real child processes from a fork server, driven through :func:`remote.train` as the app's
worker drives them; snapshots are counted where they arrive, in the parent.  The engine in
the worker thread (the tests' app) reads the same pace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from quadtui.core import remote
from quadtui.core.config import Config
from quadtui.core.control import Control
from quadtui.core.engine import Engine
from quadtui.core.snapshot import Snapshot, Status

INTERVAL = 1 / 12
#: longer than any wait here: a snapshot that came within it was not sent at the pace
NEVER = 120.0


@pytest.fixture(scope="module", autouse=True)
def server() -> Iterator[None]:
    remote.start_server()
    yield
    remote.stop_server()


class Run:
    """``config`` training in a child process (in a thread here); what arrives, with when."""

    def __init__(self, config: Config, control: Control) -> None:
        self.control, self.cancel = control, threading.Event()
        self.arrived: list[tuple[float, Snapshot]] = []
        self._changed = threading.Condition()
        self.thread = threading.Thread(target=self._train, args=(config,), daemon=True)
        self.thread.start()

    def _train(self, config: Config) -> None:
        remote.train(config, self.control, 1, INTERVAL, self.cancel, self._arrive)

    def _arrive(self, snap: Snapshot) -> None:
        with self._changed:
            self.arrived.append((time.perf_counter(), snap))
            self._changed.notify_all()

    def wait(self, condition: Callable[[Snapshot], bool], what: str, seconds: float = 60.0) -> Snapshot:
        """The first snapshot from now on for which ``condition`` holds (bounded wait)."""
        with self._changed:
            seen = len(self.arrived)
            deadline = time.monotonic() + seconds
            while True:
                for _, snap in self.arrived[seen:]:
                    if condition(snap):
                        return snap
                seen = len(self.arrived)
                left = deadline - time.monotonic()
                assert left > 0, f"no snapshot came with {what}"
                self._changed.wait(left)

    def stop(self) -> None:
        self.cancel.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


def training(snap: Snapshot) -> bool:
    return snap.status is Status.TRAINING


def test_a_child_told_a_slower_pace_sends_fewer_training_snapshots() -> None:
    run = Run(Config(epochs=10_000_000), Control())
    try:
        for _ in range(6):  # the loop's own rate: 12 a second
            run.wait(training, "training")
        quick = run.arrived[-1][0] - run.arrived[-6][0]  # five gaps at the loop's rate
        run.control.pace = 0.5  # as the UI's pacer sets it, mid-run
        # it reaches the child within the forwarder's POLL: then the snapshots come further apart
        while run.arrived[-1][0] - run.arrived[-2][0] < 0.3:
            run.wait(training, "training")
        told = len(run.arrived)
        for _ in range(5):
            run.wait(training, "training")
        times = [t for t, _ in run.arrived[told - 1 :]]
        epochs = [snap.epoch for _, snap in run.arrived[told - 1 :]]
        # five gaps of a pace (each up to a fifth early, and their delivery varies): 12 a second would be ~0.4 s
        paced = times[-1] - times[0]
        assert paced > 5 * 0.5 * 0.6, times
        assert quick < paced / 2, (quick, paced)  # the same five at the loop's own rate
        assert epochs == sorted(epochs) and len(set(epochs)) == len(epochs)  # training on between them
    finally:
        run.stop()


def test_every_change_of_state_comes_at_once_at_any_pace() -> None:
    config = Config(epochs=4000, hidden=4)
    control = Control(paused=True)
    control.pace = NEVER  # no training snapshot in this test, only changes of state
    run = Run(config, control)
    try:
        run.wait(lambda snap: snap.status is Status.PAUSED, "the pause")
        control.step(3)
        stepped = run.wait(lambda snap: snap.epoch == 3, "three steps")
        assert stepped.status is Status.PAUSED
        control.set_lr(0.02)
        assert run.wait(lambda snap: snap.config.lr == 0.02, "the new lr").epoch == 3
        control.set_weights([("0.weight", (0, 0), 0.5)])
        edited = run.wait(lambda snap: bool(snap.weight_edits), "the weight set by hand")
        assert edited.weights[0][0, 0] == 0.5
        control.resume()
        run.wait(training, "training again")
        done = run.wait(lambda snap: snap.status is Status.DONE, "the end")
        assert done.epoch == 4000
        resumed = next(i for i, (_, snap) in enumerate(run.arrived) if training(snap))
        # between training again and the end, nothing else: the pace holds back every training snapshot
        assert [snap.status for _, snap in run.arrived[resumed:]] == [Status.TRAINING, Status.DONE]
    finally:
        run.stop()


def test_the_final_state_at_a_slow_pace_is_exactly_the_headless_run() -> None:
    config = Config(epochs=1500, hidden=5, lr=0.05, activation="tanh")
    expected = Engine(config).run()
    control = Control()
    control.pace = NEVER
    run = Run(config, control)
    try:
        done = run.wait(lambda snap: snap.status is Status.DONE, "the end")
    finally:
        run.stop()
    assert done.epoch == 1500
    for name in ("train_loss", "eval_epochs", "eval_loss", "prediction", "out_weights"):
        assert np.array_equal(getattr(done, name), getattr(expected, name)), name
    assert all(np.array_equal(a, b) for a, b in zip(done.weights, expected.weights))


@pytest.mark.parametrize("speed", [None, 3000.0])
def test_in_the_worker_thread_the_engine_reads_the_pace_from_control_too(speed: float | None) -> None:
    """The in-process path (the tests' app): the engine reads ``Control.pace`` itself."""
    config = Config(epochs=1500, hidden=5, lr=0.05, activation="tanh")
    at_its_rate: list[Snapshot] = []
    Engine(config).run(control=Control(speed=speed), on_snapshot=at_its_rate.append, interval=1 / 1000)
    control = Control(speed=speed)
    control.pace = NEVER
    paced: list[Snapshot] = []
    Engine(config).run(control=control, on_snapshot=paced.append, interval=1 / 1000)
    assert len(at_its_rate) > 1 and at_its_rate[-1].status is Status.DONE
    # the run's start (shown at once, as always) and its final state, exactly
    assert [snap.status for snap in paced] == [Status.TRAINING, Status.DONE]
    assert np.array_equal(paced[-1].train_loss, at_its_rate[-1].train_loss)
    assert all(np.array_equal(a, b) for a, b in zip(paced[-1].weights, at_its_rate[-1].weights))
