"""Command line: one set of flags for the TUI and for ``--headless`` runs.

Nothing heavy is imported at module level: the TUI must paint its first frame
before torch is loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Sequence

from quadtui import __version__
from quadtui.core.config import DEFAULT, FIELDS, Config, ConfigError

THREADS_ENV = "QUADTUI_THREADS"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: the notebook's names for the fields it has
_NOTEBOOK_NAMES = {"lr": "LEARNING_RATE", "epochs": "EPOCHS", "hidden": "N_HIDDEN"}


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


class UsageError(Exception):
    """Bad command-line usage; the message is one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage block
        raise UsageError(message)


def _default_text(name: str) -> str:
    value = getattr(DEFAULT, name)
    if name == "batch_size":
        return "full"
    if value is None:
        return "the sample range"
    return str(value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="quadtui",
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
    run = parser.add_argument_group("running")
    run.add_argument("--headless", action="store_true", help="train without the UI and print a summary")
    run.add_argument("--json", action="store_true", help="with --headless: print one JSON object on stdout")
    run.add_argument(
        "--threads",
        default=None,
        metavar="N",
        help=f"torch CPU threads, 1 to 64; default 1 (or ${THREADS_ENV})",
    )
    app = parser.add_argument_group("app")
    app.add_argument("--run", action="store_true", help="start training as soon as the app opens")
    app.add_argument("--neuron", default=None, metavar="N", help="hidden neuron shown first, 0 to hidden-1")
    return parser


def parse_config(args: argparse.Namespace, base: Config | None = None) -> Config:
    """The config the flags describe (flags not given keep ``base``'s values)."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    try:
        return Config.from_mapping(given, base=base)
    except ConfigError as exc:
        raise UsageError(_flag_message(exc)) from None


def _flag_message(exc: ConfigError) -> str:
    value = exc.value if exc.value is not None else "(empty)"
    shown = str(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{flag(exc.field)} {shown}: not allowed; must be {exc.allowed}"


def parse_threads(raw: str | None) -> int:
    source = "--threads"
    if raw is None:
        raw, source = os.environ.get(THREADS_ENV), THREADS_ENV
    if raw is None or raw == "":
        return 1
    try:
        threads = int(str(raw).strip())
    except ValueError:
        threads = 0
    if not 1 <= threads <= 64:
        raise UsageError(f"{source} {str(raw)[:40]}: not allowed; must be a whole number from 1 to 64")
    return threads


def parse_neuron(raw: str | None, config: Config) -> int:
    if raw is None:
        return 0
    try:
        neuron = int(str(raw).strip())
    except ValueError:
        neuron = -1
    if not 0 <= neuron < config.hidden:
        raise UsageError(
            f"--neuron {str(raw)[:40]}: not allowed; must be a whole number from 0 to {config.hidden - 1}"
        )
    return neuron


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        config = parse_config(args)
        threads = parse_threads(args.threads)
        neuron = parse_neuron(args.neuron, config)
        if args.json and not args.headless:
            raise UsageError("--json needs --headless")
    except UsageError as exc:
        print(f"quadtui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.headless:
        from quadtui.headless import run_headless

        return run_headless(config, threads=threads, as_json=args.json)
    from quadtui.tui.app import QuadApp

    app = QuadApp(config, threads=threads, neuron=neuron, autorun=args.run)
    app.run()
    return app.return_code or 0
