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
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quadtui.core.config import DEFAULT, FIELDS, Config, ConfigError, shorten
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


#: The most a config (or lesson) file may hold: a config is a few hundred bytes.
MAX_FILE_BYTES = 1_000_000

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def read_text(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; anything else is one ConfigFileError.

    The file is opened without blocking and looked at before anything is read, so
    a FIFO (which would wait for a writer forever), ``/dev/zero`` (which never
    ends), a folder or a huge file is refused at once, never read.
    """
    shown = shorten(str(path), 160)
    try:
        fd = os.open(Path(path).expanduser(), os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigFileError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, RuntimeError):  # a NUL byte in the name; "~" with no home folder
        raise ConfigFileError(f"{shown}: cannot read it (not a usable file name)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a file")
            raise ConfigFileError(f"{shown}: not a regular file (it is {kind})")
        too_big = ConfigFileError(f"{shown}: larger than {_size(limit)}: not a config or lesson file")
        if info.st_size > limit:
            raise too_big
        data = b""
        while len(data) <= limit:  # the size may change while reading: never read past the limit
            chunk = os.read(fd, limit + 1 - len(data))
            if not chunk:
                break
            data += chunk
        if len(data) > limit:
            raise too_big
    except OSError as exc:
        raise ConfigFileError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{shown}: not a text (UTF-8) file (bad byte at offset {exc.start})") from None


def _size(limit: int) -> str:
    return f"{limit / 1e6:g} MB" if limit >= 1_000_000 else f"{limit / 1e3:g} KB"


def read_toml(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> dict[str, Any]:
    """Parse a TOML file; any failure is one :class:`ConfigFileError` line with the line number."""
    shown = shorten(str(path), 160)
    text = read_text(path, limit)
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
            raise ConfigFileError(f"{shown}: not valid TOML: {shorten(message, 120)}") from None
        reason = shorten(reason, 120)
        raise ConfigFileError(f"{shown}, line {line}: not valid TOML: {reason} ({column})", line=line) from None
    except RecursionError:  # [[[[... thousands deep: the parser gives up; so do we, in one line
        raise ConfigFileError(f"{shown}: not a config file: lists or tables nested too deeply") from None
    except Exception as exc:  # whatever else the parser meets: still one line, never a traceback
        raise ConfigFileError(f"{shown}: not valid TOML ({type(exc).__name__})") from None


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
    return config_from_values(read_toml(path), base, source=shorten(str(path), 160))
