"""Command line: one set of flags for the TUI and for ``--headless`` runs.

Nothing heavy is imported at module level: the TUI must paint its first frame
before torch is loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from quadtui import __version__
from quadtui.cli.checks import (
    VIEWS,
    UsageError,
    app_speed,
    check_budget,
    check_export,
    check_grid,
    check_modes,
    check_sweep,
    flag,
    flag_type,
    parse_neuron,
    parse_serve_options,
    parse_speed,
    parse_threads,
    parse_view,
    resolve_config,
    threads_given,
)
from quadtui.cli.classroom import check_class
from quadtui.core.config import DEFAULT, FIELDS, shorten
from quadtui.core.control import DEFAULT_SPEED
from quadtui.core.lesson import shipped_lessons

if TYPE_CHECKING:
    from quadtui.core.budget import Estimate

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: errors of writing the result (stdout on a full or failing device); every file quadtui itself
#: writes reports its own errors (FileWriteError), so these can only come from stdout or stderr
_OUTPUT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF}
_output_reported = False

#: the notebook's names for the fields it has
_NOTEBOOK_NAMES = {"lr": "LEARNING_RATE", "epochs": "EPOCHS", "hidden": "N_HIDDEN"}


#: argparse's words for two flags of a mutually exclusive group, and for a value its ``type=`` refused
_EXCLUSIVE = re.compile(r"argument (\S+): not allowed with argument (\S+)")
_REFUSED = re.compile(r"argument (\S+): (?=\1 )")


class _Parser(argparse.ArgumentParser):
    #: dests of the flags with a ``type=``: ``--threads=--`` leaves them a list, the type never asked
    typed = ("threads", "view", "speed")

    def parse_flags(self, argv: Sequence[str]) -> argparse.Namespace:
        """:meth:`parse_args`, and no typed flag left without its value."""
        parsed = self.parse_args(argv)
        for dest in self.typed:
            if isinstance(getattr(parsed, dest), list):  # argparse (3.11) took the "--" as the end of options
                self.error(f"argument --{dest}: expected one argument")
        return parsed

    def error(self, message: str) -> NoReturn:  # one line, no usage block
        if "expected one argument" in message:
            message += " (for a negative number write it with '=', e.g. --x-min=-1e3)"
        message = _EXCLUSIVE.sub(r"\1 and \2 cannot be used together", message)
        message = _REFUSED.sub("", message)  # the type's message names the flag itself
        raise UsageError(message)


def _default_text(name: str) -> str:
    value = getattr(DEFAULT, name)
    if name == "batch_size":
        return "full"
    if value is None:
        return "the sample range"
    return str(value)


def build_parser() -> _Parser:
    parser = _Parser(
        prog="quadtui",
        allow_abbrev=False,  # --serve forwards the other flags verbatim; no guessing of short forms
        description="Watch a small neural network learn y = x², live in the terminal. "
        "Defaults reproduce the notebook's run.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"quadtui {__version__}")
    hp = parser.add_argument_group("hyperparameters (the same in the app and --headless)")
    for name, spec in FIELDS.items():
        notebook = f" (notebook: {_NOTEBOOK_NAMES[name]})" if name in _NOTEBOOK_NAMES else ""
        hp.add_argument(
            flag(name),
            dest=name,
            metavar=name.upper(),
            default=None,
            help=f"{spec.help}{notebook}; {spec.allowed}; default {_default_text(name)}",
        )
    files = parser.add_argument_group("files and code")
    files.add_argument(
        "--config", default=None, metavar="FILE", help="read hyperparameters from a TOML file (flags win)"
    )
    files.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="with --headless: write config, losses, fit, model and script to the new folder DIR",
    )
    modes = parser.add_argument_group("instead of the app (one of these at most)").add_mutually_exclusive_group()
    modes.add_argument("--headless", action="store_true", help="train without the UI and print a summary")
    modes.add_argument("--serve", action="store_true", help="serve the app to browsers (needs quadtui[web])")
    modes.add_argument("--print-config", action="store_true", help="print the config as TOML and exit")
    modes.add_argument(
        "--print-code", action="store_true", help="print a standalone PyTorch script that trains this run"
    )
    run = parser.add_argument_group("running")
    run.add_argument("--json", action="store_true", help="with --headless: print one JSON object on stdout")
    run.add_argument(
        "--sweep",
        default=None,
        action="append",
        metavar="PARAM=VALUES",
        help="train one run per value, e.g. --sweep hidden=1,2,4,8 (a table with --headless); "
        "twice: one run per pair (a grid; a heatmap in the app)",
    )
    run.add_argument(
        "--max-memory",
        default=None,
        metavar="SIZE",
        help="refuse a run or sweep estimated to need more memory than SIZE, e.g. 512M or 2G; "
        "default a quarter of the machine's memory, at most 4G (or $QUADTUI_MAX_MEMORY)",
    )
    run.add_argument(
        "--threads",
        default=None,
        type=flag_type(parse_threads),
        metavar="N",
        help="torch CPU threads, 1 to 64; default 1 (or $QUADTUI_THREADS)",
    )
    app = parser.add_argument_group("app")
    app.add_argument("--run", action="store_true", help="start training as soon as the app opens")
    app.add_argument(
        "--neuron",
        default=None,
        metavar="N|L:N",
        help="hidden neuron shown first, 0 to hidden-1 (of the last layer, or L:N of layer L)",
    )
    app.add_argument(
        "--view",
        default=VIEWS[0],
        type=flag_type(parse_view),
        metavar="VIEW",
        help="what the chart area shows first: charts (default) or network (every unit of every layer)",
    )
    app.add_argument(
        "--speed",
        default=None,
        type=flag_type(parse_speed),
        metavar="EPOCHS_PER_S",
        help=f"the app's pace, epochs per second, or 'full' (as fast as it can); default {DEFAULT_SPEED:,}",
    )
    teach = parser.add_argument_group("teaching")
    teach.add_argument(
        "--lesson",
        default=None,
        metavar="FILE|NAME",
        help="a lesson file (or a shipped lesson's name: " + ", ".join(shipped_lessons()) + "): "
        "preset values, locked fields, an explanation",
    )
    teach.add_argument("--host", default=None, metavar="HOST", help="with --serve: address; default 127.0.0.1")
    teach.add_argument("--port", default=None, metavar="PORT", help="with --serve: port; default 8000")
    teach.add_argument(
        "--max-sessions",
        default=None,
        metavar="N",
        help="with --serve: browser sessions at once, 1 to 1000; default 20",
    )
    teach.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="with --serve: the address students open, behind a reverse proxy "
        "(default: whatever address the browser used)",
    )
    teach.add_argument(
        "--serve-dir",
        default=None,
        metavar="DIR",
        help="with --serve: keep each session's files in a new folder under DIR "
        "(default: a temporary folder, removed when the session ends)",
    )
    teach.add_argument(
        "--reload-grace",
        default=None,
        metavar="SECONDS",
        help="with --serve: how long a session whose tab is gone waits for it to come back "
        "(a reload), 0 to 3600; default 60",
    )
    teach.add_argument(
        "--class",
        dest="class_dir",
        default=None,
        metavar="DIR",
        help="post every finished run to the class folder DIR (or $QUADTUI_CLASS)",
    )
    teach.add_argument("--init", action="store_true", help="with --class: set DIR up for the class and say how")
    teach.add_argument(
        "--board", action="store_true", help="with --class: show the class board (with --json: print it)"
    )
    teach.add_argument(
        "--torch-server",
        action="store_true",
        help="with --class: one torch for the whole class, run by the folder's owner until ctrl+c: every "
        "student's session trains in processes forked from it (~70 MB a student instead of ~200)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # ctrl+c before a run installed its own handler
        print("quadtui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed early (`| head`): stop quietly, like other tools
        return EXIT_FAILED
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            raise
        return _output_failed(exc)


def _output_failed(exc: OSError) -> int:
    """The result could not be written (``> /dev/full``): say so in one line on stderr (once)."""
    global _output_reported
    if _output_reported:
        return EXIT_FAILED
    _output_reported = True
    try:
        print(f"quadtui: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):  # stderr is gone too: the exit code must do
        pass
    return EXIT_FAILED


def _main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_flags(argv)
        args.sweep, grid = _sweeps(args.sweep)
        check_modes(args)
        config, lesson = resolve_config(args)
        threads = threads_given(args.threads)
        neuron_layer, neuron = parse_neuron(args.neuron, config)
        serving = parse_serve_options(args)
        speed = app_speed(args.speed)
        if args.sweep is not None:
            check_sweep(args.sweep, config)
        max_memory, need = check_budget(args, config)
        if grid is not None:  # --sweep twice: a grid of runs
            need = check_grid(args, grid, config)
        if args.export is not None:
            check_export(args.export)
        class_dir = check_class(args)
        if sys.stdout is None:  # started with stdout closed (`>&-`): a result would vanish
            raise UsageError("stdout is closed: nowhere to print to (redirect it to a file or /dev/null)")
    except UsageError as exc:
        print(f"quadtui: error: {shorten(str(exc), 240)}", file=sys.stderr)
        return EXIT_USAGE
    if args.torch_server:
        from quadtui.cli.torch_server import run_torch_server

        return run_torch_server(class_dir)  # type: ignore[arg-type]
    if args.init or (args.board and args.json):
        from quadtui.cli.classroom import print_board, run_init

        return run_init(class_dir) if args.init else print_board(class_dir)  # type: ignore[arg-type]
    if args.print_config:
        from quadtui.core.tomlio import config_to_toml

        print(config_to_toml(config), end="")
        return EXIT_OK
    if args.print_code:
        from quadtui.core.codegen import script_for

        print(script_for(config), end="")
        return EXIT_OK
    if args.serve:
        from quadtui.cli.serve import serve

        return serve(argv, host=args.host, **serving)
    if args.headless and need is not None:
        _warn_if_slow(need)
    if args.headless and grid is not None:
        from quadtui.cli.sweep import run_grid_cli

        return run_grid_cli(config, grid, threads=threads, as_json=args.json)
    if args.headless and args.sweep is not None:
        from quadtui.cli.sweep import run_sweep_cli

        return run_sweep_cli(config, args.sweep, threads=threads, as_json=args.json)
    if args.headless:
        from quadtui.cli.headless import run_headless

        return run_headless(
            config,
            threads=threads,
            as_json=args.json,
            export=args.export,
            class_dir=class_dir,
            lesson=lesson.name if lesson else None,
        )
    from quadtui.cli.terminal import missing_terminal
    from quadtui.served import remove_temporary_folder

    problem = missing_terminal()
    if problem is not None:
        print(f"quadtui: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from quadtui.tui.app import QuadApp

    extra: dict[str, Any] = {}
    if lesson is not None:
        extra["lesson"] = lesson
    if grid is not None:
        extra["grid"] = grid  # --sweep twice: the app opens that grid's heatmap at once
    elif args.sweep is not None:
        extra["sweep"] = args.sweep
    if neuron_layer is not None:
        extra["neuron_layer"] = neuron_layer
    if class_dir is not None:
        extra.update(class_dir=class_dir, board=args.board)
        from quadtui.core.forkserver.per_class import use_class_folder

        use_class_folder(class_dir)  # the class's torch server, if the teacher runs one, trains our runs
    app = QuadApp(
        config,
        threads=threads,
        neuron=neuron,
        autorun=args.run,
        speed=speed,
        max_memory=max_memory,
        view=args.view,
        **extra,
    )
    # A loop of our own: asyncio.run() would, on the way out, wait for every thread worker to
    # return, and a sweep or load deep in a long epoch would hold ctrl+q for seconds.  The
    # threads were cancelled; entry() leaves with os._exit.
    try:
        app.run(loop=asyncio.new_event_loop())
    finally:
        remove_temporary_folder()  # served: the session's files go with it, however it ends
    return app.return_code or 0


def _sweeps(given: list[str] | None) -> tuple[str | None, list[str] | None]:
    """``--sweep`` as the one-setting code reads it (the first), and both when it was given twice."""
    if not given:
        return None, None
    if len(given) > 2:
        raise UsageError(f"--sweep given {len(given)} times: at most twice (one run per pair of values)")
    return given[0], (given if len(given) == 2 else None)


def _warn_if_slow(need: Estimate) -> None:
    """One line on stderr, before a run whose epochs may take more than a minute."""
    from quadtui.core.budget import slow_warning

    warning = slow_warning(need)
    if warning is not None:
        print(f"quadtui: warning: {warning}; ctrl+c stops it", file=sys.stderr)


def entry() -> NoReturn:
    """The ``quadtui`` command: :func:`main`, then leave without the interpreter's teardown.

    By then the terminal is restored and any run cancelled; tearing down torch
    would only delay the return to the shell (by up to a second).
    """
    code = main()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:  # e.g. `quadtui --print-code | head`: the reader has what it wanted
        pass
    except (OSError, ValueError) as exc:  # a full device takes the last bytes only now
        code = _output_failed(exc) if isinstance(exc, OSError) else EXIT_FAILED
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)
