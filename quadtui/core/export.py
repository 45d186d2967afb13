"""Export a run to a folder: its config, losses, fit, weights (and a screenshot, from the app).

The folder holds

* ``config.toml`` — load it again with ``quadtui --config`` (the learning rate the run
  started with; changes made while it trained are listed in a comment; a run exported before
  its end has the epochs it actually ran, and a comment says so),
* ``loss.csv`` — ``epoch,train_loss,eval_loss`` (eval blank between measurements; the last
  row's eval is the exported model's, the one the app shows),
* ``fit.csv`` — ``x,target,prediction,h0..`` on the chart grid (``h*``: the hidden units;
  with more than one hidden layer ``l1_h0..,l2_h0..``: every layer's),
* ``model.pt`` — the trained ``state_dict`` (``nn.Sequential`` as in ``train.py``),
* ``timeline.pt`` — the run's checkpoints (time travel): ``{"epochs": [e, ...], "states":
  [state_dict, ...]}``, each state the network before the update of epoch ``e`` (numbered as
  ``loss.csv`` numbers its rows), so that in a full-batch run its MSE on the training samples is
  that row's ``train_loss``, bit for bit (with mini-batches the row is the mean over the epoch's
  batches, taken as the weights move); the trained network is ``model.pt``,
* ``train.py`` — the standalone script that trains the same run (learning-rate changes and
  weights set by hand included) for the epochs run, so it ends with the weights in ``model.pt``,
* ``screenshot.svg`` — when the app passes one.

The folder is written all at once or not at all (:mod:`quadtui.core.export_folder`:
the files go to a staging folder first); an existing non-empty folder is refused
unless ``overwrite`` is set.  :func:`check_folder` tries the place for real (a
probe folder) so a caller can refuse it before a long run.  Every failure is one
:class:`FileWriteError` line.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from quadtui.core.codegen import script_for
from quadtui.core.export_folder import check_folder, write_folder
from quadtui.core.tomlio import config_to_toml

if TYPE_CHECKING:
    import torch

    from quadtui.core.config import Config
    from quadtui.core.engine import Engine
    from quadtui.core.snapshot import Snapshot

__all__ = [
    "FILES",
    "check_folder",
    "config_toml",
    "exported_config",
    "export_run",
    "fit_csv",
    "loss_csv",
    "timeline_states",
]

FILES = ("config.toml", "loss.csv", "fit.csv", "model.pt", "timeline.pt", "train.py", "screenshot.svg")


def export_run(
    run: Engine | Snapshot,
    directory: str | os.PathLike[str],
    *,
    model: torch.nn.Module | None = None,
    overwrite: bool = False,
    screenshot_svg: str | None = None,
) -> Path:
    """Write the run's files into ``directory`` and return its path.

    ``run`` is an :class:`Engine` (its current snapshot and trained model are
    used) or a :class:`Snapshot` (which holds its own weights; ``model``
    overrides them).
    """
    from quadtui.core.engine import Engine

    if isinstance(run, Engine):
        snap, model = run.snapshot(), run.trained_model()
    else:
        snap = run
        if model is None:
            model = snap.trained_model()
    check_folder(directory, overwrite=overwrite)  # before the work below
    files: dict[str, str | bytes] = {
        "config.toml": config_toml(snap),
        "loss.csv": loss_csv(snap),
        "fit.csv": fit_csv(snap),
        "model.pt": _state_dict_bytes(model),
        "timeline.pt": _timeline_bytes(snap, model),
        "train.py": script_for(exported_config(snap), snap.lr_schedule, note=_cut_short(snap), edits=snap.weight_edits),
    }
    if screenshot_svg is not None:
        files["screenshot.svg"] = screenshot_svg
    # stale: files of an earlier export into the same folder that this one does not write
    return write_folder(directory, files, overwrite=overwrite, stale=FILES)


def exported_config(snap: Snapshot) -> Config:
    """The run's config with the epochs it actually ran: an export before the end (paused, stopped,
    diverged) must not claim epochs its weights never saw, and train.py must end on those weights."""
    if 0 < snap.epoch < snap.config.epochs:
        return snap.config.replace(epochs=snap.epoch)
    return snap.config


def _cut_short(snap: Snapshot) -> str:
    """A sentence for an export taken before the run's end ("" otherwise)."""
    if not 0 < snap.epoch < snap.config.epochs:
        return ""
    return (
        f"Exported after {snap.epoch:,} of the run's {snap.config.epochs:,} epochs: "
        f"epochs is the {snap.epoch:,} run, so train.py ends with the weights in model.pt."
    )


