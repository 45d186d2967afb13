"""The engine trains exactly the notebook's run, and matches autograd + torch.optim everywhere."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
import torch

from quadtui.core import fastmlp
from quadtui.core.config import ACTIVATIONS, OPTIMIZERS, Config
from quadtui.core.data import make_dataset
from quadtui.core.engine import Engine, Status
from quadtui.core.fastmlp import FastMLP
from quadtui.core.model import build_model
from quadtui.core.optim import torch_optimizer


def test_default_run_equals_notebook_every_epoch(notebook_losses):
    engine = Engine()
    snap = engine.run()
    assert snap.status is Status.DONE
    ours = snap.train_loss.astype(np.float64)
    assert ours.shape == notebook_losses.shape == (5000,)
    np.testing.assert_allclose(ours, notebook_losses, rtol=1e-5, atol=0)
    # not just close: the notebook's .item() values are float32 losses, and ours are the same floats
    np.testing.assert_array_equal(snap.train_loss, notebook_losses.astype(np.float32))


def test_default_config_is_the_notebooks():
    c = Config()
    assert (c.lr, c.epochs, c.hidden, c.layers, c.activation, c.optimizer) == (0.02, 5000, 8, 1, "relu", "sgd")
    assert (c.samples, c.x_min, c.x_max, c.seed, c.noise, c.weight_decay) == (100, -5.0, 5.0, 19, 0.0, 0.0)
    assert c.full_batch and c.target == "x**2"


def test_data_is_the_notebooks_draw():
    np.random.seed(19)
    x = np.random.uniform(-5, 5, 100)
    data = make_dataset(Config())
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, x * x)
    np.testing.assert_array_equal(data.x_eval.reshape(-1).numpy(), np.linspace(-5, 5, 100).astype(np.float32))


@pytest.mark.parametrize("chunk", [1, 7, 100, 1250])
def test_chunked_stepping_equals_one_run(chunk, notebook_losses):
    epochs = 2500 if chunk > 1 else 500
    whole = Engine(Config(epochs=epochs))
    whole.advance(epochs)
    pieces = Engine(Config(epochs=epochs))
    while pieces.advance(chunk):
        pass
    assert pieces.epoch == epochs and pieces.status is Status.DONE
    np.testing.assert_array_equal(pieces.history.values, whole.history.values)
    np.testing.assert_allclose(whole.history.values, notebook_losses[:epochs], rtol=1e-5)


def _autograd_losses(config: Config, epochs: int) -> np.ndarray:
    data = make_dataset(config)
    model = build_model(config)
    opt = torch_optimizer(config, model)
    crit = torch.nn.MSELoss()
    out = []
    for _ in range(epochs):
        loss = crit(model(data.x_train), data.y_train)
        loss.backward()
        out.append(loss.item())
        opt.step()
        opt.zero_grad()
    return np.asarray(out)


@pytest.mark.parametrize("activation,optimizer", list(itertools.product(ACTIVATIONS, OPTIMIZERS)))
def test_fast_engine_matches_autograd(activation, optimizer):
    config = Config(
        activation=activation,
        optimizer=optimizer,
        hidden=6,
        layers=2 if optimizer in ("adam", "momentum") else 1,
        lr=0.004 if optimizer == "sgd" else 0.003,
        weight_decay=0.01 if optimizer in ("sgd", "rmsprop") else 0.0,
        epochs=150,
        seed=3,
    )
    engine = Engine(config)
    engine.advance(config.epochs)
    reference = _autograd_losses(config, config.epochs)
    np.testing.assert_allclose(engine.history.values, reference, rtol=1e-4)
    np.testing.assert_array_equal(engine.history.values, reference.astype(np.float32))


def test_trained_model_predicts_like_snapshot():
    engine = Engine(Config(epochs=200))
    engine.advance(200)
    snap = engine.snapshot()
    model = engine.trained_model()
    grid = torch.from_numpy(snap.grid).reshape(-1, 1).float()
    with torch.no_grad():
        np.testing.assert_allclose(model(grid).reshape(-1).numpy(), snap.prediction, rtol=1e-6)


def test_snapshot_contents():
    engine = Engine(Config(epochs=300, hidden=5))
    engine.advance(120)
    snap = engine.snapshot()
    assert snap.epoch == 120 and snap.train_loss.size == 120
    assert snap.hidden.shape == (100, 5) and snap.out_weights.shape == (5,)
    assert snap.prediction.shape == snap.grid.shape == (100,)
    # the prediction is the output layer applied to the hidden activations
    np.testing.assert_allclose(snap.hidden @ snap.out_weights + snap.out_bias, snap.prediction, rtol=1e-5, atol=1e-5)
    assert snap.eval_epochs[0] == 1 and np.all(np.diff(snap.eval_epochs) > 0)
    truth = snap.grid**2
    assert snap.eval_now == pytest.approx(float(np.mean((snap.prediction - truth) ** 2)), rel=1e-4)


def test_learning_rate_change_between_chunks_without_reset():
    engine = Engine(Config(epochs=400))
    engine.advance(200)
    engine.set_lr(0.005)
    engine.advance(200)
    assert engine.epoch == 400 and engine.config.lr == 0.005
    # the same as training 200 epochs at 0.02, then 200 at 0.005 by autograd
    model = build_model(Config())
    data = make_dataset(Config())
    opt = torch.optim.SGD(model.parameters(), lr=0.02)
    losses = []
    for i in range(400):
        if i == 200:
            opt.param_groups[0]["lr"] = 0.005
        loss = torch.nn.functional.mse_loss(model(data.x_train), data.y_train)
        loss.backward()
        losses.append(loss.item())
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(engine.history.values, losses, rtol=1e-5)


def test_live_learning_rate_changes_are_kept_as_a_schedule():
    engine = Engine(Config(epochs=400))
    engine.set_lr(0.01)  # before the first epoch: simply the run's rate
    assert engine.lr_schedule == () and engine.config.lr == 0.01
    engine.advance(100)
    engine.set_lr(0.01)  # no change
    assert engine.lr_schedule == ()
    engine.set_lr(0.005)
    engine.advance(50)
    engine.set_lr(0.02)
    engine.set_lr(0.03)  # twice before the next epoch: the last one counts
    assert engine.snapshot().lr_schedule == ((0, 0.01), (100, 0.005), (150, 0.03))
    engine.set_lr(0.005)  # and back before it trained: no change at epoch 150 after all
    assert engine.lr_schedule == ((0, 0.01), (100, 0.005))
    engine.reset()
    assert engine.lr_schedule == ()


def test_reset_returns_to_epoch_zero_with_same_weights():
    engine = Engine(Config(epochs=50))
    engine.advance(50)
    first = engine.history.values.copy()
    engine.reset()
    assert engine.epoch == 0 and engine.status is Status.READY and len(engine.history) == 0
    engine.advance(50)
    np.testing.assert_array_equal(engine.history.values, first)


def test_minibatch_runs_and_is_reproducible():
    config = Config(batch_size=16, epochs=40)
    a, b = Engine(config), Engine(config)
    a.advance(40)
    for _ in range(8):
        b.advance(5)
    np.testing.assert_array_equal(a.history.values, b.history.values)
    assert a.history.values[-1] < a.history.values[0]


def test_eval_losses_are_autograd_models_on_the_eval_grid():
    config = Config(epochs=300)  # eval_every = 1: the eval loss before every epoch's update
    engine = Engine(config)
    for chunk in (1, 40, 259):
        engine.advance(chunk)
    snap = engine.snapshot()
    data = make_dataset(config)
    model = build_model(config)
    opt = torch_optimizer(config, model)
    expected = []
    for _ in range(config.epochs):
        with torch.no_grad():
            expected.append(torch.nn.functional.mse_loss(model(data.x_eval), data.y_eval).item())
        torch.nn.functional.mse_loss(model(data.x_train), data.y_train).backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_array_equal(snap.eval_epochs, np.arange(1, 301))
    np.testing.assert_array_equal(snap.eval_loss, np.float32(expected))
    with torch.no_grad():
        now = torch.nn.functional.mse_loss(model(data.x_eval), data.y_eval).item()
    assert snap.eval_now == now


def test_eval_points_are_spread_over_the_run():
    engine = Engine(Config(epochs=2500))
    while engine.advance(333):
        pass
    snap = engine.snapshot()
    assert engine.eval_every == 3
    np.testing.assert_array_equal(snap.eval_epochs, np.arange(1, 2501, 3))
    assert snap.eval_loss.shape == snap.eval_epochs.shape and np.all(np.isfinite(snap.eval_loss))


@pytest.mark.parametrize("activation,layers", [("relu", 1), ("identity", 2), ("gelu", 3), ("softplus", 1)])
def test_fit_equals_one_step_at_a_time(activation, layers, monkeypatch):
    """FastMLP.fit (deferred losses, blocks of epochs, a probe) against step(), one epoch per call."""
    monkeypatch.setattr(fastmlp, "_BLOCK_ROWS", 16)  # several blocks, and a partial one
    config = Config(activation=activation, layers=layers, hidden=5, epochs=70, optimizer="momentum", lr=0.002)
    data = make_dataset(config)
    at = range(3, 70, 9)
    fitted, stepped = FastMLP(config, build_model(config)), FastMLP(config, build_model(config))
    losses, probe = torch.empty(70), torch.empty(len(at))
    fitted.fit(data.x_train, data.y_train, losses, (data.x_eval, data.y_eval, at, probe))
    expected_probe = []
    one_by_one = []
    for i in range(70):
        if i in at:
            expected_probe.append(stepped.loss(data.x_eval, data.y_eval))
        one_by_one.append(stepped.step(data.x_train, data.y_train))
    torch.testing.assert_close(losses, torch.stack(one_by_one), rtol=0, atol=0)
    torch.testing.assert_close(probe, torch.stack(expected_probe), rtol=0, atol=0)
    torch.testing.assert_close(fitted.flat, stepped.flat, rtol=0, atol=0)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_many_samples_on_two_threads_equal_autograd(two_threads):
    # beyond 32768 values torch may sum a mean in parallel pieces; a row-wise sum of a block would not
    config = Config(samples=40_000, epochs=3, hidden=3)
    engine = Engine(config)
    engine.advance(3)
    np.testing.assert_array_equal(engine.history.values, _autograd_losses(config, 3).astype(np.float32))


def _minibatch_autograd_losses(config: Config) -> np.ndarray:
    """The printed script's mini-batch loop: autograd, batches from a seeded DataLoader."""
    from torch.utils.data import DataLoader, TensorDataset

    data = make_dataset(config)
    model = build_model(config)
    opt = torch_optimizer(config, model)
    loader = DataLoader(
        TensorDataset(data.x_train, data.y_train),
        batch_size=config.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(config.seed),
    )
    out = []
    for _ in range(config.epochs):
        total = 0.0
        for x_batch, y_batch in loader:
            loss = torch.nn.functional.mse_loss(model(x_batch), y_batch)
            loss.backward()
            total += loss.item() * len(x_batch)
            opt.step()
            opt.zero_grad()
        out.append(total / config.samples)
    return np.float32(out)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_minibatch_equals_autograd(optimizer):
    config = Config(batch_size=30, epochs=25, optimizer=optimizer, lr=0.003, activation="tanh")  # last batch: 10
    engine = Engine(config)
    engine.advance(25)
    np.testing.assert_array_equal(engine.history.values, _minibatch_autograd_losses(config))


