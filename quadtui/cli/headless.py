"""``quadtui --headless``: train without the UI, show progress on stderr, print a summary."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any

from quadtui.core.config import Config

EXIT_OK, EXIT_FAILED = 0, 1


def run_headless(
    config: Config,
    threads: int = 1,
    as_json: bool = False,
    export: str | os.PathLike[str] | None = None,
    class_dir: os.PathLike[str] | None = None,
    lesson: str | None = None,
) -> int:
    """Train ``config`` to the end; print the summary; export the run to the folder ``export``;
    post it to the class folder ``class_dir`` (see quadtui.cli.classroom).

    Returns the exit code: 0 when training finished, 1 when it diverged or was
    interrupted, or when the export failed (the summary is printed anyway).
    """
    from rich.progress import MofNCompleteColumn, TextColumn

    from quadtui.cli.terminal import finish_or_stop, interruptible, stderr_progress
    from quadtui.core.engine import Engine
    from quadtui.core.snapshot import Status
    from quadtui.core.threads import set_threads

    set_threads(threads)
    with interruptible() as cancel:
        engine = Engine(config)
        progress = stderr_progress(TextColumn("training"), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"))
        with progress:
            task = progress.add_task("train", total=config.epochs, loss="-")

            shown = [engine.snapshot()]

            def show(snap: Any) -> None:
                shown[0] = snap
                loss = snap.train_now
                progress.update(task, completed=snap.epoch, loss=f"{loss:.6g}" if loss is not None else "-")

            ended, snap = finish_or_stop(lambda: engine.run(cancel=cancel, on_snapshot=show, interval=0.1), cancel)
    if not ended or snap is None:  # stopped deep inside a long epoch: the last state shown is the run's result
        snap = dataclasses.replace(shown[0], status=Status.STOPPED)
    if cancel.is_set():
        print(f"quadtui: stopped by {cancel.reason} at epoch {snap.epoch}", file=sys.stderr)
    summary = snap.summary()
    summary["threads"] = threads
    if as_json:
        print(json.dumps(summary))
    else:
        print(format_summary(summary))
    code = EXIT_OK if snap.status is Status.DONE else EXIT_FAILED
    if class_dir is not None and snap.epoch and snap.status is not Status.ERROR:
        from pathlib import Path

        from quadtui.cli.classroom import post_snapshot

        if not post_snapshot(Path(class_dir), snap, lesson):
            code = EXIT_FAILED
    if export is not None and not ended:
        print("quadtui: error: --export: not written: the run was stopped in the middle of an epoch", file=sys.stderr)
        return EXIT_FAILED
    if export is not None:
        from quadtui.core.export import export_run
        from quadtui.core.files import FileWriteError

        try:
            folder = export_run(engine, export)
        except FileWriteError as exc:
            print(f"quadtui: error: --export: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"quadtui: run exported to {folder}", file=sys.stderr)
    return code


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}"


def format_summary(summary: dict[str, Any]) -> str:
    status = summary["status"]
    if status == "diverged":
        status = f"diverged at epoch {summary['diverged_at']} (try a lower learning rate)"
    lines = [
        f"status       {status}",
        f"epochs       {summary['epochs_run']} of {summary['config']['epochs']}",
        f"first loss   {_num(summary['first_loss'])}",
        f"final loss   {_num(summary['final_loss'])}",
        f"best loss    {_num(summary['best_loss'])}",
        f"eval loss    {_num(summary['eval_loss'])}",
        f"time         {summary['seconds']:.2f} s ({_num(summary['epochs_per_s'])} epochs/s)",
    ]
    return "\n".join(lines)
