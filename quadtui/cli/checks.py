"""Turning parsed flags into a checked run: config, lesson, threads, modes. One-line UsageErrors."""

from __future__ import annotations

import argparse
import importlib
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from quadtui.core.config import FIELDS, Config, ConfigError, shown
from quadtui.core.control import DEFAULT_SPEED
from quadtui.core.lesson import Lesson, load_lesson
from quadtui.core.tomlio import ConfigFileError, load_config_file

if TYPE_CHECKING:
    from quadtui.core.budget import Estimate

T = TypeVar("T")
THREADS_ENV = "QUADTUI_THREADS"
MAX_SPEED = 1_000_000


class UsageError(Exception):
    """Bad command-line usage; the message is one line."""


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def parse_config(args: argparse.Namespace, base: Config | None = None) -> Config:
    """The config the flags describe (flags not given keep ``base``'s values)."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    for name, value in given.items():  # a flag given with no value is a mistake, not "the default"
        if name == "batch_size" and isinstance(value, str) and not value.strip():
            raise UsageError(f"{flag(name)} {as_typed(value)}: not allowed; must be {FIELDS[name].allowed}")
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


def flag_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse`` as an argparse ``type=``: its one-line UsageError becomes argparse's error, word for word."""

    def convert(raw: str) -> T:
        try:
            return parse(raw)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__  # argparse names the type by it in other errors
    return convert


def parse_threads(raw: str, source: str = "--threads") -> int:
    """``--threads N`` (or the variable's value): 1 to 64."""
    threads = _whole_number(raw)
    if threads is None or not 1 <= threads <= 64:
        raise UsageError(f"{source} {as_typed(raw)}: not allowed; must be a whole number from 1 to 64")
    return threads


def threads_given(flag_value: int | None) -> int:
    """The ``--threads`` flag's value, else ``$QUADTUI_THREADS``'s (empty: unset), else 1."""
    if flag_value is not None:
        return flag_value
    raw = os.environ.get(THREADS_ENV)
    return parse_threads(raw, THREADS_ENV) if raw else 1


def parse_neuron(raw: str | None, config: Config) -> tuple[int | None, int]:
    """``--neuron I`` (unit I of the last hidden layer) or ``--neuron L:I`` (layer L, 1-based):
    (layer or None for the last, unit)."""
    if raw is None:
        return None, 0
    layer_text, colon, unit_text = str(raw).partition(":")
    layer = _whole_number(layer_text) if colon else None
    neuron = _whole_number(unit_text if colon else layer_text)
    if (
        (colon and (layer is None or not 1 <= layer <= config.layers))
        or neuron is None
        or not 0 <= neuron < config.hidden
    ):
        raise UsageError(
            f"--neuron {as_typed(raw)}: not allowed; must be a whole number from 0 to {config.hidden - 1}, "
            f"or LAYER:UNIT with LAYER from 1 to {config.layers}"
        )
    return layer, neuron


VIEWS = ("charts", "network")


def parse_view(raw: str) -> str:
    """``--view``: what the app's chart area shows first."""
    view = str(raw).strip().lower()
    if view not in VIEWS:
        raise UsageError(f"--view {as_typed(raw)}: not allowed; must be one of {', '.join(VIEWS)}")
    return view


def check_modes(args: argparse.Namespace) -> None:
    """Refuse flags that make no sense without another, naming them.

    (Two modes at once, such as ``--headless --serve``, are the parser's mutually exclusive group.)
    """
    if args.speed is not None and args.headless:
        raise UsageError("--speed is for the app: --headless always trains at full speed")
    needs = {
        "json": "headless",
        "export": "headless",
        "host": "serve",
        "port": "serve",
        "max_sessions": "serve",
        "public_url": "serve",
        "serve_dir": "serve",
        "reload_grace": "serve",
    }
    if getattr(args, "board", False):
        needs.pop("json")  # --board --json prints the class board
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
        sweep_cli = importlib.import_module("quadtui.cli.sweep")
    except ModuleNotFoundError as exc:
        if exc.name != "quadtui.cli.sweep":
            raise
        raise UsageError("--sweep: not available") from None
    parse = getattr(sweep_cli, "parse_sweep_spec", None)
    if parse is None:
        parse = importlib.import_module("quadtui.core.sweep.spec").parse_sweep_spec  # no torch
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


#: ``--speed full``: as fast as the computer can (the app's speed None)
FULL_SPEED = math.inf


def parse_speed(raw: str) -> float:
    """``--speed``: epochs per second for the app, or :data:`FULL_SPEED` for ``full``."""
    text = raw.strip().lower()
    if text in ("full", "max"):
        return FULL_SPEED
    try:
        speed = float(text.replace("_", ""))
    except ValueError:
        speed = float("nan")
    if not 0.1 <= speed <= MAX_SPEED:  # nan fails too
        raise UsageError(
            f"--speed {as_typed(raw)}: not allowed; must be 'full' or epochs per second from 0.1 to {MAX_SPEED:,}"
        )
    return int(speed) if speed.is_integer() else speed


def app_speed(given: float | None) -> float | None:
    """The app's pace from the parsed ``--speed`` (not given: the default; full: None, no pacing)."""
    if given is None:
        return DEFAULT_SPEED
    return None if given == FULL_SPEED else given


def check_budget(args: argparse.Namespace, config: Config) -> tuple[int, Estimate | None]:
    """The memory budget (bytes) and the run's or sweep's estimate; over the budget is a UsageError.

    No torch: the estimate comes from the config alone (quadtui.core.budget).
    """
    from quadtui.core import budget

    try:
        limit, _ = budget.memory_budget(args.max_memory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.print_config or args.print_code:
        return limit, None
    sweep = None
    if args.sweep is not None:
        from quadtui.core.sweep.spec import parse_sweep_spec

        try:
            sweep = parse_sweep_spec(args.sweep, config)
        except ValueError:  # check_sweep has said why
            return limit, None
    need = budget.estimate(config, sweep)
    refusal = budget.over_budget(need, limit)
    if refusal is not None:
        raise UsageError(refusal)
    return limit, need


def parse_serve_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--serve`` options (port, sessions, public URL, folder, reload grace) as ``serve()`` takes them."""
    from quadtui.cli import serve

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


def check_grid(args: argparse.Namespace, specs: list[str], config: Config) -> Estimate:
    """Two ``--sweep``: parsed (each pair a valid config) and within the memory budget."""
    from quadtui.core import budget
    from quadtui.core.sweep.grid import grid_estimate, parse_grid_specs

    try:
        params, values = parse_grid_specs(specs, config)
    except ValueError as exc:
        raise UsageError(f"--sweep {' '.join(specs)[:60]}: {' '.join(str(exc).split())}") from None
    need = grid_estimate(config, params, values)
    try:
        limit, _ = budget.memory_budget(args.max_memory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    refusal = budget.over_budget(need, limit)
    if refusal is not None:
        raise UsageError(refusal)
    return need
