"""One posted run as the class board lists it, and the board's filter.

Rows come from a class database (:mod:`quadtui.core.classroom`) that another user owns,
so everything in them is treated as hostile: numbers are coerced by the list query
itself (:data:`LIST_QUERY`), texts are shown only through :func:`clean_text`, and a
posted config is read for known fields only.  No textual, no torch here.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, NamedTuple

from quadtui.core.config import DEFAULT, FIELDS

MAX_TEXT = 60
MAX_CONFIG = 4096
_DEFAULTS = DEFAULT.to_json()


class BoardEntry(NamedTuple):
    """One posted run, as the board lists it: a tuple straight from the list query (fast to make in bulk)."""

    rank: float  # the eval loss, or inf without one: the sort key
    newest: float  # -finished_at: the tie-break, newest first
    user: str  # the database file's owner
    run_id: int
    finished_at: float
    status: str
    epochs_run: int
    final_loss: float | None
    eval_loss: float | None
    lesson_raw: object  # as posted: shown only through clean_text
    config_text: object  # as posted: read through parse_config
    source: str  # the database file

    @property
    def path(self) -> Path:
        return Path(self.source)

    @property
    def lesson(self) -> str:
        return _lesson_text(self.lesson_raw)

    @property
    def config(self) -> dict[str, Any]:
        """The posted config as JSON values; only known fields (a hostile row's extras are dropped)."""
        return parse_config(self.config_text)

    @property
    def changed(self) -> dict[str, Any]:
        """The settings that differ from the defaults."""
        return changed_settings(self.config_text)

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "config": {**_DEFAULTS, **self.config},
            "status": self.status,
            "final_loss": _finite(self.final_loss),
            "eval_loss": _finite(self.eval_loss),
            "finished_at": time_text("%Y-%m-%dT%H:%M:%SZ", self.finished_at, utc=True),
            "lesson": self.lesson or None,
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def time_text(form: str, seconds: float, utc: bool = False) -> str:
    """``seconds`` (since the epoch) as ``form`` says; ``?`` for a time no clock shows."""
    try:
        return time.strftime(form, time.gmtime(seconds) if utc else time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return "?"


#: The list query.  SQLite stores any type in any column, so the numbers are made numbers by
#: SQLite's own cheap arithmetic (text becomes its number or 0, NULL stays NULL) and the status is
#: one of the known words: every row becomes a BoardEntry without a Python check per field.
#: Texts (lesson, config) are checked when shown (the table shows only the best few hundred).
LIST_QUERY = (
    "SELECT ifnull(eval_loss + 0.0, 9e999), -finished_at, ?, CAST(id AS INTEGER), finished_at + 0.0, "
    "CASE WHEN status IN ('done', 'diverged', 'stopped') THEN status ELSE '?' END, "
    "max(CAST(epochs_run AS INTEGER), 0), final_loss + 0.0, eval_loss + 0.0, lesson, config, ? FROM runs"
)
_lessons: dict[object, str] = {}


def _lesson_text(raw: object) -> str:
    try:
        text = _lessons.get(raw)
    except TypeError:
        return ""
    if text is None:
        if len(_lessons) > 10_000:
            _lessons.clear()
        text = _lessons[raw] = clean_text(raw, 40)
    return text


_parsed: dict[str, dict[str, Any]] = {}
_changed: dict[str, dict[str, Any]] = {}


def parse_config(text: object) -> dict[str, Any]:
    """Known fields of a posted config (cached: a class posts the same configs again and again)."""
    if not isinstance(text, str) or len(text) > MAX_CONFIG:
        return {}
    got = _parsed.get(text)
    if got is None:
        try:
            raw = json.loads(text)
        except ValueError:
            raw = {}
        got = {k: v for k, v in raw.items() if k in FIELDS and _plain(v)} if isinstance(raw, dict) else {}
        if len(_parsed) > 50_000:
            _parsed.clear()
        _parsed[text] = got
    return got


def changed_settings(text: object) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    got = _changed.get(text)
    if got is None:
        got = {k: v for k, v in parse_config(text).items() if v != _DEFAULTS.get(k)}
        if len(_changed) > 50_000:
            _changed.clear()
        _changed[text] = got
    return got


def _plain(value: object) -> bool:
    return value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 200)


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    """A posted text made safe to show: printable characters only, at most ``limit`` of them."""
    if not isinstance(value, str):
        return ""
    text = "".join(c if c.isprintable() else " " for c in value[: limit * 4])
    return text[:limit].strip()


def setting_text(name: str, value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:.6g}"
    return clean_text(f"{name}={value}", 40)


# -- filtering ---------------------------------------------------------------------------------------
FILTER_HELP = "user=NAME · lesson=NAME · a setting (lr) · a value (hidden=4) · any word"


def entry_matches(entry: BoardEntry, words: list[str]) -> bool:
    """Does ``entry`` pass every word of a board filter (see :data:`FILTER_HELP`)?"""
    for word in words:
        name, sep, value = word.partition("=")
        name = name.replace("-", "_")
        if sep and name == "user":
            ok = value in entry.user.lower()
        elif sep and name == "lesson":
            ok = value in entry.lesson.lower()
        elif sep and name in FIELDS:
            ok = _same(entry.config.get(name, _DEFAULTS[name]), value)
        elif not sep and name in FIELDS:
            ok = name in entry.changed
        else:
            ok = (
                word in entry.user.lower()
                or word in entry.lesson.lower()
                or any(word in setting_text(k, v).lower() for k, v in entry.changed.items())
            )
        if not ok:
            return False
    return True


def _same(stored: Any, typed: str) -> bool:
    if isinstance(stored, (int, float)) and not isinstance(stored, bool):
        try:
            return math.isclose(float(stored), float(typed), rel_tol=1e-9)
        except ValueError:
            return False
    return str(stored).lower() == typed
