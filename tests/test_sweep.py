"""Sweeps: spec parsing, members equal to their single runs, divergence, cancel, CLI output."""

from __future__ import annotations

import itertools
import json
import threading

import numpy as np
import pytest
import torch

from quadtui.cli.sweep import run_sweep_cli
from quadtui.core.config import ACTIVATIONS, OPTIMIZERS, Config, ConfigError
from quadtui.core.data import make_dataset, make_datasets
from quadtui.core.engine import Engine
from quadtui.core.fastmlp import ROWWISE_MAX
from quadtui.core.sweep.batched import EXACT_ACTIVATIONS, BatchedMLP
from quadtui.core.sweep.layout import unit_slots, whole_vectors, wide_key
from quadtui.core.sweep.runner import Sweep, SweepProgress
from quadtui.core.sweep.spec import parse_sweep_spec
from quadtui.core.sweep.wide import WideMLP

BASE = Config()


# -- parsing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec,param,values",
    [
        ("hidden=1,2,4,8,16,32", "hidden", [1, 2, 4, 8, 16, 32]),
        ("lr=0.001,0.003,0.01,0.03", "lr", [0.001, 0.003, 0.01, 0.03]),
        (" LR = 0.001:0.1:5 ", "lr", [0.001, 0.00316228, 0.01, 0.0316228, 0.1]),
        ("momentum=0:0.9:4", "momentum", [0.0, 0.3, 0.6, 0.9]),
        ("activation=relu,tanh", "activation", ["relu", "tanh"]),
        ("optimizer=sgd,Adam", "optimizer", ["sgd", "adam"]),
        ("batch-size=full,10", "batch_size", [None, 10]),
    ],
)
def test_parse_good_specs(spec, param, values):
    got_param, got = parse_sweep_spec(spec, BASE)
    assert got_param == param
    assert got == pytest.approx(values) if param in ("lr", "momentum") else got == values


@pytest.mark.parametrize(
    "spec,field,needle",
    [
        ("hidden", "sweep", "NAME=V1,V2"),
        ("depth=1,2", "sweep", "a field to sweep"),
        ("hidden=1,300", "hidden", "from 1 to 256"),
        ("lr=0.01,-1", "lr", "> 0"),
        ("activation=relu,swish", "activation", "one of relu"),
        ("lr=0.1:1", "lr", "START:STOP:COUNT"),
        ("lr=0.1:1:1", "lr", "COUNT from 2 to 64"),
        ("activation=relu:tanh:2", "activation", "values separated by commas"),
        ("hidden=1,,2", "hidden", "none empty"),
        ("hidden=2,2", "hidden", "each value once"),
        ("hidden=" + ",".join(str(i) for i in range(1, 66)), "sweep", "at most 64"),
        ("batch_size=10,200", "batch_size", "100"),
    ],
)
def test_parse_bad_specs_name_field_and_rule(spec, field, needle):
    with pytest.raises(ConfigError) as info:
        parse_sweep_spec(spec, BASE)
    assert info.value.field == field
    assert needle in str(info.value) and "\n" not in str(info.value)


# -- each member is its single run -------------------------------------------------------------------------
def _single(config: Config) -> Engine:
    engine = Engine(config)
    engine.run()
    return engine


@pytest.mark.parametrize(
    "param,values,groups",
    [
        # widths 1 to 8 as one WideMLP; width 4 sums its bias gradient in its own order
        ("hidden", [1, 2, 4, 8], [[0, 1, 2, 3]]),
        ("lr", [0.005, 0.01, 0.02], [[0, 1, 2]]),
    ],
)
def test_members_equal_single_runs_over_the_notebooks_5000_epochs(param, values, groups):
    result = Sweep(BASE, param, values).run()
    assert result.groups == groups
    for member in result.members:
        single = _single(member.config)
        assert member.status == "done" and member.epochs_run == 5000
        assert member.final_loss == pytest.approx(single.history.last(), rel=1e-4)
        # in fact bit-identical, every epoch:
        np.testing.assert_array_equal(member.history.values, single.history.values)
        snap = single.snapshot()
        assert member.eval_loss == pytest.approx(snap.eval_now, rel=1e-6)
        np.testing.assert_allclose(member.prediction, snap.prediction, rtol=1e-6)


