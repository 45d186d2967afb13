"""Lessons: a title, an explanation, preset values, and which fields the learner may not touch.

A lesson is a small TOML file a teacher can write::

    title = "How many neurons do you need?"
    explanation = \"\"\"
    Change the number of hidden units and train again ...
    \"\"\"
    lock = ["lr", "epochs"]      # shown, but not editable
    hide = ["momentum", "noise"] # not shown at all

    [config]                     # preset values, the same keys as a config file
    hidden = 1

Shipped lessons live in ``quadtui/lessons/`` and are found by name
(``quadtui --lesson how-many-neurons``).  Every problem is one
:class:`LessonError` line naming the file and the line, key or value.

Lessons are shared files, so their text is treated as hostile: the title and
the explanation lose every control and format character (ESC, CSI, OSC, C1,
bidi overrides: whatever could move the cursor, set the clipboard or retitle
the window) except newlines and tabs, and the file and its texts have a size
limit.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from quadtui.core.config import FIELDS, Config, shorten
from quadtui.core.tomlio import ConfigFileError, config_from_values, read_toml

KEYS = ("title", "explanation", "config", "lock", "hide")

#: Size limits: a lesson is a page of text (the shipped ones are about 1 KB).
MAX_LESSON_BYTES = 64_000
MAX_TITLE = 120
MAX_EXPLANATION = 20_000


class LessonError(ConfigFileError):
    """A lesson file cannot be used; the message is one line."""


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem: "how-many-neurons"
    title: str
    explanation: str
    preset: Mapping[str, Any] = field(default_factory=dict)  # the [config] values, checked
    lock: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    path: Path | None = None

    def apply(self, base: Config | None = None) -> Config:
        """``base`` (or the defaults) with the lesson's preset values."""
        return Config.from_mapping(self.preset, base=base)

    @property
    def config(self) -> Config:
        return self.apply()

    def editable(self, name: str) -> bool:
        """May the learner change this field?"""
        return name not in self.lock and name not in self.hide


def shipped_lessons() -> dict[str, Path]:
    """The lessons that come with quadtui, by name."""
    folder = resources.files("quadtui") / "lessons"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name[: -len(".toml")]] = Path(str(entry))
    return dict(sorted(found.items()))


def find_lesson(ref: str | os.PathLike[str]) -> Path:
    """A lesson file: ``ref`` itself if it is a file, else the shipped lesson of that name."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    name = str(ref)
    name = name[: -len(".toml")] if name.endswith(".toml") else name
    shipped = shipped_lessons()
    if name in shipped:
        return shipped[name]
    if os.path.exists(path):  # a folder, a FIFO, a device: read_toml says which, and never reads it
        return path
    shown = shorten(str(ref), 160)
    raise LessonError(f"{shown}: no such lesson file or shipped lesson (shipped: {', '.join(shipped)})")


def load_lesson(ref: str | os.PathLike[str]) -> Lesson:
    """Load and check a lesson from a file path or a shipped lesson's name."""
    path = find_lesson(ref)
    try:
        data = read_toml(path, limit=MAX_LESSON_BYTES)
    except ConfigFileError as exc:
        raise LessonError(str(exc), line=exc.line) from None
    return lesson_from_mapping(data, name=path.stem, path=path, source=shorten(str(ref), 160))


def lesson_from_mapping(
    data: Mapping[str, Any], *, name: str, path: Path | None = None, source: str | None = None
) -> Lesson:
    source = source or name
    unknown = [key for key in data if key not in KEYS]
    if unknown:
        raise LessonError(f"{source}: unknown key {unknown[0]!r}; a lesson has {', '.join(KEYS)}")
    title = data.get("title")
    if not isinstance(title, str) or not safe_text(title).strip():
        raise LessonError(f"{source}: title must be a non-empty string")
    title = " ".join(safe_text(title).split())  # one line
    if len(title) > MAX_TITLE:
        raise LessonError(f"{source}: title is longer than {MAX_TITLE} characters")
    explanation = data.get("explanation", "")
    if not isinstance(explanation, str):
        raise LessonError(f"{source}: explanation must be a string")
    explanation = _tidy(safe_text(explanation))
    if len(explanation) > MAX_EXPLANATION:
        raise LessonError(f"{source}: explanation is longer than {MAX_EXPLANATION:_} characters")
    preset = data.get("config", {})
    if not isinstance(preset, dict):
        raise LessonError(f"{source}: config must be a table ([config] followed by key = value lines)")
    try:
        config = config_from_values(preset, source=f"{source} [config]")
    except ConfigFileError as exc:
        raise LessonError(str(exc), field=exc.field) from None
    checked = {key: getattr(config, key) for key in preset}
    return Lesson(
        name=" ".join(safe_text(name).split()) or "lesson",
        title=title,
        explanation=explanation,
        preset=checked,
        lock=_fields(data, "lock", source),
        hide=_fields(data, "hide", source),
        path=path,
    )


def _fields(data: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    names = data.get(key, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise LessonError(f'{source}: {key} must be a list of field names, like {key} = ["lr"]')
    for name in names:
        if name not in FIELDS:
            raise LessonError(f"{source}: {key} names unknown field {name!r}; fields: {', '.join(FIELDS)}", field=None)
    return tuple(dict.fromkeys(names))


#: Characters kept although their category would drop them; line and paragraph separators become newlines.
_KEPT = {"\n", "\t"}
_NEWLINES = {"\u2028", "\u2029", "\x85"}


def safe_text(text: str) -> str:
    """``text`` without the characters that could reach the terminal as anything but text.

    Drops every control character (C0 such as ESC, DEL, C1 U+0080-U+009F) but
    newline and tab, and every format character (bidi overrides and isolates
    U+202A-U+202E and U+2066-U+2069, marks such as U+200E, soft hyphens ...);
    the line separators U+2028, U+2029 and NEL become newlines.
    """
    out = []
    for char in text:
        if char in _NEWLINES:
            out.append("\n")
        elif char in _KEPT or unicodedata.category(char) not in ("Cc", "Cf", "Cs"):
            out.append(char)
    return "".join(out)


def _tidy(text: str) -> str:
    """Strip the blank lines around a multi-line string and the spaces that end its lines."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()
