"""Pilot tests of time travel: scrubbing a run's checkpoints, replaying them, a running run going on."""

from __future__ import annotations

import numpy as np
import torch

from quadtui.core.config import Config
from quadtui.core.model import build_model
from quadtui.core.timeline import unflatten
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.network import NetworkChart
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from quadtui.tui.widgets.timeline import TimelineBar
from tests.conftest import CALM, Notes, finish, notified, until

RUN = Config(epochs=400, hidden=6, layers=2)


def prediction_with(config: Config, row: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The script's model, holding one checkpoint's weights, on the chart grid."""
    model = build_model(config)
    with torch.no_grad():
        for param, value in zip(model.parameters(), unflatten(row, [p.shape for p in model.parameters()])):
            param.copy_(torch.from_numpy(value))
        return model(torch.from_numpy(grid).reshape(-1, 1).float()).reshape(-1).double().numpy()


async def test_scrubbing_shows_every_chart_at_the_checkpoint_and_end_comes_back() -> None:
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        screen = app.train_screen
        fit, loss, neuron = app.query_one(FitChart), app.query_one(LossChart), app.query_one(NeuronChart)
        bar = app.query_one(TimelineBar)
        assert not bar.region.area  # nothing to show while the charts show the run as it is
        timeline = screen.last.timeline
        unmarked = loss.plain
        await pilot.press("escape", "home")
        await until(pilot, lambda: fit.up_to_date and fit.snapshot.epoch == 0, "the fit at epoch 0")
        assert screen.travel == 0 and fit.snapshot.epoch == neuron.snapshot.epoch == 0
        first = prediction_with(RUN, timeline.rows[0], fit.snapshot.grid)
        np.testing.assert_array_equal(fit.snapshot.prediction, first)
        assert loss.mark == 0 and loss.snapshot is screen.last  # the whole loss curve, its epoch marked
        assert loss.border_title.startswith("loss · ") and loss.border_title.endswith(" · ◆ epoch 0")
        await until(pilot, lambda: loss.up_to_date and loss.plain != unmarked, "the loss chart's mark")
        await until(pilot, lambda: bar.region.area and "epoch 0 of 400" in bar.text and "●" in bar.text, "the bar")
        await pilot.press("full_stop", "full_stop", "full_stop")
        index = 3
        epoch = int(timeline.epochs[index])
        await until(pilot, lambda: fit.snapshot.epoch == epoch and fit.up_to_date, "three checkpoints on")
        np.testing.assert_array_equal(
            fit.snapshot.prediction, prediction_with(RUN, timeline.rows[index], fit.snapshot.grid)
        )
        assert loss.mark == epoch and loss.border_title.endswith(f" · ◆ epoch {epoch:,}")
        await pilot.press("n")  # the network view shows the same moment
        net = app.query_one(NetworkChart)
        await until(pilot, lambda: net.up_to_date and f"epoch {epoch:,}/400" in net.plain, "the network then")
        await pilot.press("end")
        await until(pilot, lambda: net.snapshot is screen.last and not bar.region.area, "now again")
        await pilot.press("comma")  # from now: the checkpoint before the end
        assert screen.travel == len(timeline) - 2 and net.snapshot.epoch == timeline.epochs[-2]


async def test_replay_steps_through_the_checkpoints_and_ends_on_now() -> None:
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        screen = app.train_screen
        fit, bar = app.query_one(FitChart), app.query_one(TimelineBar)
        seen: set[int] = set()

        def moving() -> bool:
            if screen.travel is not None:
                seen.add(fit.snapshot.epoch)
            return len(seen) >= 3

        await pilot.press("escape", "p")
        assert screen.replaying
        await until(pilot, lambda: "▶ replay" in bar.text, "the bar to say so")
        await until(pilot, moving, "the replay to move")
        await until(pilot, lambda: screen.travel is None and not screen.replaying, "the end of the replay")
        assert fit.snapshot is screen.last and min(seen) < max(seen)
        await pilot.press("p", "p")  # again, and stop it: the charts stay where it stopped
        stopped = screen.travel
        assert not screen.replaying and stopped is not None
        await pilot.pause()
        assert screen.travel == stopped and fit.snapshot.epoch == screen.last.timeline.epochs[stopped]


async def test_a_running_run_goes_on_while_the_charts_look_back() -> None:
    app = QuadApp(Config(epochs=10_000_000), autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        fit = app.query_one(FitChart)
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 50, "some epochs")
        await pilot.press("escape", "comma")
        held = fit.snapshot.epoch
        assert screen.travel is not None and held < screen.last.epoch
        now = screen.last.epoch
        await until(pilot, lambda: screen.last.epoch > now + 30, "more epochs")
        assert fit.snapshot.epoch == held  # the charts stay on the checkpoint
        await pilot.press("end")
        await until(pilot, lambda: fit.snapshot is screen.last and fit.snapshot.epoch > now + 30, "following again")


async def test_time_travel_keys_without_a_run_say_so(notes: Notes) -> None:
    app = QuadApp(RUN)
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        await pilot.press("ctrl+b", "home")  # the form hidden: the keys reach the screen
        await notified(pilot, notes, lambda n: "No checkpoints yet" in n.message, "a note")


async def test_in_a_real_terminal_past_states_come_from_another_process_and_replay_works(monkeypatch) -> None:
    """The app in a terminal has no torch: the checkpoints' states are computed in a forked process."""
    from quadtui.core import remote
    from quadtui.tui import worker

    monkeypatch.setattr(worker, "IN_PROCESS", True)  # the real terminal's way: runs (and torch) elsewhere
    asked = []
    real_call = remote.call

    def call(function, *args):
        asked.append(function.__name__)
        return real_call(function, *args)

    monkeypatch.setattr(remote, "call", call)
    app = QuadApp(RUN, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        screen = app.train_screen
        fit = app.query_one(FitChart)
        timeline = screen.last.timeline
        await pilot.press("escape", "home", "full_stop", "full_stop")
        epoch = int(timeline.epochs[2])
        await until(pilot, lambda: fit.snapshot.epoch == epoch and fit.up_to_date, "two checkpoints on")
        expected = prediction_with(RUN, timeline.rows[2], fit.snapshot.grid)
        np.testing.assert_array_equal(fit.snapshot.prediction, expected)
        await pilot.press("p")  # the replay steps through states fetched a batch at a time
        await until(pilot, lambda: screen.travel is None and not screen.replaying, "the replay's end", 60)
        assert fit.snapshot is screen.last
        assert asked and set(asked) == {"past_states"}  # in batches: far fewer calls than states shown
        assert len(asked) < len(timeline) / 4
