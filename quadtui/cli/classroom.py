"""``--class DIR``, ``--init`` and ``--board``: the command line's side of the class folder.

The storage is :mod:`quadtui.core.classroom` (posting) and :mod:`quadtui.core.class_board`
(reading); this module only checks the flags, posts a headless run and prints the board.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from quadtui.cli.checks import UsageError

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

EXIT_OK, EXIT_FAILED = 0, 1


def check_class(args: argparse.Namespace) -> Path | None:
    """The class folder runs post to (None: no class).

    A bad ``--class`` is a usage error; a bad ``$QUADTUI_CLASS`` (set for everyone by a
    teacher) only a warning: quadtui still works, the runs are just not posted.
    """
    from quadtui.core.classroom import ENV, ClassError, check_folder, folder_from

    folder, source = folder_from(args.class_dir)
    if args.init and args.class_dir is None:
        raise UsageError("--init needs --class DIR (the folder to set up for the class)")
    others = [
        f
        for f in ("board", "headless", "serve", "print_config", "print_code", "sweep", "run")
        if getattr(args, f) not in (None, False)
    ]
    if args.init and others:
        raise UsageError(f"--init cannot be used with --{others[0].replace('_', '-')}")
    if args.board and folder is None:
        raise UsageError(f"--board needs --class DIR (or ${ENV})")
    if args.torch_server:
        if folder is None:
            raise UsageError(f"--torch-server needs --class DIR (or ${ENV}): the class folder it serves")
        if others or args.init:
            raise UsageError(f"--torch-server cannot be used with --{(others or ['init'])[0].replace('_', '-')}")
        return folder
    others = others[1:] if args.board else others
    if args.board and others:
        raise UsageError(f"--board cannot be used with --{others[0].replace('_', '-')}")
    if folder is None or args.init:
        return folder
    try:
        check_folder(folder)
    except ClassError as exc:
        if source == ENV and not args.board:
            print(f"quadtui: warning: ${ENV} {exc}; runs are not posted to the class", file=sys.stderr)
            return None
        raise UsageError(f"{source} {exc}") from None
    return folder


def run_init(folder: Path) -> int:
    from quadtui.core.classroom import ClassError, init_folder

    try:
        print(init_folder(folder))
    except ClassError as exc:
        print(f"quadtui: error: --class {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def print_board(folder: Path) -> int:
    """``--board --json``: every entry, best eval loss first; skipped files named on stderr."""
    from quadtui.core.class_board import ClassBoard

    board = ClassBoard(folder)
    board.refresh()
    for line in board.skipped:
        print(f"quadtui: warning: --class skipped {line}", file=sys.stderr)
    print(json.dumps({"entries": [entry.to_json() for entry in board.entries()]}))
    return EXIT_OK


def post_snapshot(folder: Path, snap: Snapshot, lesson: str | None) -> bool:
    """Post a headless run's final snapshot; a failure is one line on stderr (False)."""
    from quadtui.core.classroom import ClassError, ClassWriter, make_post

    post = make_post(
        snap.config,
        snap.status.value,
        snap.epoch,
        snap.history,
        snap.grid,
        snap.prediction,
        snap.train_now,
        snap.eval_now,
        lesson,
    )
    try:
        ClassWriter(folder).post(post)
    except ClassError as exc:
        print(f"quadtui: error: --class: run not posted: {exc}", file=sys.stderr)
        return False
    return True
