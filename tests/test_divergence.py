from __future__ import annotations

import numpy as np
import pytest
import torch

from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status


def test_high_learning_rate_diverges_and_keeps_last_finite_state():
    engine = Engine(Config(lr=5))
    snap = engine.run()
    assert snap.status is Status.DIVERGED
    assert snap.diverged_at is not None and snap.diverged_at == snap.epoch + 1
    assert np.all(np.isfinite(snap.train_loss))
    assert np.all(np.isfinite(snap.prediction)) and np.all(np.isfinite(snap.hidden))
    assert snap.summary()["diverged_at"] == snap.diverged_at


def test_divergence_epoch_does_not_depend_on_chunking():
    whole = Engine(Config(lr=5))
    whole.advance(5000)
    stepped = Engine(Config(lr=5))
    while stepped.advance(1):
        pass
    assert whole.diverged_at == stepped.diverged_at
    np.testing.assert_array_equal(whole.history.values, stepped.history.values)


def test_diverged_engine_does_not_advance():
    engine = Engine(Config(lr=5))
    engine.advance(100)
    assert engine.advance(100) == 0


@pytest.mark.parametrize("optimizer,lr", [("sgd", 5.0), ("sgd", 0.05), ("momentum", 2.0)])
def test_rollback_keeps_the_state_of_the_last_finite_loss(optimizer, lr):
    config = Config(lr=lr, optimizer=optimizer)
    diverged = Engine(config)
    diverged.advance(5000)
    assert diverged.status is Status.DIVERGED
    # the kept state is the one whose loss was the last finite one: after epoch - 1 updates
    replay = Engine(config)
    replay.advance(diverged.epoch - 1)
    torch.testing.assert_close(diverged.net.flat, replay.net.flat, rtol=0, atol=0)
    for kept, fresh in zip(diverged.net.optimizer.state(), replay.net.optimizer.state()):
        torch.testing.assert_close(kept, fresh, rtol=0, atol=0)
    assert diverged.net.optimizer.steps == replay.net.optimizer.steps
    np.testing.assert_array_equal(diverged.history.values[:-1], replay.history.values)


def test_eval_points_stop_at_divergence():
    engine = Engine(Config(lr=5))
    snap = engine.run()
    assert snap.status is Status.DIVERGED
    assert snap.eval_epochs.size and snap.eval_epochs[-1] <= snap.epoch
    assert snap.eval_epochs.size == snap.eval_loss.size == len(range(1, snap.epoch + 1, engine.eval_every))


def test_minibatch_run_diverges_too():
    engine = Engine(Config(lr=5, batch_size=25, epochs=200))
    snap = engine.run()
    assert snap.status is Status.DIVERGED and np.all(np.isfinite(snap.train_loss))
    assert np.all(np.isfinite(snap.prediction))
