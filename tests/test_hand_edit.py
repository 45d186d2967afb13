"""A weight by hand: a unit's parameters named as train.py names them, values checked, the run trains
on from them, records them, and an exported train.py replays them to the run's final loss."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from quadtui.core.config import Config, ConfigError
from quadtui.core.control import Control
from quadtui.core.engine import Engine, Status
from quadtui.core.export import export_run
from quadtui.core.hand_edit import WeightEdit, parameter_of, parse_weight, unit_parameters
from quadtui.core.tomlio import load_config_file
from tests.conftest import TIMELINE_CHECK, final_line, read_csv, run_script


def shapes_of(config: Config) -> list[tuple[int, ...]]:
    return [tuple(w.shape) for w in Engine(config).snapshot().weights]


def test_a_units_parameters_are_its_incoming_weights_bias_and_outgoing_weights():
    one = unit_parameters(shapes_of(Config()), 1, 3)
    assert [(p.label, p.name, p.index) for p in one] == [
        ("weight from x", "0.weight", (3, 0)),
        ("bias", "0.bias", (3,)),
        ("weight to ŷ", "2.weight", (0, 3)),
    ]
    deep = shapes_of(Config(hidden=4, layers=2))
    first = unit_parameters(deep, 1, 2)
    assert [p.label for p in first] == [
        "weight from x",
        "bias",
        "weight to l2_h0",
        "weight to l2_h1",
        "weight to l2_h2",
        "weight to l2_h3",
    ]
    assert [(p.name, p.index) for p in first[2:]] == [("2.weight", (k, 2)) for k in range(4)]
    second = unit_parameters(deep, 2, 1)
    assert [(p.label, p.name, p.index) for p in second] == [
        *((f"weight from l1_h{j}", "2.weight", (1, j)) for j in range(4)),
        ("bias", "2.bias", (1,)),
        ("weight to ŷ", "4.weight", (0, 1)),
    ]
    output = unit_parameters(deep, 3, 0)
    assert [p.label for p in output] == [f"weight from l2_h{j}" for j in range(4)] + ["bias"]
    with pytest.raises(ValueError):
        unit_parameters(deep, 4, 0)


@pytest.mark.parametrize("config", [Config(hidden=5), Config(hidden=4, layers=3, activation="tanh")])
def test_the_names_are_train_pys_model_parameters(config):
    """Every parameter a unit lists is that element of the script's nn.Sequential (get_parameter)."""
    engine = Engine(config)
    model, snap = engine.trained_model(), engine.snapshot()
    for layer in range(1, config.layers + 2):
        for unit in range(config.hidden if layer <= config.layers else 1):
            for p in unit_parameters([w.shape for w in snap.weights], layer, unit):
                value = model.get_parameter(p.name)[p.index].item()
                assert value == parameter_of(snap.weights, p.name, p.index)[p.index]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("abc", "weight from x = 'abc' is not allowed: a number from -1000 to 1000"),
        ("0,5", "weight from x = '0,5' is not allowed: use a dot: 0.5"),
        ("1e9", "a number from -1000 to 1000"),
        ("nan", "a number from -1000 to 1000"),
        ("", "a number from -1000 to 1000"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_field_and_what_is_allowed(text, needle):
    with pytest.raises(ConfigError) as info:
        parse_weight("weight from x", text)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert parse_weight("bias", " -2.5 ") == -2.5 and parse_weight("bias", "-0") == 0.0


def test_a_weight_set_by_hand_is_recorded_and_the_run_trains_on_from_it():
    engine = Engine(Config(epochs=300))
    engine.advance(100)
    before = engine.snapshot().weights
    engine.set_weights([("0.weight", (3, 0), 0.5), ("0.bias", (3,), float(before[1][3])), ("2.weight", (0, 3), -1.25)])
    snap = engine.snapshot()
    # the unchanged bias is no edit; the others are, with their old values
    assert snap.weight_edits == (
        WeightEdit(100, "0.weight", (3, 0), float(before[0][3, 0]), 0.5),
        WeightEdit(100, "2.weight", (0, 3), float(before[2][0, 3]), -1.25),
    )
    assert snap.weights[0][3, 0] == np.float32(0.5) and snap.weights[2][0, 3] == np.float32(-1.25)
    assert snap.weight_edits[0].parameter == "0.weight[3, 0]"
    edited = snap.trained_model()
    engine.advance(1)
    with torch.no_grad():  # the next epoch's loss is the edited network's, bit for bit
        loss = F.mse_loss(edited(engine.data.x_train), engine.data.y_train)
    assert loss.numpy() == engine.snapshot().train_loss[100]
    with pytest.raises(ValueError, match="outside its shape"):
        engine.set_weights([("0.weight", (8, 0), 1.0)])
    with pytest.raises(ValueError, match="no parameter"):
        engine.set_weights([("1.weight", (0, 0), 1.0)])


def test_a_paused_run_takes_weights_from_its_control_and_goes_on_from_them():
    """The UI's path: Control.set_weights on a paused Engine.run, then resume."""
    config = Config(epochs=400, optimizer="adam", lr=0.01)
    control = Control(paused=True)
    seen: list = []
    paused, edited = threading.Event(), threading.Event()

    def on_snapshot(snap):
        seen.append(snap)
        (edited if snap.weight_edits else paused).set()

    engine = Engine(config)
    engine.advance(150)
    thread = threading.Thread(target=engine.run, kwargs={"control": control, "on_snapshot": on_snapshot})
    thread.start()
    try:
        assert paused.wait(30)
        control.set_weights([("0.bias", (2,), 0.75)])
        assert edited.wait(30)
        control.resume()
    finally:
        thread.join(60)
    first = next(snap for snap in seen if snap.weight_edits)
    assert first.status is Status.PAUSED and first.epoch == 150 and first.weights[1][2] == np.float32(0.75)
    assert first.weight_edits == (WeightEdit(150, "0.bias", (2,), float(seen[0].weights[1][2]), 0.75),)
    assert engine.snapshot().status is Status.DONE
    # the same edit made directly at that epoch gives the same run, bit for bit
    direct = Engine(config)
    direct.advance(150)
    direct.set_weights([("0.bias", (2,), 0.75)])
    direct.run()
    np.testing.assert_array_equal(engine.snapshot().train_loss, direct.snapshot().train_loss)


@pytest.mark.parametrize(
    "config",
    [Config(epochs=300, hidden=6, layers=2), Config(epochs=40, optimizer="adam", lr=0.01, batch_size=16)],
    ids=["full-batch-2-layers", "adam-mini-batches"],
)
def test_the_exported_script_replays_the_edits_and_ends_on_the_runs_final_loss(config, tmp_path):
    engine = Engine(config)
    engine.advance(config.epochs // 3)
    engine.set_weights([("0.weight", (1, 0), 2.0), ("0.bias", (1,), -3.0)])
    engine.advance(config.epochs // 3)
    engine.set_weights([("2.weight", (0, 4), 0.1)])
    engine.run()
    snap = engine.snapshot()
    assert snap.status is Status.DONE and len(snap.weight_edits) == 3
    assert snap.train_now != Engine(config).run().train_now  # the edits changed the run
    folder = export_run(engine, tmp_path / "run")
    script = (folder / "train.py").read_text()
    assert "HAND_EDITS = [" in script and "set_by_hand(i)" in script
    lines = run_script(script + TIMELINE_CHECK, folder)
    assert [line for line in lines if line.startswith("final loss")] == [final_line(snap.summary())]
    if config.full_batch:  # the checkpoints after an edit hold the edited weights: still loss.csv's losses
        rows = {int(r["epoch"]): np.float32(r["train_loss"]) for r in read_csv(folder / "loss.csv")}
        states = [line.split() for line in lines if line.startswith("state ")]
        assert len(states) > 100
        assert all(np.float32(float(loss)) == rows[int(epoch)] for _, epoch, loss in states)
    toml = (folder / "config.toml").read_text()
    was = str(np.float32(snap.weight_edits[0].old))  # the float32 in its shortest form
    assert "weights set by hand" in toml and f"0.weight[1, 0] = 2.0 (was {was})" in toml
    assert f'({config.epochs // 3}, "0.weight", (1, 0), 2.0),  # was {was}\n' in script
    assert load_config_file(folder / "config.toml") == config


def test_an_export_right_after_an_edit_ends_with_the_edited_weights_of_model_pt(tmp_path):
    config = Config(epochs=500)
    engine = Engine(config)
    engine.advance(120)
    engine.set_weights([("2.weight", (0, 5), 1.5)])
    snap = engine.snapshot()  # paused right after the edit: the export's last epoch is 120
    folder = export_run(snap, tmp_path / "run")
    script = (folder / "train.py").read_text() + '\ntorch.save(model.state_dict(), "script.pt")\n'
    lines = run_script(script, folder)
    assert lines[-1] == final_line(snap.summary())
    ours, theirs = torch.load(folder / "model.pt"), torch.load(folder / "script.pt")
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert theirs["2.weight"][0, 5] == 1.5
