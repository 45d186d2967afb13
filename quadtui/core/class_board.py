"""Reading the class folder: every student's runs, read-only, each named by its file's owner.

:class:`ClassBoard` scans ``DIR/*/runs.sqlite`` (see :mod:`quadtui.core.classroom`),
reads three numbers a run from each database, read-only — enough to rank every run —
and keeps them per file, keyed by the file's size and modification time (and its
``-wal``'s), so a refresh reads only what changed.  Whole rows
(:class:`~quadtui.core.class_entry.BoardEntry`) are read for the runs shown or when a
filter needs them; a run's fit and loss curve when it is drawn.

A class folder is shared, so every file in it is treated as hostile: a corrupt,
foreign (another program's SQLite file), unreadable or linked file is skipped and
named in :attr:`ClassBoard.skipped`, and a file not owned by its folder's owner too.
No textual, no torch here.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quadtui.core.class_entry import LIST_QUERY, BoardEntry, clean_text, entry_matches
from quadtui.core.classroom import APP_ID, DB_NAME, from_blob, user_name

_RANKS = "SELECT ifnull(eval_loss + 0.0, 9e999), -finished_at, CAST(id AS INTEGER), ? FROM runs"
#: (eval loss or inf, -finished_at, id, file number): sorts best first, newest first
Rank = tuple[float, float, int, int]


@dataclass
class _File:
    """One student's database as last read: the ranks of all its runs; whole rows when needed."""

    signature: tuple[int, ...]
    path: Path
    ranks: list[Rank]
    problem: str | None
    user: str = ""
    rows: dict[int, BoardEntry] = field(default_factory=dict)  # whole rows fetched so far, by id
    complete: bool = False  # rows holds every run
    #: the connection the ranks were read on, kept until the rows they rank are fetched (see ClassBoard.best)
    con: sqlite3.Connection | None = None

    def entries(self, ids: list[int] | None) -> dict[int, BoardEntry]:
        """Whole rows of ``ids`` (None: all), fetched once (gone ones are left out)."""
        if ids is None and not self.complete:
            self.rows = {e.run_id: e for e in read_entries(self.path, con=self.con)[0]}
            self.complete = True
        elif ids is not None and not self.complete:
            missing = [i for i in ids if i not in self.rows]
            if missing:
                self.rows.update((e.run_id, e) for e in read_entries(self.path, missing, con=self.con)[0])
        return self.rows

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


class ClassBoard:
    """Everyone's runs in a class folder; :meth:`refresh` re-reads only the databases that changed.

    A refresh reads three numbers a run (what it takes to rank 20,000 runs in a few tens of
    milliseconds); :meth:`best` fetches the whole rows of just the runs it returns, unless a
    filter has to look at every run.  The files a refresh read stay open until then (opening
    forty databases twice was a fifth of a cold read); :meth:`best`, :meth:`entries`
    and the next refresh close them.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._files: dict[str, _File] = {}
        self._numbered: dict[int, _File] = {}
        self._next = 0
        self.ranks: list[Rank] = []  # every run, best first
        self.users = 0
        self.skipped: list[str] = []  # "name: why", one a file
        self.version = 0

    def refresh(self) -> bool:
        """Scan the folder; True when the list changed."""
        self.close()
        seen: dict[str, _File] = {}
        changed = False
        try:
            names = sorted(os.listdir(self.folder))
        except OSError as exc:
            unreadable = f"{self.folder}: {exc.strerror or exc}"
            changed = self.skipped != [unreadable] or bool(self.ranks)
            self._files, self._numbered, self.ranks, self.skipped = {}, {}, [], [unreadable]
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
            self._next += 1
            if problem is not None:
                seen[name] = _File((), folder / DB_NAME, [], problem)
            else:
                seen[name] = _read_ranks(folder / DB_NAME, signature or (), self._next)
        changed = changed or set(seen) != set(self._files)
        if changed:
            self._files = seen
            self._numbered = {f.ranks[0][3]: f for f in seen.values() if f.ranks}
            ranks = [rank for f in seen.values() for rank in f.ranks]
            ranks.sort()
            self.ranks = ranks
            self.users = len({f.user for f in seen.values() if f.ranks})
            self.skipped = [f"{clean_text(name, 40)}: {f.problem}" for name, f in seen.items() if f.problem]
            self.version += 1
        return changed

    def best(self, count: int, text: str = "") -> tuple[list[BoardEntry], int]:
        """The best ``count`` runs that pass the filter ``text`` (see :data:`FILTER_HELP`), and how many pass."""
        words = text.lower().split()
        if not words:
            top = self.ranks[:count]
            wanted: dict[int, list[int]] = {}
            for rank in top:
                wanted.setdefault(rank[3], []).append(rank[2])
            rows = {number: self._numbered[number].entries(ids) for number, ids in wanted.items()}
            self.close()
            found = [rows[rank[3]].get(rank[2]) for rank in top]
            return [e for e in found if e is not None], len(self.ranks)
        matching = [e for e in self.entries() if entry_matches(e, words)]
        return matching[:count], len(matching)

    def entries(self) -> list[BoardEntry]:
        """Every run, best first (reads every whole row: for --json and filters)."""
        rows = {number: f.entries(None) for number, f in self._numbered.items()}
        self.close()
        found = [rows[rank[3]].get(rank[2]) for rank in self.ranks]
        return [e for e in found if e is not None]

    def close(self) -> None:
        """Close the files the last refresh left open (it reads them again when they change)."""
        for f in self._files.values():
            f.close()

    def status_line(self) -> str:
        """One line: how many runs and users, and what was skipped."""
        line = f"{len(self.ranks):,} runs by {self.users} {'user' if self.users == 1 else 'users'}"
        if self.skipped:
            line += f" · skipped {len(self.skipped)}: " + "; ".join(self.skipped)
        return line


def _read_ranks(path: Path, signature: tuple[int, ...], number: int) -> _File:
    """The ranks of a database's runs; the file is left open for their rows (``_File.con``)."""
    try:
        user = user_name(os.stat(path).st_uid)
        con, app_id = _connect(path)
    except (OSError, sqlite3.Error) as exc:
        return _File(signature, path, [], _why(exc))
    try:
        if app_id != APP_ID:
            con.close()
            return _File(signature, path, [], "not a quadtui class database")
        ranks = con.execute(_RANKS, (number,)).fetchall()
    except sqlite3.Error as exc:
        con.close()
        return _File(signature, path, [], _why(exc))
    return _File(signature, path, [r for r in ranks if r[2] is not None], None, user, con=con)


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


