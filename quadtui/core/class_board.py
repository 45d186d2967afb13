"""Reading the class folder: every student's runs, read-only, each named by its file's owner.

:class:`ClassBoard` scans ``DIR/*/runs.sqlite`` (see :mod:`quadtui.core.classroom`),
reads the list columns of each database read-only and keeps them per file, keyed
by the file's size and modification time (and its ``-wal``'s), so a refresh reads
only what changed.  The fit and loss curve of a run are read when asked for.

A class folder is shared, so every file in it is treated as hostile: a corrupt,
foreign (another program's SQLite file), unreadable or linked file is skipped and
named in :attr:`ClassBoard.skipped`; odd values in a row are coerced or the row is
dropped, and texts lose every control character.  No textual, no torch here.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import stat
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from quadtui.core.classroom import APP_ID, DB_NAME, STATUSES, from_blob, user_name
from quadtui.core.config import DEFAULT, FIELDS

MAX_TEXT = 60
MAX_CONFIG = 4096
_DEFAULTS = DEFAULT.to_json()
_LIST = "SELECT id, finished_at, status, epochs_run, final_loss, eval_loss, lesson, config FROM runs"


@dataclass(frozen=True)
class BoardEntry:
    """One posted run, as the board lists it."""

    user: str  # the database file's owner
    run_id: int
    finished_at: float
    status: str
    epochs_run: int
    final_loss: float | None
    eval_loss: float | None
    lesson: str
    config_text: str = field(repr=False)
    path: Path = field(repr=False, compare=False)

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
            "user": self.user, "config": {**_DEFAULTS, **self.config}, "status": self.status,
            "final_loss": self.final_loss, "eval_loss": self.eval_loss,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.finished_at)),
            "lesson": self.lesson or None,
        }


_parsed: dict[str, dict[str, Any]] = {}
_changed: dict[str, dict[str, Any]] = {}


def parse_config(text: str) -> dict[str, Any]:
    """Known fields of a posted config (cached: a class posts the same configs again and again)."""
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


def changed_settings(text: str) -> dict[str, Any]:
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


@dataclass
class _File:
    signature: tuple[int, ...]
    entries: list[BoardEntry]
    problem: str | None


class ClassBoard:
    """Everyone's runs in a class folder; :meth:`refresh` re-reads only the databases that changed."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._files: dict[str, _File] = {}
        self.entries: list[BoardEntry] = []  # sorted by eval loss, runs without one last
        self.skipped: list[str] = []  # "name: why", one a file
        self.version = 0

    def refresh(self) -> bool:
        """Scan the folder; True when the list changed."""
        seen: dict[str, _File] = {}
        changed = False
        try:
            names = sorted(os.listdir(self.folder))
        except OSError as exc:
            problem = f"{self.folder}: {exc.strerror or exc}"
            changed = self.skipped != [problem] or bool(self.entries)
            self._files, self.entries, self.skipped = {}, [], [problem]
            self.version += changed
            return changed
        for name in names:
            if name.startswith("."):
                continue
            folder = self.folder / name
            signature, problem = _signature(folder)
            if signature is None and problem is None:
                continue  # a plain file or an empty folder: not a student's
            old = self._files.get(name)
            if old is not None and old.signature == signature and signature is not None:
                seen[name] = old
                continue
            changed = True
            if problem is not None:
                seen[name] = _File((), [], problem)
            else:
                entries, problem = read_entries(folder / DB_NAME)
                seen[name] = _File(signature or (), entries, problem)
        changed = changed or set(seen) != set(self._files)
        self._files = seen
        if changed:
            entries = [e for f in seen.values() for e in f.entries]
            entries.sort(key=lambda e: (e.eval_loss is None, e.eval_loss or 0.0, -e.finished_at))
            self.entries = entries
            self.skipped = [f"{clean_text(name, 40)}: {f.problem}" for name, f in seen.items() if f.problem]
            self.version += 1
        return changed

    def status_line(self) -> str:
        """One line: how many runs and users, and what was skipped."""
        users = len({e.user for e in self.entries})
        line = f"{len(self.entries):,} runs by {users} {'user' if users == 1 else 'users'}"
        if self.skipped:
            line += f" · skipped {len(self.skipped)}: " + "; ".join(self.skipped)
        return line