@pytest.mark.parametrize("width", range(1, 17))
def test_output_product_is_products_then_ones_in_the_modelled_order(width):
    """What WideMLP relies on: MKL's (N×H) @ (H×1) rounds each product and sums them in an
    order that does not depend on the row count, and a member's products laid into the
    columns ``unit_slots`` gives keep their sums exactly inside a wider product."""
    gen = torch.Generator().manual_seed(width)
    h, w = torch.randn(100, width, generator=gen), torch.randn(width, 1, generator=gen)
    single = h @ w
    stacked = torch.cat([h * w.t(), torch.randn(300, width, generator=gen)]) @ torch.ones(width, 1)
    assert torch.equal(stacked[:100], single)
    for storage in (width, 16, 20):
        slots = unit_slots(width, storage)
        if slots is None:
            continue
        wide = torch.zeros(100, storage)
        wide[:, slots] = h * w.t()
        assert torch.equal(wide @ torch.ones(storage, 1), single), storage


@pytest.mark.parametrize(
    "param,values",
    [
        ("lr", [round(0.002 * (i + 1), 4) for i in range(16)]),
        ("hidden", list(range(1, 17))),
        ("hidden", [2, 3, 5, 7]),  # storage width 7: the narrower members sum their bias gradients apart
        ("hidden", [4, 5, 6, 7, 12]),
    ],
)
def test_wide_batches_of_sixteen_are_exact(param, values):
    base = Config(epochs=300)
    result = Sweep(base, param, values).run()
    assert result.groups == [list(range(len(values)))]  # one WideMLP
    configs = [m.config for m in result.members]
    assert WideMLP(configs, [make_dataset(c) for c in configs]).inexact == []  # none trained alone
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)


def test_wide_losses_over_more_samples_than_one_row_wise_sum_are_exact():
    """Above ROWWISE_MAX samples (where threads may split a sum) losses are taken row by row, as a single run does."""
    base = Config(samples=4 * ROWWISE_MAX, epochs=3)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = Sweep(base, "lr", [0.01, 0.02]).run()
        singles = [_single(member.config).history.values for member in result.members]
    finally:
        torch.set_num_threads(threads)
    assert result.groups == [[0, 1]]
    for member, single in zip(result.members, singles):
        np.testing.assert_array_equal(member.history.values, single)


@pytest.mark.parametrize("optimizer", ["momentum", "adam", "rmsprop"])
def test_wide_sweeps_with_stateful_optimizers_stay_exact_past_adams_bias_correction(optimizer):
    """After ~356 steps Adam's 1 - beta1**t is 1.0 and the step is -lr itself: the batch takes that shortcut."""
    base = Config(optimizer=optimizer, epochs=400, weight_decay=0.001, momentum=0.5)
    result = Sweep(base, "hidden", [3, 8]).run()
    assert result.groups == [[0, 1]]
    assert wide_key(base) is not None
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)


@pytest.mark.parametrize("activation,optimizer", list(itertools.product(sorted(EXACT_ACTIVATIONS), OPTIMIZERS)))
def test_wide_model_is_exact(activation, optimizer):
    base = Config(activation=activation, optimizer=optimizer, epochs=60, weight_decay=0.001, momentum=0.5)
    configs = [base.replace(hidden=3, lr=0.01), base.replace(hidden=12, lr=0.004, seed=3)]  # mixed widths and data
    model = WideMLP(configs, [make_dataset(c) for c in configs])
    assert model.inexact == []
    losses = model.fit(60).numpy()
    for k, config in enumerate(configs):
        np.testing.assert_array_equal(losses[:, k], _single(config).history.values, err_msg=str(config.diff(base)))
        for got, want in zip(model.member_params(k), _single(config).trained_model().parameters()):
            assert torch.equal(got, want.detach())


@pytest.mark.parametrize(
    "activation,optimizer",
    list(itertools.product(["relu", "leaky_relu", "identity"], OPTIMIZERS)),
)
def test_every_batched_activation_and_optimizer_is_exact(activation, optimizer):
    base = Config(activation=activation, optimizer=optimizer, epochs=60, weight_decay=0.001, momentum=0.5)
    configs = [base.replace(hidden=3, lr=0.01), base.replace(hidden=6, lr=0.004)]  # padded, two rates
    model = BatchedMLP(configs, [make_dataset(c) for c in configs])
    with torch.inference_mode():
        losses = torch.stack([model.step() for _ in range(60)]).numpy()
    for k, config in enumerate(configs):
        np.testing.assert_array_equal(losses[:, k], _single(config).history.values, err_msg=str(config.diff(base)))


