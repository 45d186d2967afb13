"""The run's clocks: ``elapsed`` is the wall time a student watched it train (pauses left out);
``compute_seconds`` is what the epochs cost, the measure of epochs per second in ``--json``."""

from __future__ import annotations

import threading
import time

from quadtui.core.config import Config
from quadtui.core.control import Control
from quadtui.core.engine import Engine, Status

PACE = 20  # epochs per second: each epoch takes at least 1/20 s of wall time, and far less of compute


def test_elapsed_is_wall_time_at_a_set_pace_and_compute_time_gives_epochs_per_second() -> None:
    engine = Engine(Config(epochs=12, hidden=4))
    started = time.perf_counter()
    snap = engine.run(control=Control(speed=PACE))
    wall = time.perf_counter() - started
    assert snap.status is Status.DONE
    assert 12 / PACE <= snap.elapsed <= wall  # the pace's sleeps count: a student waited for them
    assert 0 < snap.compute_seconds < snap.elapsed
    summary = snap.summary()
    assert summary["seconds"] == round(snap.elapsed, 4)
    assert summary["epochs_per_s"] == round(12 / snap.compute_seconds, 1)


def test_elapsed_stops_while_paused() -> None:
    engine = Engine(Config(epochs=10, hidden=4))
    control = Control(paused=True, speed=PACE)
    control.step(4)
    idle = threading.Event()
    result = []

    def on_snapshot(snap) -> None:  # type: ignore[no-untyped-def]
        if snap.epoch == 4 and snap.status is Status.PAUSED:
            idle.set()

    worker = threading.Thread(target=lambda: result.append(engine.run(control=control, on_snapshot=on_snapshot)))
    started = time.perf_counter()
    worker.start()
    try:
        assert idle.wait(60)
        paused_at = time.perf_counter()
        time.sleep(0.5)  # the pause being measured: half a second of a student looking at the charts
        paused = time.perf_counter() - paused_at
        control.resume()
    finally:
        control.resume()
        worker.join(60)
    wall = time.perf_counter() - started
    snap = result[0]
    assert snap.status is Status.DONE and snap.epoch == 10
    assert snap.elapsed >= 6 / PACE  # the six epochs after the pause, at the pace
    assert snap.elapsed < wall - paused + 0.1  # the pause is left out (0.1: the moment the loop takes to idle)