def _signature(folder: Path) -> tuple[tuple[int, ...] | None, str | None]:
    """(size and times of the student's database and its WAL, None) — or (None, why it is skipped)."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if stat.S_ISLNK(info.st_mode):
        return None, "a link (skipped: only real folders count)"
    if not stat.S_ISDIR(info.st_mode):
        return None, None
    database = folder / DB_NAME
    try:
        db = os.lstat(database)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if not stat.S_ISREG(db.st_mode):
        return None, f"{DB_NAME} is not a plain file"
    if db.st_uid != info.st_uid:
        return None, f"{DB_NAME} belongs to {user_name(db.st_uid)}, the folder to {user_name(info.st_uid)}"
    try:
        wal = os.stat(f"{database}-wal")
        # an empty WAL is no WAL (a reader may make one): only runs not yet checkpointed count
        wal_sig: tuple[int, ...] = (wal.st_size, wal.st_mtime_ns) if wal.st_size else (0, 0)
    except OSError:
        wal_sig = (0, 0)
    return (db.st_size, db.st_mtime_ns, db.st_ino, *wal_sig), None


def _connect(path: Path) -> sqlite3.Connection:
    """Read-only; when the writer's WAL files are gone (no writer now) and cannot be made here, immutable."""
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    con = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2.0, check_same_thread=False)
    try:
        con.execute("PRAGMA application_id").fetchone()
        return con
    except sqlite3.OperationalError:
        con.close()
        if os.path.exists(f"{path}-wal"):
            raise
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def read_entries(path: Path) -> tuple[list[BoardEntry], str | None]:
    """A database's runs, or ([], why it is skipped)."""
    try:
        user = user_name(os.stat(path).st_uid)
        con = _connect(path)
    except (OSError, sqlite3.Error) as exc:
        return [], _why(exc)
    try:
        if con.execute("PRAGMA application_id").fetchone()[0] != APP_ID:
            return [], "not a quadtui class database"
        rows = con.execute(_LIST).fetchall()
    except sqlite3.Error as exc:
        return [], _why(exc)
    finally:
        con.close()
    entries = []
    for row in rows:
        entry = _entry(user, path, row)
        if entry is not None:
            entries.append(entry)
    return entries, None


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if "not a database" in text or "malformed" in text:
        return "damaged or not a database"
    if "unable to open" in text:
        return "cannot be opened (permission?)"
    return clean_text(text, 60)


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _entry(user: str, path: Path, row: tuple[Any, ...]) -> BoardEntry | None:
    run_id, finished_at, status, epochs, final, evaluated, lesson, config = row
    when = _number(finished_at)
    if not isinstance(run_id, int) or when is None or not isinstance(config, str) or len(config) > MAX_CONFIG:
        return None
    return BoardEntry(
        user=user, run_id=run_id, finished_at=when, status=status if status in STATUSES else "?",
        epochs_run=epochs if isinstance(epochs, int) and epochs >= 0 else 0,
        final_loss=_number(final), eval_loss=_number(evaluated), lesson=clean_text(lesson, 40),
        config_text=config, path=path,
    )


@dataclass(frozen=True)
class RunCurves:
    """What the board draws for a selected run."""

    curve: np.ndarray  # (n, 2): epoch, loss
    grid: np.ndarray
    fit: np.ndarray


def read_curves(entry: BoardEntry) -> RunCurves | None:
    """The loss curve and the fit of ``entry`` (None when its file has gone or the row is odd)."""
    try:
        con = _connect(entry.path)
        try:
            row = con.execute("SELECT curve, grid, fit FROM runs WHERE id = ?", (entry.run_id,)).fetchone()
        finally:
            con.close()
    except (OSError, sqlite3.Error):
        return None
    if row is None:
        return None
    grid, fit = from_blob(row[1]), from_blob(row[2])
    if grid.size != fit.size or not grid.size:
        return None
    return RunCurves(from_blob(row[0], 2), grid, fit)
