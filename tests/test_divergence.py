from __future__ import annotations

import numpy as np

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
