"""Export a run to a folder: its config, losses, fit, weights (and a screenshot, from the app).

The folder holds

* ``config.toml`` — load it again with ``quadtui --config`` (the learning rate the run
  started with; changes made while it trained are listed in a comment),
* ``loss.csv`` — ``epoch,train_loss,eval_loss`` (eval blank between measurements),
* ``fit.csv`` — ``x,target,prediction,h0..`` on the chart grid (``h*``: the hidden units;
  with more than one hidden layer ``l1_h0..,l2_h0..``: every layer's),
* ``model.pt`` — the trained ``state_dict`` (``nn.Sequential`` as in ``train.py``),
* ``train.py`` — the standalone script that trains the same run (learning-rate changes included),
* ``screenshot.svg`` — when the app passes one.

The folder is written all at once or not at all (:mod:`quadtui.core.export_folder`:
the files go to a staging folder first); an existing non-empty folder is refused
unless ``overwrite`` is set.  :func:`check_folder` tries the place for real (a
probe folder) so a caller can refuse it before a long run.  Every failure is one
:class:`FileWriteError` line.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from quadtui.core.codegen import script_for
from quadtui.core.export_folder import check_folder, write_folder
from quadtui.core.tomlio import config_to_toml

if TYPE_CHECKING:
    import torch

    from quadtui.core.engine import Engine, Snapshot

__all__ = ["FILES", "check_folder", "config_toml", "export_run", "fit_csv", "loss_csv"]

FILES = ("config.toml", "loss.csv", "fit.csv", "model.pt", "train.py", "screenshot.svg")


def export_run(
    run: "Engine | Snapshot",
    directory: str | os.PathLike[str],
    *,
    model: "torch.nn.Module | None" = None,
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
    files = {
        "config.toml": config_toml(snap),
        "loss.csv": loss_csv(snap),
        "fit.csv": fit_csv(snap),
        "model.pt": _state_dict_bytes(model),
        "train.py": script_for(snap.config, snap.lr_schedule),
    }
    if screenshot_svg is not None:
        files["screenshot.svg"] = screenshot_svg
    # stale: files of an earlier export into the same folder that this one does not write
    return write_folder(directory, files, overwrite=overwrite, stale=FILES)


def config_toml(snap: "Snapshot") -> str:
    """The config the run started with; learning-rate changes made while it trained, as comments."""
    if not snap.lr_schedule:
        return config_to_toml(snap.config)
    changes = ", ".join(f"from epoch {epoch + 1} lr = {lr!r}" for epoch, lr in snap.lr_schedule[1:])
    return (
        config_to_toml(snap.config.replace(lr=snap.lr_schedule[0][1]))
        + f"# changed while the run trained (train.py replays it): {changes}\n"
    )


def loss_csv(snap: "Snapshot") -> str:
    """``epoch,train_loss,eval_loss``: one row per epoch run; eval is blank where not measured."""
    train = np.asarray(snap.train_loss, dtype=np.float32)
    evals = [""] * train.size
    for epoch, value in zip(snap.eval_epochs.tolist(), snap.eval_loss.astype(np.float32)):
        if 1 <= epoch <= train.size:
            evals[epoch - 1] = str(value)
    rows = [f"{epoch},{loss},{ev}\n" for epoch, loss, ev in zip(range(1, train.size + 1), train, evals)]
    return "epoch,train_loss,eval_loss\n" + "".join(rows)


def fit_csv(snap: "Snapshot") -> str:
    """``x,target,prediction,h0..h{n-1}`` on the view grid the charts use; with more than one
    hidden layer the units of every layer, ``l1_h0..,l2_h0..`` (layer 1 first).

    The network computes in float32, so its columns are written as float32 values
    (shortest text that reads back to the same number); x and target are float64.
    """
    layers = tuple(getattr(snap, "layers", ()) or ()) or (snap.hidden,)
    prefix = (lambda n: f"l{n}_") if len(layers) > 1 else (lambda n: "")
    header = ["x", "target", "prediction"] + [
        f"{prefix(n)}h{i}" for n, layer in enumerate(layers, 1) for i in range(layer.shape[1])
    ]
    network = np.column_stack([snap.prediction, *layers]).astype(np.float32)
    lines = [",".join(header)]
    for x, target, row in zip(snap.grid.tolist(), snap.grid_target.tolist(), network):
        lines.append(",".join([repr(x), repr(target), *map(str, row)]))
    return "\n".join(lines) + "\n"


def _state_dict_bytes(model: "torch.nn.Module") -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()
