"""Turning parsed flags into a checked run: config, lesson, threads, modes. One-line UsageErrors."""

from __future__ import annotations

import argparse
import importlib
import os

from quadtui.core.config import FIELDS, Config, ConfigError, shown
from quadtui.core.lesson import Lesson, load_lesson
from quadtui.core.tomlio import ConfigFileError, load_config_file

THREADS_ENV = "QUADTUI_THREADS"


class UsageError(Exception):
    """Bad command-line usage; the message is one line."""


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def parse_config(args: argparse.Namespace, base: Config | None = None) -> Config:
    """The config the flags describe (flags not given keep ``base``'s values)."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    try:
        return Config.from_mapping(given, base=base)
    except ConfigError as exc:
        raise UsageError(_flag_message(exc)) from None


def as_typed(value: object) -> str:
    """A flag's value as the user typed it, quoted only when it is empty, spaced or unprintable."""
    text = value if isinstance(value, str) else str(value)
    plain = text and text.isprintable() and not any(c.isspace() for c in text) and len(text) <= 40
    return text if plain else shown(value, 40)


def _flag_message(exc: ConfigError) -> str:
    value = "(empty)" if exc.value is None else as_typed(exc.value)
    return f"{flag(exc.field)} {value}: not allowed; must be {exc.allowed}"


def _whole_number(raw: str) -> int | None:
    """``raw`` as a whole number ("8", " 8 ", "8.0", "1e1"), or None."""
    text = str(raw).strip().replace("_", "")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**63 else None


def parse_threads(raw: str | None) -> int:
    source = "--threads"
    if raw is None:
        raw, source = os.environ.get(THREADS_ENV), THREADS_ENV
    if raw is None or raw == "":
        return 1
    threads = _whole_number(raw)
    if threads is None or not 1 <= threads <= 64:
        raise UsageError(f"{source} {as_typed(raw)}: not allowed; must be a whole number from 1 to 64")
    return threads


def parse_neuron(raw: str | None, config: Config) -> int:
    if raw is None:
        return 0
    neuron = _whole_number(raw)
    if neuron is None or not 0 <= neuron < config.hidden:
        raise UsageError(
            f"--neuron {as_typed(raw)}: not allowed; must be a whole number from 0 to {config.hidden - 1}"
        )
    return neuron


def check_modes(args: argparse.Namespace) -> None:
    """Refuse flags that make no sense together, naming them."""
    modes = [f for f in ("headless", "serve", "print_config", "print_code") if getattr(args, f)]
    if len(modes) > 1:
        raise UsageError(f"{flag(modes[0])} and {flag(modes[1])} cannot be used together")
    needs = {"json": "headless", "export": "headless", "host": "serve", "port": "serve", "max_sessions": "serve",
             "public_url": "serve", "serve_dir": "serve", "reload_grace": "serve"}
    for option, mode in needs.items():
        if getattr(args, option) not in (None, False) and not getattr(args, mode):
            raise UsageError(f"{flag(option)} needs {flag(mode)}")
    if args.export is not None and args.sweep is not None:
        raise UsageError("--export cannot be used with --sweep (export one run at a time)")


def resolve_config(args: argparse.Namespace) -> tuple[Config, Lesson | None]:
    """Defaults, then the --config file, then the lesson's presets, then the flags."""
    base = None
    if args.config is not None:
        try:
            base = load_config_file(args.config)
        except ConfigFileError as exc:
            raise UsageError(f"--config {exc}") from None
    lesson = None
    if args.lesson is not None:
        try:
            lesson = load_lesson(args.lesson)
            base = lesson.apply(base)
        except (ConfigFileError, ConfigError) as exc:
            raise UsageError(f"--lesson {exc}") from None
        locked = [name for name in lesson.lock + lesson.hide if getattr(args, name) is not None]
        if locked:
            raise UsageError(f"{flag(locked[0])}: locked by the lesson {lesson.name!r}")
    return parse_config(args, base), lesson


def check_sweep(spec: str, config: Config) -> None:
    """Parse the sweep now, so a typo is a usage error before anything runs."""
    try:
        sweep_cli = importlib.import_module("quadtui.sweep_cli")
    except ModuleNotFoundError as exc:
        if exc.name != "quadtui.sweep_cli":
            raise
        raise UsageError("--sweep: not available") from None
    parse = getattr(sweep_cli, "parse_sweep_spec", None)
    if parse is None:
        parse = importlib.import_module("quadtui.core.sweep").parse_sweep_spec
    try:
        parse(spec, config)
    except ValueError as exc:  # ConfigError is a ValueError too
        raise UsageError(f"--sweep {spec[:40]}: {' '.join(str(exc).split())}") from None


def check_export(folder: str) -> None:
    """Refuse an unusable export folder before training, not after."""
    from quadtui.core.export import check_folder
    from quadtui.core.files import FileWriteError

    try:
        check_folder(folder)
    except FileWriteError as exc:
        raise UsageError(f"--export {exc}") from None


def parse_serve_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``--serve`` options (port, sessions, public URL, folder, reload grace) as ``serve()`` takes them."""
    from quadtui import serve

    try:
        return {
            "port": serve.parse_port(args.port),
            "max_sessions": serve.parse_max_sessions(args.max_sessions),
            "public_url": serve.parse_public_url(args.public_url),
            "serve_dir": serve.parse_serve_dir(args.serve_dir),
            "reload_grace": serve.parse_reload_grace(args.reload_grace),
        }
    except ValueError as exc:
        raise UsageError(str(exc)) from None
