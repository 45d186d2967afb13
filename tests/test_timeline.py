"""The timeline: which states a run keeps, that each is exact, that keeping them changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status
from quadtui.core.model import build_model
from quadtui.core.remote import _Mirror, _Shipper
from quadtui.core.timeline import BUDGET_BYTES, MAX_CHECKPOINTS, Timeline, schedule, state_at, unflatten


def model_at(engine: Engine, row: np.ndarray) -> torch.nn.Module:
    """The script's nn.Sequential holding one kept state."""
    model = build_model(engine.config)
    shapes = [p.shape for p in model.parameters()]
    with torch.no_grad():
        for param, value in zip(model.parameters(), unflatten(row, shapes)):
            param.copy_(torch.from_numpy(value))
    return model


@pytest.mark.parametrize(
    "config",
    [
        Config(epochs=2000),
        Config(epochs=1500, hidden=16, layers=2, activation="tanh", optimizer="adam"),
        Config(epochs=800, lr=0.002, optimizer="momentum", weight_decay=0.01, activation="gelu", layers=3, hidden=5),
    ],
    ids=["notebook", "adam-2-layers", "momentum-decay-gelu"],
)
def test_every_kept_state_has_the_runs_loss_bit_for_bit(config):
    engine = Engine(config)
    snap = engine.run()
    timeline = snap.timeline
    assert snap.status is Status.DONE
    assert timeline.epochs[0] == 0 and timeline.epochs[-1] == config.epochs  # from the start to the end
    for state, row in zip(timeline.epochs.tolist(), timeline.rows):
        if state == config.epochs:  # the trained network: the snapshot's own weights
            for mine, theirs in zip(model_at(engine, row).parameters(), snap.weights):
                np.testing.assert_array_equal(mine.detach().numpy(), theirs)
            continue
        with torch.no_grad():
            loss = F.mse_loss(model_at(engine, row)(engine.data.x_train), engine.data.y_train)
        assert loss.numpy() == snap.train_loss[state], state


def test_keeping_checkpoints_changes_no_number():
    config = Config(epochs=700, hidden=6, layers=2, optimizer="adam")
    kept, bare = Engine(config), Engine(config)
    bare.timeline.due = lambda start, n: []  # type: ignore[method-assign]
    a, b = kept.run(), bare.run()
    assert len(a.timeline) > 100 and len(bare.timeline.epochs) == 0
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    np.testing.assert_array_equal(a.eval_loss, b.eval_loss)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x, y)


def test_the_schedule_keeps_every_epoch_first_then_log_spaced_to_the_end():
    assert schedule(10, 100).tolist() == list(range(11))
    states = schedule(1_000_000, 1000)
    assert states.size <= 1000 and states[0] == 0 and states[-1] == 1_000_000
    assert states[:500].tolist() == list(range(500))  # every epoch at the start
    gaps = np.diff(states[500:])
    assert gaps[-1] > 100 * max(1, gaps[0])  # thinning out: far apart at the end
    assert (np.diff(np.log(states[500:])) < 0.02).all()  # evenly on a log scale


def test_a_wide_net_keeps_fewer_checkpoints_within_the_memory_budget():
    small = Engine(Config(epochs=100_000)).timeline
    wide = Engine(Config(epochs=100_000, hidden=256, layers=4)).timeline
    assert small.wanted.size == MAX_CHECKPOINTS
    assert wide.wanted.size < 100 and wide.nbytes <= BUDGET_BYTES
    short_wide = Engine(Config(epochs=300, hidden=256, layers=2)).timeline
    assert short_wide.wanted.size < 40  # a short run of a wide net: copies would cost too much of it


def test_a_diverged_run_keeps_only_states_up_to_its_last_good_one():
    engine = Engine(Config(lr=5.0, epochs=500))
    snap = engine.run()
    assert snap.status is Status.DIVERGED
    epochs = snap.timeline.epochs
    assert epochs.size and epochs[-1] < engine.epoch + 1 and (np.diff(epochs) > 0).all()
    for state, row in zip(epochs.tolist(), snap.timeline.rows):
        with torch.no_grad():
            loss = F.mse_loss(model_at(engine, row)(engine.data.x_train), engine.data.y_train)
        assert loss.numpy() == snap.train_loss[state]


def test_minibatch_runs_keep_states_and_state_zero_is_the_initial_network():
    engine = Engine(Config(epochs=50, batch_size=10))
    snap = engine.run()
    assert snap.timeline.epochs.tolist() == list(range(51))
    initial = build_model(engine.config)
    for mine, theirs in zip(model_at(engine, snap.timeline.rows[0]).parameters(), initial.parameters()):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())


def test_a_past_state_is_what_the_model_computes_with_those_weights():
    engine = Engine(Config(epochs=300, hidden=6, layers=2))
    snap = engine.run()
    index = 40
    past = state_at(snap, index)
    model = model_at(engine, snap.timeline.rows[index])
    x = torch.from_numpy(snap.grid).reshape(-1, 1).float()
    with torch.no_grad():
        expected = model(x).reshape(-1).double().numpy()
        first = model[1](model[0](x)).double().numpy()
    assert past.epoch == snap.timeline.epochs[index] == 40
    np.testing.assert_array_equal(past.prediction, expected)
    np.testing.assert_array_equal(past.layers[0], first)
    assert past.hidden is past.layers[-1] and len(past.dead) == 2


def test_the_training_process_ships_each_checkpoint_once():
    engine = Engine(Config(epochs=600))
    ship, mirror = _Shipper(), _Mirror(engine.config)
    sent = 0
    while engine.advance(37):
        delta = ship.delta(engine.snapshot())
        sent += delta["timeline"][0].size
        rebuilt = mirror.apply(delta)
    assert sent == len(engine.timeline.epochs)
    np.testing.assert_array_equal(rebuilt.timeline.epochs, engine.timeline.epochs)
    np.testing.assert_array_equal(rebuilt.timeline.rows, engine.timeline.rows)


def test_a_timeline_stores_only_the_states_it_wants_in_order():
    timeline = Timeline(epochs=10, size=3, slots=4)
    assert timeline.wanted.tolist() == [0, 1, 2, 10]  # two one by one, two log-spaced to the end
    for state in range(11):
        timeline.keep(state, np.full(3, state, dtype=np.float32))
    assert timeline.epochs.tolist() == timeline.wanted.tolist()
    assert timeline.rows[:, 0].tolist() == timeline.wanted.tolist()
    timeline.forget_after(4)
    assert timeline.epochs[-1] <= 4