@pytest.mark.parametrize("activation", sorted(set(ACTIVATIONS) - EXACT_ACTIVATIONS))
def test_smooth_activations_with_units_in_a_scalar_tail_train_alone_and_match(activation):
    base = Config(activation=activation, epochs=30, hidden=3)  # 300 floats: whole vectors and a tail
    assert not whole_vectors(base.samples * base.hidden)
    result = Sweep(base, "lr", [0.01, 0.02]).run()
    assert result.groups == [[0], [1]]
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)


@pytest.mark.skipif(not whole_vectors(100 * 8), reason="this CPU's vectors do not divide 800 floats")
@pytest.mark.parametrize("activation", sorted(set(ACTIVATIONS) - EXACT_ACTIVATIONS))
def test_smooth_activations_in_whole_vectors_batch_exactly(activation):
    """tanh, exp, erf... round alike in every vector lane: with no scalar tail a batch is exact, mixed
    widths too (units no member has stay zero although sigmoid(0) and softplus(0) are not)."""
    base = Config(activation=activation, epochs=200)
    result = Sweep(base, "hidden", [8, 16]).run()
    assert result.groups == [[0, 1]]
    configs = [m.config for m in result.members]
    assert WideMLP(configs, make_datasets(configs)).inexact == []
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)


def test_smooth_activations_train_alone_with_more_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # a split range leaves a scalar tail at each split
    try:
        assert wide_key(Config(activation="tanh")) is None
        assert wide_key(Config(activation="relu")) is not None
    finally:
        torch.set_num_threads(threads)


def test_two_hidden_layers_and_different_seeds_batch_exactly():
    base = Config(layers=2, hidden=5, epochs=80, lr=0.005)
    result = Sweep(base, "seed", [1, 2, 3]).run()
    assert result.groups == [[0, 1, 2]]
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)


def test_masked_padding_leaves_members_unchanged():
    """A member padded to a wider batch trains exactly as in a batch of its own width."""
    config = Config(hidden=3, activation="leaky_relu", epochs=100, lr=0.01)
    alone = BatchedMLP([config, config], [make_dataset(config)] * 2)
    wide = BatchedMLP([config, config.replace(hidden=12)], [make_dataset(config)] * 2)
    with torch.inference_mode():
        a = torch.stack([alone.step() for _ in range(100)])[:, 0]
        b = torch.stack([wide.step() for _ in range(100)])[:, 0]
    assert torch.equal(a, b)
    # the padded units' weights are exactly zero still
    assert torch.count_nonzero(wide.weights[0][0, 3:]) == 0 and torch.count_nonzero(wide.weights[1][0, :, 3:]) == 0
    assert torch.count_nonzero(wide.biases[0][0, 3:]) == 0
    for got, want in zip(wide.member_params(0), alone.member_params(0)):
        assert torch.equal(got, want)


def test_groups_by_shape_optimizer_and_batches():
    result = Sweep(Config(epochs=30), "optimizer", ["sgd", "adam"]).run()
    assert result.groups == [[0], [1]]
    result = Sweep(Config(epochs=20), "batch_size", [None, 25, 50]).run()  # batches cut otherwise
    assert result.groups == [[0], [1], [2]]
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)
    result = Sweep(Config(epochs=20, batch_size=16), "seed", [1, 2]).run()  # shuffled otherwise
    assert result.groups == [[0], [1]]


@pytest.mark.parametrize("samples,batch_size", [(30, None), (7, None), (100, 10)])
def test_steps_over_sample_counts_that_are_not_multiples_of_four_stay_exact(samples, batch_size):
    """MKL sums the last rows of a product with such a row count in another order: trained alone."""
    base = Config(samples=samples, batch_size=batch_size, epochs=300)
    assert wide_key(base) is None
    result = Sweep(base, "lr", [0.005, 0.01, 0.02]).run()
    assert result.groups == [[0], [1], [2]]
    for member in result.members:
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)


@pytest.mark.parametrize(
    "base,param,values",
    [
        # 100 samples in batches of 16: six steps of 16 and one of 4, shuffled alike (one seed)
        (Config(batch_size=16, epochs=40), "lr", [0.005, 0.01, 0.02]),
        (Config(batch_size=16, epochs=40, optimizer="adam", lr=0.01), "hidden", [3, 8]),
        (Config(batch_size=20, epochs=30, optimizer="momentum", lr=0.002), "noise", [0.1, 0.5]),  # own targets
        (Config(batch_size=12, epochs=30, activation="tanh"), "lr", [0.005, 0.01, 0.02, 0.03]),
    ],
)
def test_minibatch_members_batch_and_equal_their_single_runs(base, param, values):
    result = Sweep(base, param, values).run()
    assert result.groups == [list(range(len(values)))]
    for member in result.members:
        single = _single(member.config)
        np.testing.assert_array_equal(member.history.values, single.history.values)
        assert member.final_loss == single.history.last() and member.status == "done"


