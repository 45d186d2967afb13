"""Export a run: every file written, readable, and equal to what the engine holds."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.export import export_run
from quadtui.core.files import FileWriteError
from quadtui.core.model import build_model
from quadtui.core.tomlio import load_config_file
from tests.conftest import TIMELINE_CHECK, read_csv, run_script


@pytest.fixture(scope="module")
def engine():
    engine = Engine(Config(epochs=2500, hidden=5, noise=0.1))  # eval every 3 epochs
    engine.run()
    return engine


def test_export_writes_every_file(engine, tmp_path):
    folder = export_run(engine, tmp_path / "run", screenshot_svg="<svg/>")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["config.toml", "fit.csv", "loss.csv", "model.pt", "screenshot.svg", "timeline.pt", "train.py"]
    assert load_config_file(folder / "config.toml") == engine.config
    assert (folder / "screenshot.svg").read_text() == "<svg/>"
    assert "final loss" in (folder / "train.py").read_text()


def test_loss_csv_has_every_epoch_and_eval_where_measured(engine, tmp_path):
    rows = read_csv(export_run(engine, tmp_path / "run") / "loss.csv")
    snap = engine.snapshot()
    assert [int(r["epoch"]) for r in rows] == list(range(1, 2501))
    train = np.array([float(r["train_loss"]) for r in rows], dtype=np.float32)
    np.testing.assert_array_equal(train, snap.train_loss)  # float32 values survive the text exactly
    measured = [int(r["epoch"]) for r in rows if r["eval_loss"] != ""]
    assert engine.eval_every == 3
    assert measured == list(range(1, 2501, 3)) == snap.eval_epochs.tolist()
    evals = np.array([float(r["eval_loss"]) for r in rows if r["eval_loss"]], dtype=np.float32)
    np.testing.assert_array_equal(evals[:-1], snap.eval_loss[:-1])
    # the last row: the trained model's eval, the one the app shows beside the final train loss
    assert np.float32(rows[-1]["eval_loss"]) == np.float32(snap.eval_now) != snap.eval_loss[-1]


def test_fit_csv_is_the_view_grid(engine, tmp_path):
    rows = read_csv(export_run(engine, tmp_path / "run") / "fit.csv")
    snap = engine.snapshot()
    assert list(rows[0]) == ["x", "target", "prediction", "h0", "h1", "h2", "h3", "h4"]
    assert len(rows) == len(snap.grid) == 100
    np.testing.assert_array_equal([float(r["x"]) for r in rows], snap.grid)
    np.testing.assert_array_equal([float(r["target"]) for r in rows], snap.grid_target)
    # the network's outputs are float32 numbers: written in the fewest digits that read back exactly
    prediction = np.array([r["prediction"] for r in rows], dtype=np.float32)
    np.testing.assert_array_equal(prediction, snap.prediction.astype(np.float32))
    hidden = np.array([[r[f"h{i}"] for i in range(5)] for r in rows], dtype=np.float32)
    np.testing.assert_array_equal(hidden, snap.hidden.astype(np.float32))


def test_model_pt_loads_into_the_same_network_and_predicts_the_fit(engine, tmp_path):
    folder = export_run(engine, tmp_path / "run")
    model = build_model(engine.config)
    model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
    x = torch.from_numpy(engine.data.grid).reshape(-1, 1).float()
    with torch.no_grad():
        ours = model(x).reshape(-1).double().numpy()
    np.testing.assert_allclose(ours, engine.snapshot().prediction, rtol=1e-6, atol=1e-6)


def test_a_snapshot_exports_its_own_weights(tmp_path):
    engine = Engine(Config(epochs=300, hidden=5))
    engine.advance(100)
    snap = engine.snapshot()
    engine.advance(50)  # the engine moves on; the snapshot keeps the weights it was taken with
    folder = export_run(snap, tmp_path / "run")
    exported = torch.load(folder / "model.pt", weights_only=True)
    model = build_model(snap.config)
    model.load_state_dict(exported)
    x = torch.from_numpy(snap.grid).reshape(-1, 1).float()
    with torch.no_grad():
        np.testing.assert_array_equal(model(x).reshape(-1).double().numpy(), snap.prediction)
    moved = engine.trained_model().state_dict()
    assert not all(torch.equal(exported[k], moved[k]) for k in moved)


def test_refuses_a_non_empty_folder_unless_overwrite(engine, tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(FileWriteError, match="not empty") as info:
        export_run(engine, target)
    assert "\n" not in str(info.value)
    assert os.listdir(target) == ["notes.txt"]
    export_run(engine, target, overwrite=True, screenshot_svg="<svg/>")
    export_run(engine, target, overwrite=True)  # a re-export without screenshot drops the old one
    assert sorted(os.listdir(target)) == [
        "config.toml",
        "fit.csv",
        "loss.csv",
        "model.pt",
        "notes.txt",
        "timeline.pt",
        "train.py",
    ]


def test_an_empty_existing_folder_is_fine_and_a_file_is_not(engine, tmp_path):
    (tmp_path / "empty").mkdir()
    export_run(engine, tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileWriteError, match="is a file"):
        export_run(engine, tmp_path / "file")


def test_an_impossible_place_is_one_line(engine, tmp_path):
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(FileWriteError) as info:
        export_run(engine, tmp_path / "plain-file" / "run")
    message = str(info.value)
    assert "\n" not in message and "plain-file" in message and message.startswith("cannot create")


def test_a_diverged_run_exports_what_it_kept(tmp_path):
    engine = Engine(Config(lr=5.0, epochs=200))
    engine.run()
    rows = read_csv(export_run(engine, tmp_path / "run") / "loss.csv")
    assert len(rows) == engine.epoch == engine.diverged_at - 1
    assert all(np.isfinite(float(r["train_loss"])) for r in rows)


@pytest.mark.parametrize(
    "config",
    [Config(epochs=300, hidden=5), Config(epochs=60, hidden=4, batch_size=16)],
    ids=["full-batch", "mini-batches"],
)
def test_a_mid_run_export_says_the_epochs_it_ran_and_its_script_ends_on_its_weights(config, tmp_path):
    engine = Engine(config)
    ran = config.epochs * 2 // 5 + 1  # not a multiple of the eval step: the last row had no eval
    engine.advance(ran)
    snap = engine.snapshot()
    folder = export_run(snap, tmp_path / "run")
    assert load_config_file(folder / "config.toml") == config.replace(epochs=ran)
    note = f"Exported after {ran:,} of the run's {config.epochs:,} epochs"
    assert note in (folder / "config.toml").read_text()
    script = (folder / "train.py").read_text()
    assert f"EPOCHS = {ran}" in script and note in " ".join(script.split())
    rows = read_csv(folder / "loss.csv")
    assert len(rows) == ran and rows[-1]["eval_loss"] == str(np.float32(snap.eval_now))
    last = run_script(script, tmp_path)[-1]
    assert last.startswith("final loss: ")
    assert np.float32(last.removeprefix("final loss: ")) == np.float32(rows[-1]["train_loss"])
    assert float(last.removeprefix("final loss: ")) == snap.train_now


def test_a_finished_run_exports_its_own_epochs_without_a_note(engine, tmp_path):
    folder = export_run(engine, tmp_path / "run")
    assert load_config_file(folder / "config.toml") == engine.config
    assert "Exported after" not in (folder / "config.toml").read_text() + (folder / "train.py").read_text()


@pytest.mark.parametrize(
    "config, ran",
    [(Config(epochs=1500, hidden=6, layers=2, optimizer="adam", lr=0.01), 1500), (Config(epochs=400), 123)],
    ids=["finished-2-layers", "paused-at-123"],
)
def test_timeline_pt_states_in_the_scripts_model_give_loss_csv_bit_for_bit(config, ran, tmp_path):
    """A full-batch run: every exported state, loaded into the model of the exported train.py, has the loss
    of its loss.csv row exactly (the engine's float ops are the script's)."""
    engine = Engine(config)
    engine.advance(ran)
    snap = engine.snapshot()
    folder = export_run(snap, tmp_path / "run")
    saved = torch.load(folder / "timeline.pt", weights_only=True)
    kept = [state + 1 for state in snap.timeline.epochs.tolist() if state < ran]
    assert saved["epochs"] == kept and kept[:5] == [1, 2, 3, 4, 5] and len(kept) > 20
    assert max(kept) <= ran  # a state after the last loss.csv row is model.pt, not here
    rows = {int(r["epoch"]): np.float32(r["train_loss"]) for r in read_csv(folder / "loss.csv")}
    script = (folder / "train.py").read_text() + TIMELINE_CHECK
    lines = [line.split() for line in run_script(script, folder) if line.startswith("state ")]
    assert [int(epoch) for _, epoch, _ in lines] == kept
    for _, epoch, loss in lines:
        assert np.float32(float(loss)) == rows[int(epoch)], epoch