def test_cancel_from_another_thread_stops_a_long_run():
    engine = Engine(Config(epochs=10_000_000))
    cancel, going = threading.Event(), threading.Event()
    result = []

    def work():
        result.append(engine.run(cancel=cancel, on_progress=lambda epoch: epoch > 2000 and going.set()))

    worker = threading.Thread(target=work)
    worker.start()
    assert going.wait(60)
    cancel.set()
    worker.join(timeout=10)  # generous: run() looks at the flag between chunks of about 10 ms
    assert not worker.is_alive()
    assert result[0].status is Status.STOPPED
    assert 2000 < result[0].epoch < 10_000_000 and result[0].train_loss.size == result[0].epoch


def test_a_big_step_while_paused_runs_every_requested_epoch():
    import threading

    from quadtui.core.control import Control

    engine = Engine(Config(epochs=10_000))
    control = Control(paused=True)
    control.step(1)
    control.step(250)  # more than one chunk
    cancel = threading.Event()
    seen = []

    def on_snapshot(snap):
        seen.append(snap.epoch)
        if snap.epoch >= 251 and snap.status is Status.PAUSED:
            cancel.set()

    engine.run(cancel=cancel, control=control, on_snapshot=on_snapshot)
    assert engine.epoch == 251


def test_minibatches_work_for_the_largest_seeds():
    from quadtui.core.config import MAX_SEED

    engine = Engine(Config(seed=MAX_SEED, batch_size=25, epochs=3))
    engine.advance(3)
    assert engine.epoch == 3 and np.isfinite(engine.history.values).all()