def _connect(path: Path) -> tuple[sqlite3.Connection, int]:
    """Read-only, and the file's application id (the first read, which tells whether it opens at all).

    When the writer's WAL files are gone (no writer now) and cannot be made here: immutable.
    """
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    con = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2.0, check_same_thread=False)
    try:
        return con, con.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.OperationalError:
        con.close()
        if os.path.exists(f"{path}-wal"):
            raise
        con = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        try:
            return con, con.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.Error:
            con.close()
            raise


def read_entries(
    path: Path, ids: list[int] | None = None, con: sqlite3.Connection | None = None
) -> tuple[list[BoardEntry], str | None]:
    """A database's runs (those of ``ids``, or all), or ([], why it is skipped).

    ``con``: the file, open already (a quadtui database: its ranks were read on it); left open.
    """
    own = con is None
    try:
        user = user_name(os.stat(path).st_uid)
        if con is None:
            con, app_id = _connect(path)
            if app_id != APP_ID:
                con.close()
                return [], "not a quadtui class database"
    except (OSError, sqlite3.Error) as exc:
        return [], _why(exc)
    try:
        if ids is None:
            rows = con.execute(LIST_QUERY, (user, str(path))).fetchall()
        else:
            rows = []
            for start in range(0, len(ids), 500):  # (SQLite takes at most 999 parameters)
                part = ids[start : start + 500]
                where = f" WHERE id IN ({','.join('?' * len(part))})"
                rows += con.execute(LIST_QUERY + where, (user, str(path), *part)).fetchall()
    except sqlite3.Error as exc:
        return [], _why(exc)
    finally:
        if own:
            con.close()
    return list(map(BoardEntry._make, rows)), None


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if "not a database" in text or "malformed" in text:
        return "damaged or not a database"
    if "unable to open" in text:
        return "cannot be opened (permission?)"
    return clean_text(text, 60)


@dataclass(frozen=True)
class RunCurves:
    """What the board draws for a selected run."""

    curve: np.ndarray  # (n, 2): epoch, loss
    grid: np.ndarray
    fit: np.ndarray


def read_curves(entry: BoardEntry) -> RunCurves | None:
    """The loss curve and the fit of ``entry`` (None when its file has gone or the row is odd)."""
    try:
        con = _connect(entry.path)[0]
        try:
            row = con.execute("SELECT curve, grid, fit FROM curves WHERE run = ?", (entry.run_id,)).fetchone()
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
