"""The app training in a child process (what a real terminal gets), driven by keys through Pilot.

Under ``App.run_test`` the app trains in its worker thread (see quadtui.tui.worker);
these tests switch to the child process and check that it changes nothing a
user can see: the same numbers as the headless engine, pause / step / resume,
a new run replacing the old one, and a training process that dies.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from benchmarks.ptyrun import training_processes
from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status
from quadtui.tui import worker
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.chart import Chart
from tests.conftest import Notes, answer_path, until

LONG = Config(epochs=10_000_000)


@pytest.fixture(autouse=True)
def in_process(monkeypatch) -> None:
    monkeypatch.setattr(worker, "IN_PROCESS", True)


async def test_a_run_in_a_child_process_shows_exactly_the_headless_numbers() -> None:
    config = Config(epochs=1500, hidden=5, lr=0.05, activation="tanh")
    expected = Engine(config).run()
    app = QuadApp(config, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.finished, "the run to finish")
        shown = screen.last
        assert shown.status is Status.DONE and shown.epoch == 1500
        for name in ("train_loss", "eval_epochs", "eval_loss", "prediction", "hidden", "out_weights"):
            assert np.array_equal(getattr(shown, name), getattr(expected, name)), name
        assert shown.eval_now == expected.eval_now and shown.out_bias == expected.out_bias
        assert len(shown.weights) == len(expected.weights) == 4  # what an export writes
        assert all(np.array_equal(a, b) for a, b in zip(shown.weights, expected.weights))
        assert np.array_equal(shown.history.values, expected.history.values)
        charts = [c for c in app.query(Chart) if c.region.area]
        await until(pilot, lambda: all(c.up_to_date for c in charts), "the charts to be drawn")
        fit = app.query_one("#fit-chart", Chart)
        assert fit.snapshot is shown and "▀▄ model" in fit.legend_text  # drawn from the final snapshot
        assert fit.border_title == "fit · epoch 1,500"


async def test_pause_step_and_resume_reach_the_child_process() -> None:
    app = QuadApp(LONG, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        screen.speed = 300  # calm: Pilot waits for an idle app after each key
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        await pilot.press("space")
        await until(pilot, lambda: screen.last.status is Status.PAUSED, "the pause")
        paused_at = screen.last.epoch
        await pilot.press("s")
        await until(pilot, lambda: screen.last.epoch == paused_at + 1, "one step")
        assert screen.last.status is Status.PAUSED
        await pilot.press("space")
        await until(
            pilot, lambda: screen.last.epoch > paused_at + 1 and screen.last.status is Status.TRAINING, "training again"
        )


async def test_a_new_run_replaces_the_old_process_and_gets_a_new_run_id() -> None:
    app = QuadApp(LONG, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        first_worker, first_id = screen.worker, screen.last.run_id
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.worker is not first_worker, "a new run")
        await until(pilot, lambda: screen.last.run_id != first_id and screen.last.epoch > 0, "the new run")
        # the old run's process was told to stop, and did
        await until(pilot, lambda: len(training_processes()) == 1, "one training process")
        await pilot.press("ctrl+q")
    for _ in range(500):  # quitting stops it too (bounded wait: it gets the cancel within 50 ms)
        if not training_processes():
            break
        time.sleep(0.01)
    assert training_processes() == []


async def test_a_training_process_that_dies_is_an_error_and_the_run_stays_on_screen() -> None:
    app = QuadApp(LONG, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        [pid] = training_processes()
        os.kill(pid, signal.SIGKILL)
        await until(pilot, lambda: screen.error is not None, "the error")
        assert "training process ended unexpectedly" in screen.error
        assert screen.last.status is Status.ERROR and screen.last.epoch > 0
        await pilot.press("ctrl+t")  # the app stays usable: a new run trains
        await until(pilot, lambda: screen.error is None and screen.last.status is Status.TRAINING, "a new run")


async def test_a_run_deep_in_a_long_epoch_is_stopped_at_once_when_replaced_or_on_quit() -> None:
    slow = Config(samples=100_000, batch_size=1, lr=0.0001, epochs=100)  # seconds per epoch
    app = QuadApp(slow, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        found: list[int] = []

        def one_process() -> bool:
            found[:] = training_processes()  # the same list is checked and used
            return len(found) == 1

        await until(pilot, one_process, "the training process")
        [first] = found
        asked = time.perf_counter()
        await pilot.press("ctrl+t")  # a new run: the old one is mid-epoch and cannot stop by itself soon
        await until(pilot, lambda: first not in training_processes(), "the old process to end")
        replaced = time.perf_counter() - asked
        assert screen.error is None  # a cancelled run is not an error
        await pilot.press("ctrl+q")
    assert replaced < 2, f"the old run took {replaced:.2f} s to stop"
    for _ in range(200):
        if not training_processes():
            break
        time.sleep(0.01)
    assert training_processes() == []


async def test_the_training_process_yields_the_cpu_to_the_ui() -> None:
    app = QuadApp(LONG, autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0, "training")
        [pid] = training_processes()
        ui = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19 > ui  # the lowest priority: any UI's key wins
        # and a scheduling group of its own: under autogroup, niceness only orders a session's processes
        assert os.getsid(pid) == pid != os.getsid(0)
        if os.path.exists("/proc/self/autogroup"):
            with open(f"/proc/{pid}/autogroup") as f:
                assert f.read().split()[-1] == "19"
        await pilot.press("ctrl+q")


async def test_an_export_is_written_by_a_child_process_and_holds_the_run(tmp_path, notes: Notes) -> None:
    import torch

    config = Config(epochs=400, hidden=4)
    app = QuadApp(config, autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.finished, "the run to finish")
        before = set(training_processes())
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, tmp_path / "exp")
        await until(pilot, lambda: "Exported" in notes.titles(), "the export", seconds=40)
        assert set(training_processes()) <= before  # the export's process has ended
    state = torch.load(tmp_path / "exp" / "model.pt", weights_only=True)
    expected = Engine(config).run()
    first = next(iter(state.values()))
    assert np.array_equal(first.numpy(), expected.weights[0])


@pytest.fixture
def spawned(monkeypatch) -> list[tuple[str, str]]:
    """(function, job) of every process the app asks the fork server for."""
    from quadtui.core.forkserver import ForkServer

    asked: list[tuple[str, str]] = []
    spawn = ForkServer.spawn

    def recorded(self, function, *args):
        asked.append((function.__qualname__, getattr(args[0], "__qualname__", "") if args else ""))
        return spawn(self, function, *args)

    monkeypatch.setattr(ForkServer, "spawn", recorded)
    return asked


async def test_a_sweep_trains_in_a_child_process_with_the_single_runs_numbers(spawned) -> None:
    from tests.conftest import finished

    config = Config(epochs=200)
    app = QuadApp(config, sweep="hidden=1,2,4")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await finished(pilot, app)
        expected = [Engine(config.replace(hidden=h)).run().train_now for h in (1, 2, 4)]
        assert [m.final_loss for m in screen.result.members] == expected
        assert ("_stream_child", "sweep_job") in spawned  # torch worked in a child, not in the UI process


async def test_a_grid_trains_in_a_child_process_with_the_single_runs_numbers(spawned) -> None:
    from quadtui.tui.screens.sweep_grid import GridScreen

    config = Config(epochs=150)
    app = QuadApp(config, grid=["hidden=2,4", "seed=1,2"])
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, GridScreen) and app.screen.worker is not None, "a grid")
        screen = app.screen
        await screen.worker.wait()
        await until(pilot, lambda: screen.result is not None, "the grid's results")
        expected = [Engine(config.replace(hidden=h, seed=s)).run().train_now for h in (2, 4) for s in (1, 2)]
        assert [m.final_loss for m in screen.result.members] == expected
        assert ("_stream_child", "grid_job") in spawned


async def test_a_sweep_whose_process_cannot_start_says_so_in_one_line(monkeypatch) -> None:
    from textual.widgets import Static

    from quadtui.core.forkserver import ForkServer, ServerError
    from quadtui.tui.screens.sweep import SweepScreen

    def refused(self, function, *args):
        raise ServerError("cannot start a process: Resource temporarily unavailable")

    monkeypatch.setattr(ForkServer, "spawn", refused)
    app = QuadApp(Config(epochs=200), sweep="hidden=1,2")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.error is not None, "the error")
        state = str(app.screen.query_one("#sweep-state", Static).render())
        assert state == "error: ServerError: cannot start a process: Resource temporarily unavailable"
