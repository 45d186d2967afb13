"""Configs as TOML files and as the ``quadtui ...`` command line that reproduces them.

A config file holds the fields of :class:`~quadtui.core.config.Config`, one per
line, in the same words as the command-line flags (``lr = 0.05``,
``batch_size = 16``).  Every problem — a TOML syntax error, an unknown key, a
value out of range — is one :class:`ConfigFileError` line naming the file and
the line or the key.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Mapping

from quadtui.core.config import DEFAULT, FIELDS, Config, ConfigError
from quadtui.core.files import atomic_write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HEADER = "# quadtui config: load it with `quadtui --config FILE`\n"


class ConfigFileError(ValueError):
    """A config (or lesson) file cannot be used; the message is one line.

    ``field`` is the offending config field when there is one (so a form can
    point at it), ``line`` the line of a TOML syntax error when known.
    """

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.line = line


# -- writing ---------------------------------------------------------------------------
def config_values(config: Config) -> dict[str, Any]:
    """The config's fields in :data:`FIELDS` order, without the ``None`` (default-rule) ones."""
    return {name: getattr(config, name) for name in FIELDS if getattr(config, name) is not None}


def config_to_toml(config: Config) -> str:
    """The whole config as TOML (``None`` fields, which mean "the default rule", are left out)."""
    import tomli_w

    return HEADER + tomli_w.dumps(config_values(config))


def save_config_file(config: Config, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``config`` as TOML, atomically; raises ``FileWriteError`` (one line) on failure."""
    return atomic_write(path, config_to_toml(config), overwrite=overwrite)


def command_line(config: Config, program: str = "quadtui") -> str:
    """The shell command that reproduces ``config``: only the flags that differ from the defaults."""
    parts = [program]
    for name, value in config.diff(DEFAULT).items():
        flag = "--" + name.replace("_", "-")
        text = "full" if value is None else _text(value)
        if text.startswith("-"):  # --x-min=-3 (a separate "-3" would look like a flag)
            parts.append(shlex.quote(f"{flag}={text}"))
        else:
            parts += [flag, shlex.quote(text)]
    return " ".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


# -- reading ---------------------------------------------------------------------------
_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = " (at end of document)"


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a TOML file; any failure is one :class:`ConfigFileError` line with the line number."""
    shown = str(path)
    try:
        text = Path(path).expanduser().read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(f"{shown}: not a text (UTF-8) file") from None
    except OSError as exc:
        raise ConfigFileError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _WHERE.search(message)
        if where is not None:
            line, reason, column = int(where.group(1)), message[: where.start()], f"column {where.group(2)}"
        elif message.endswith(_AT_END):  # e.g. a string that is never closed
            line, reason, column = len(text.splitlines()) or 1, message[: -len(_AT_END)], "end of the file"
        else:
            raise ConfigFileError(f"{shown}: not valid TOML: {message}") from None
        raise ConfigFileError(f"{shown}, line {line}: not valid TOML: {reason} ({column})", line=line) from None


def config_from_values(values: Mapping[str, Any], base: Config | None = None, *, source: str) -> Config:
    """Check a table of config values read from ``source`` and apply it over ``base``."""
    for key, value in values.items():
        if key in FIELDS and isinstance(value, (dict, list)):
            raise ConfigFileError(f"{source}: {key} must be a single value ({FIELDS[key].allowed})", field=key)
    try:
        return Config.from_mapping(values, base=base)
    except ConfigError as exc:
        if exc.field not in FIELDS:  # "a known field (did you mean lr?)"
            raise ConfigFileError(f"{source}: unknown key {exc.field!r}; must be {exc.allowed}") from None
        raise ConfigFileError(f"{source}: {exc}", field=exc.field) from None


def load_config_file(path: str | os.PathLike[str], base: Config | None = None) -> Config:
    """The config a TOML file describes; fields it leaves out keep ``base``'s (or the default) values."""
    return config_from_values(read_toml(path), base, source=str(path))