def config_toml(snap: Snapshot) -> str:
    """The config the run started with (with the epochs it ran); learning-rate changes made while it
    trained, weights set by hand, and an export before the end, as comments."""
    config = exported_config(snap)
    note = f"# {_cut_short(snap)}\n" if _cut_short(snap) else ""
    if snap.weight_edits:
        edits = ", ".join(
            f"before epoch {e.epoch + 1} {e.parameter} = {e.new!r} (was {str(np.float32(e.old))})"
            for e in snap.weight_edits
        )
        note = f"# weights set by hand while the run trained (train.py replays them): {edits}\n" + note
    if not snap.lr_schedule:
        return config_to_toml(config) + note
    changes = ", ".join(f"from epoch {epoch + 1} lr = {lr!r}" for epoch, lr in snap.lr_schedule[1:])
    return (
        config_to_toml(config.replace(lr=snap.lr_schedule[0][1]))
        + f"# changed while the run trained (train.py replays it): {changes}\n"
        + note
    )


def loss_csv(snap: Snapshot) -> str:
    """``epoch,train_loss,eval_loss``: one row per epoch run; eval is blank where not measured.

    The last row's eval is the exported model's (``eval_now``, what the app shows beside the
    final train loss), not a measurement from before that epoch's update.
    """
    train = np.asarray(snap.train_loss, dtype=np.float32)
    evals = [""] * train.size
    for epoch, value in zip(snap.eval_epochs.tolist(), snap.eval_loss.astype(np.float32)):
        if 1 <= epoch <= train.size:
            evals[epoch - 1] = str(value)
    if evals and math.isfinite(snap.eval_now):
        evals[-1] = str(np.float32(snap.eval_now))
    rows = [f"{epoch},{loss},{ev}\n" for epoch, loss, ev in zip(range(1, train.size + 1), train, evals)]
    return "epoch,train_loss,eval_loss\n" + "".join(rows)


def fit_csv(snap: Snapshot) -> str:
    """``x,target,prediction,h0..h{n-1}`` on the view grid the charts use; with more than one
    hidden layer the units of every layer, ``l1_h0..,l2_h0..`` (layer 1 first).

    The network computes in float32, so its columns are written as float32 values
    (shortest text that reads back to the same number); x and target are float64.
    """
    layers = tuple(getattr(snap, "layers", ()) or ()) or (snap.hidden,)
    prefix: Callable[[int], str] = (lambda n: f"l{n}_") if len(layers) > 1 else (lambda n: "")
    header = ["x", "target", "prediction"] + [
        f"{prefix(n)}h{i}" for n, layer in enumerate(layers, 1) for i in range(layer.shape[1])
    ]
    network = np.column_stack([snap.prediction, *layers]).astype(np.float32)
    lines = [",".join(header)]
    for x, target, row in zip(snap.grid.tolist(), snap.grid_target.tolist(), network):
        lines.append(",".join([repr(x), repr(target), *map(str, row)]))
    return "\n".join(lines) + "\n"


def _state_dict_bytes(model: torch.nn.Module) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def timeline_states(snap: Snapshot, model: torch.nn.Module) -> dict[str, list[Any]]:
    """``{"epochs": [e, ...], "states": [state_dict, ...]}``: the kept states that have a row in
    ``loss.csv`` (state ``k``, after ``k`` updates, is the network before the update of epoch
    ``k + 1``), as ``state_dict``s of ``model``'s layout (``nn.Sequential`` as in ``train.py``)."""
    import torch

    from quadtui.core.timeline import unflatten

    names = list(model.state_dict())
    shapes = [tuple(tensor.shape) for tensor in model.state_dict().values()]
    timeline = snap.timeline
    epochs: list[int] = []
    states: list[dict[str, torch.Tensor]] = []
    if timeline is not None:
        rows = int(np.asarray(snap.train_loss).size)
        for state, row in zip(timeline.epochs.tolist(), timeline.rows):
            if state < rows:
                epochs.append(state + 1)
                states.append({n: torch.from_numpy(p) for n, p in zip(names, unflatten(row, shapes))})
    return {"epochs": epochs, "states": states}


def _timeline_bytes(snap: Snapshot, model: torch.nn.Module) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(timeline_states(snap, model), buffer)
    return buffer.getvalue()