def test_a_diverging_minibatch_member_stops_alone_like_its_single_run():
    result = Sweep(Config(batch_size=16, epochs=60), "lr", [0.01, 3.0]).run()
    assert result.groups == [[0, 1]]
    for member in result.members:
        single = _single(member.config)
        assert (member.status, member.diverged_at) == (single.status.value, single.diverged_at)
        np.testing.assert_array_equal(member.history.values, single.history.values)
    assert result.members[1].status == "diverged"


# -- divergence, cancel, progress -------------------------------------------------------------------------------
def test_one_diverging_member_stops_alone():
    base = Config(epochs=400)
    result = Sweep(base, "lr", [0.02, 5.0, 0.01]).run()
    ok, bad, other = result.members
    single_bad = _single(bad.config)
    assert bad.status == "diverged" and bad.diverged_at == single_bad.diverged_at
    np.testing.assert_array_equal(bad.history.values, single_bad.history.values)
    assert np.isfinite(bad.final_loss) and np.all(np.isfinite(bad.prediction))
    for member in (ok, other):
        assert member.status == "done"
        np.testing.assert_array_equal(member.history.values, _single(member.config).history.values)
    assert not result.all_done


def test_cancel_stops_every_member_and_progress_is_reported():
    cancel = threading.Event()
    seen: list[SweepProgress] = []

    def progress(p: SweepProgress) -> None:
        seen.append(p)
        if p.epoch >= 50:
            cancel.set()

    result = Sweep(Config(epochs=1_000_000), "lr", [0.01, 0.02]).run(cancel=cancel, on_progress=progress, interval=0)
    assert all(m.status == "stopped" for m in result.members)
    assert all(50 <= m.epochs_run < 1_000_000 for m in result.members)
    assert seen and seen[-1].total == 2_000_000 and len(seen[-1].losses) == 2
    assert all(isinstance(v, float) for v in seen[-1].losses)


# -- CLI ------------------------------------------------------------------------------------------------------------
def test_cli_json_shape(capsys):
    code = run_sweep_cli(Config(epochs=50), "lr=0.01,5", threads=1, as_json=True)
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert code == 1  # one member diverged
    assert set(data) == {"config", "sweep", "seconds"}
    assert data["config"]["epochs"] == 50 and data["sweep"]["param"] == "lr"
    first, second = data["sweep"]["results"]
    assert first["value"] == 0.01 and first["status"] == "done" and "diverged_at" not in first
    assert first["final_loss"] > 0 and first["eval_loss"] > 0
    assert second["status"] == "diverged" and second["diverged_at"] >= 1


def test_cli_table_and_exit_codes(capsys):
    assert run_sweep_cli(Config(epochs=40), "hidden=2,4") == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["hidden", "status", "final", "loss", "eval", "loss", "diverged", "at"]
    assert "2 runs in" in table
    assert run_sweep_cli(Config(), "hidden=2,x") == 2
    err = capsys.readouterr().err
    assert err.startswith("quadtui: error: --sweep hidden=2,x: hidden = 'x'") and err.count("\n") == 1


def test_progress_carries_each_members_epochs_status_and_fit_as_it_finishes():
    seen = []
    sweep = Sweep(Config(hidden=4), "epochs", [50, 400])
    assert sweep.groups == [[0, 1]]  # one batched model: the short member ends while the long one trains
    result = sweep.run(on_progress=seen.append, interval=0)
    assert all(len(p.epochs) == len(p.statuses) == len(p.predictions) == 2 for p in seen)
    assert [p.epochs[1] for p in seen] == sorted(p.epochs[1] for p in seen)
    midway = [p for p in seen if p.statuses == ["done", "training"]]
    assert midway and all(p.finished == 1 and p.epochs[0] == 50 and 50 <= p.epochs[1] < 400 for p in midway)
    assert midway[0].predictions[0] is result.members[0].prediction and midway[0].predictions[1] is None
    assert seen[-1].finished == 2 and seen[-1].epochs == [50, 400]
    assert [m.final_loss for m in result.members] == [
        Engine(Config(hidden=4, epochs=e)).run().train_now for e in (50, 400)
    ]
