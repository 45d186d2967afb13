"""The class folder: every student's finished runs, in one SQLite database per student.

A teacher makes a folder the class shares (``quadtui --class DIR --init``: group
write, the sticky bit, new entries in the folder's group).  Each student who posts
gets a folder of their own inside it, ``DIR/<user>/``, created by and writable only
by that student, holding ``runs.sqlite``.  So nobody can change, delete or
pre-create another student's database (or its ``-wal``/``-shm`` files), and the board
(:mod:`quadtui.core.class_board`) can name each run's user from the *file's owner*
rather than from anything written inside it.

Writers open a connection per post, in WAL mode with a busy timeout, so several
posts at once (a sweep added to the runs table, twenty threads in a test) queue up
instead of failing, and a board reading meanwhile never blocks them.  A database
keeps only its newest :data:`MAX_RUNS` runs.  No textual, no torch here.
"""

from __future__ import annotations

import json
import math
import os
import pwd
import random
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from quadtui.core.config import Config
    from quadtui.core.history import LossHistory

ENV = "QUADTUI_CLASS"
DB_NAME = "runs.sqlite"
#: ``PRAGMA application_id`` of a class database ("QCLS"): any other SQLite file is foreign
APP_ID = 0x51434C53
SCHEMA_VERSION = 1
MAX_RUNS = 500
CURVE_POINTS = 200
BUSY_SECONDS = 10.0
FOLDER_MODE = 0o3770  # rwxrws--T: the group writes, the sticky bit keeps each entry its owner's
USER_MODE = 0o755  # a student's own folder: only they write in it
FILE_MODE = 0o644
STATUSES = ("done", "diverged", "stopped")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finished_at REAL NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    epochs_run INTEGER NOT NULL,
    final_loss REAL,
    eval_loss REAL,
    lesson TEXT
);
CREATE TABLE IF NOT EXISTS curves (
    run INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    curve BLOB NOT NULL,
    grid BLOB NOT NULL,
    fit BLOB NOT NULL
);
"""
#: the list columns and the curves live apart: the board reads 20,000 rows of the one, and only the chosen of the other


class ClassError(Exception):
    """The class folder cannot be used; the message is one line naming the folder or file."""


@dataclass(frozen=True)
class ClassPost:
    """One finished run as it goes to the class: numbers, the config, a short curve and the fit."""

    config: dict[str, Any]  # Config.to_json()
    status: str
    epochs_run: int
    final_loss: float | None
    eval_loss: float | None
    lesson: str | None
    curve: np.ndarray  # (n, 2) float32: epoch, loss; n <= CURVE_POINTS
    grid: np.ndarray  # float32 x of the view grid
    fit: np.ndarray  # float32 model on the grid
    finished_at: float  # seconds since the epoch


def make_post(
    config: Config,
    status: str,
    epochs_run: int,
    history: LossHistory,
    grid: np.ndarray,
    prediction: np.ndarray,
    final_loss: float | None,
    eval_loss: float | None,
    lesson: str | None = None,
    finished_at: float | None = None,
) -> ClassPost:
    """A :class:`ClassPost` from what a run, a snapshot or a kept run record has."""
    series = history.decimate(CURVE_POINTS)
    curve = np.column_stack((series.x, series.lo)).astype(np.float32) if len(series.x) else np.zeros((0, 2), np.float32)
    return ClassPost(
        config=config.to_json(),
        status=status,
        epochs_run=int(epochs_run),
        final_loss=_finite(final_loss),
        eval_loss=_finite(eval_loss),
        lesson=lesson,
        curve=curve,
        grid=np.asarray(grid, dtype=np.float32),
        fit=np.asarray(prediction, dtype=np.float32),
        finished_at=time.time() if finished_at is None else finished_at,
    )


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


# -- the folder --------------------------------------------------------------------------------
def folder_from(flag: str | None, environ: dict[str, str] | None = None) -> tuple[Path | None, str]:
    """The class folder asked for, and where it came from (``--class`` or ``$QUADTUI_CLASS``)."""
    if flag is not None:
        return Path(flag), "--class"
    raw = (os.environ if environ is None else environ).get(ENV, "")
    return (Path(raw), ENV) if raw.strip() else (None, ENV)


def check_folder(folder: Path) -> None:
    """Refuse a class folder that is missing, not a folder, or not reachable; one line."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        raise ClassError(
            f"{folder}: no such folder (a teacher makes it with: quadtui --class {folder} --init)"
        ) from None
    except OSError as exc:
        raise ClassError(f"{folder}: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ClassError(f"{folder}: not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise ClassError(f"{folder}: permission denied (ask the teacher to add you to the class's group)")


def init_folder(folder: Path) -> str:
    """Make ``folder`` a class folder (created if missing) and say how to give the class access."""
    try:
        folder.mkdir(exist_ok=True)
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            raise ClassError(f"{folder}: not a folder")
        os.chmod(folder, FOLDER_MODE)
    except OSError as exc:
        raise ClassError(f"{folder}: {exc.strerror or exc}") from None
    group = _group_name(os.stat(folder).st_gid)
    where = folder.resolve()
    return "\n".join(
        [
            f"class folder {where} is ready: {stat.filemode(os.stat(folder).st_mode)} (group write, sticky bit:",
            "each student gets a folder of their own inside, that only they can change).",
            "Give the class access:",
            f"  sudo chgrp CLASSGROUP {where}          # now: group {group}",
            "  sudo usermod -aG CLASSGROUP STUDENT   # for each student (they log in again)",
            "Post every finished run to the class:",
            f"  export {ENV}={where}   # for everyone, e.g. in /etc/profile.d/quadtui.sh",
            "Show the class board (on the projector):",
            f"  quadtui --class {where} --board",
        ]
    )


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


# -- writing -------------------------------------------------------------------------------------
class ClassWriter:
    """Posts this OS user's runs to their own database in the class folder.  Thread-safe: a connection a post."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.uid = os.geteuid()
        self.user = user_name(self.uid)

    @property
    def database(self) -> Path:
        return self.folder / self.user / DB_NAME

    def prepare(self) -> Path:
        """Make (or check) ``DIR/<user>/`` and its database file: ours, not links; returns the database."""
        check_folder(self.folder)
        mine = self.folder / self.user
        try:
            try:
                os.mkdir(mine, USER_MODE)
            except FileExistsError:
                pass
            info = os.lstat(mine)
            if info.st_uid != self.uid:
                owner = user_name(info.st_uid)
                raise ClassError(f"{mine}: belongs to {owner}, not to you (ask the teacher to remove it)")
            if not stat.S_ISDIR(info.st_mode):
                raise ClassError(f"{mine}: not a folder (move it away: your runs go in a folder of that name)")
            if info.st_mode & 0o777 != USER_MODE:
                os.chmod(mine, USER_MODE)  # whatever the umask: only we write in it, the board reads it
            fd = os.open(self.database, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_uid != self.uid:
                    raise ClassError(f"{self.database}: not your database file")
                if info.st_mode & 0o777 != FILE_MODE:
                    os.fchmod(fd, FILE_MODE)  # readable by the board, whatever the umask
            finally:
                os.close(fd)
        except OSError as exc:
            raise ClassError(f"{mine}: {exc.strerror or exc}") from None
        return self.database

    def post(self, run: ClassPost) -> int:
        """Add ``run``; keep the newest :data:`MAX_RUNS`.  Returns its id.  ClassError (one line) on failure.

        A busy database is waited for (up to :data:`BUSY_SECONDS`): sqlite's busy timeout covers
        most waits, but not all — switching a new database to WAL while another writer does the same
        answers "database is locked" at once — so a locked post is tried again after a short pause.
        """
        path = self.prepare()
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                return self._post_once(path, run)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise ClassError(f"{path}: {exc}") from None
            except sqlite3.Error as exc:
                raise ClassError(f"{path}: {exc}") from None
            time.sleep(random.uniform(0.01, 0.05))

    def _post_once(self, path: Path, run: ClassPost) -> int:
        con = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # WAL: safe from corruption, one fsync less a post
            con.execute("BEGIN IMMEDIATE")
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            if app_id == 0:
                tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise ClassError(f"{path}: not a quadtui class database (move it away)")
                con.execute(f"PRAGMA application_id={APP_ID}")
                con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                for statement in SCHEMA.split(";"):
                    con.execute(statement)
            elif app_id != APP_ID:
                raise ClassError(f"{path}: not a quadtui class database (move it away)")
            cursor = con.execute(
                "INSERT INTO runs (finished_at, config, status, epochs_run, final_loss, eval_loss, lesson)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.finished_at,
                    json.dumps(run.config, separators=(",", ":")),
                    run.status,
                    run.epochs_run,
                    run.final_loss,
                    run.eval_loss,
                    run.lesson,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            con.execute(
                "INSERT INTO curves (run, curve, grid, fit) VALUES (?, ?, ?, ?)",
                (run_id, _blob(run.curve), _blob(run.grid), _blob(run.fit)),
            )
            con.execute("DELETE FROM runs WHERE id <= ?", (run_id - MAX_RUNS,))
            con.execute("DELETE FROM curves WHERE run <= ?", (run_id - MAX_RUNS,))
            con.execute("COMMIT")
            return run_id
        finally:
            if con.in_transaction:
                con.execute("ROLLBACK")
            con.close()


def _blob(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


def from_blob(data: object, columns: int = 1) -> np.ndarray:
    """A float32 array back from a blob; empty when the blob is not one (a hostile or damaged row)."""
    if not isinstance(data, bytes) or len(data) % (4 * columns):
        return np.zeros((0, columns) if columns > 1 else 0, np.float32)
    values = np.frombuffer(data, dtype="<f4").astype(np.float32)
    return values.reshape(-1, columns) if columns > 1 else values
