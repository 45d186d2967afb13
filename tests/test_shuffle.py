"""Mini-batches come in the order the printed script's DataLoader yields them."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from quadtui.core.codegen import script_for
from quadtui.core.config import MAX_SEED, Config
from quadtui.core.data import make_dataset
from quadtui.core.engine import Engine, Status
from quadtui.core.shuffle import EpochShuffle
from quadtui.core.sweep.wide import WideMLP

EPOCHS = 3


def dataloader_batches(config: Config, epochs: int) -> list[torch.Tensor]:
    """The x of every batch the script's DataLoader yields, epoch after epoch."""
    data = make_dataset(config)
    loader = DataLoader(
        TensorDataset(data.x_train, data.y_train),
        batch_size=config.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(config.seed),
    )
    return [x_batch for _ in range(epochs) for x_batch, _ in loader]


@pytest.mark.parametrize("batch_size", [1, 7, 16])
def test_the_engine_steps_through_the_batches_dataloader_yields(batch_size):
    config = Config(batch_size=batch_size, epochs=EPOCHS, lr=0.001)  # 0.02 diverges in batches of 1
    engine = Engine(config)
    seen = []
    step = engine.net.step
    engine.net.step = lambda x, y: seen.append(x.clone()) or step(x, y)
    engine.run()
    expected = dataloader_batches(config, EPOCHS)
    assert len(seen) == len(expected) == EPOCHS * -(-config.samples // batch_size)
    for ours, theirs in zip(seen, expected):
        assert torch.equal(ours, theirs)


def test_the_full_batch_is_the_notebooks_unshuffled_batch():
    """batch_size 'full' (or every sample): the notebook's loop, no DataLoader, no shuffling."""
    for config in (Config(epochs=EPOCHS), Config(epochs=EPOCHS, batch_size=100)):
        engine = Engine(config)
        seen = []
        fit = engine.net.fit
        engine.net.fit = lambda x, y, losses, probe=None, **kw: seen.append(x.clone()) or fit(x, y, losses, probe, **kw)
        engine.run()
        assert seen and all(torch.equal(x, engine.data.x_train) for x in seen)
        assert "DataLoader" not in script_for(config) and "model(x_train)" in script_for(config)


@pytest.mark.parametrize("samples,seed", [(2, 0), (33, 19), (100, MAX_SEED)])
def test_epoch_orders_are_the_dataloaders(samples, seed):
    config = Config(samples=samples, batch_size=1, seed=seed)
    shuffle = EpochShuffle(samples, seed)
    indices = torch.arange(samples, dtype=torch.float32).reshape(-1, 1)
    loader = DataLoader(
        TensorDataset(indices), batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(config.seed)
    )
    for _ in range(4):
        theirs = torch.cat([batch.reshape(-1) for (batch,) in loader]).long()
        assert torch.equal(shuffle.next_order(), theirs)


def test_a_sweeps_wide_model_draws_the_dataloaders_orders():
    configs = [Config(batch_size=16, lr=lr, epochs=EPOCHS) for lr in (0.01, 0.02)]
    model = WideMLP(configs, [make_dataset(c) for c in configs])
    orders = []
    draw = model.shuffle.next_order
    model.shuffle.next_order = lambda: orders.append(draw()) or orders[-1]
    model.fit(EPOCHS)
    data = make_dataset(configs[0])
    batches = [data.x_train[order] for order in orders]
    assert torch.equal(torch.cat(batches), torch.cat(dataloader_batches(configs[0], EPOCHS)))


def test_a_diverging_mini_batch_run_rolls_back_to_the_state_its_own_batches_led_to():
    """The rollback replays the chunk: it must draw the same orders again, not the next ones."""
    config = Config(batch_size=16, lr=0.045, epochs=50)
    engine = Engine(config)
    engine.advance(50)  # one chunk, diverging in its third epoch: back to the state after the first
    assert engine.status is Status.DIVERGED and engine.diverged_at == 3
    again = Engine(config)
    again.advance(1)
    assert all(torch.equal(ours, theirs) for ours, theirs in zip(engine.net.params, again.net.params))
