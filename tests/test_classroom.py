"""The class folder: posting runs, per-user databases, what the board reads and what it skips."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from quadtui.core import classroom
from quadtui.core.class_board import ClassBoard, read_curves
from quadtui.core.classroom import MAX_RUNS, ClassError, ClassWriter, init_folder, user_name
from quadtui.core.config import Config
from tests.classroom_users import class_users, run_as  # noqa: F401  (a fixture)
from tests.conftest import a_post


def rows(database: Path) -> list[tuple]:
    con = sqlite3.connect(database)
    try:
        return con.execute("SELECT id, eval_loss FROM runs ORDER BY id").fetchall()
    finally:
        con.close()


# -- two real students -----------------------------------------------------------------------------------------
def test_two_students_post_the_board_names_each_by_the_file_owner_and_neither_can_touch_the_other(class_users):
    alice, bob, folder, group = class_users
    said = init_folder(Path(folder))
    mode = os.stat(folder).st_mode
    assert mode & stat.S_ISVTX and mode & stat.S_IWGRP and not mode & stat.S_IWOTH
    assert "chgrp" in said and "usermod -aG" in said and "QUADTUI_CLASS=" in said

    posts = {loss: a_post(Config(hidden=4), eval_loss=loss, lesson="best-rate") for loss in (0.1, 0.2, 0.3)}

    def post(loss: float) -> int:  # (the post is made here: the child may not import what numpy loads lazily)
        os.umask(0o077)  # a private umask must not hide a student's runs from the board
        return ClassWriter(Path(folder)).post(posts[loss])

    assert run_as(alice, lambda: [post(0.3), post(0.1)]) == [1, 2]
    assert run_as(bob, lambda: post(0.2)) == 1

    def board_rows() -> list[list]:
        board = ClassBoard(Path(folder))
        board.refresh()
        return [[e.user, e.eval_loss, e.lesson] for e in board.entries()] + [board.skipped]

    expected = [[alice.name, 0.1, "best-rate"], [bob.name, 0.2, "best-rate"], [alice.name, 0.3, "best-rate"], []]
    assert run_as(bob, board_rows) == expected  # a student sees the whole class, sorted by eval loss
    assert board_rows() == expected  # and so does the teacher

    alices = Path(folder) / alice.name / "runs.sqlite"
    assert os.stat(alices).st_uid == alice.uid and os.stat(alices.parent).st_uid == alice.uid

    def tamper() -> list[str]:
        refused = []
        try:
            con = sqlite3.connect(alices, timeout=0.5)
            con.execute("DELETE FROM runs")
            con.commit()
        except sqlite3.Error as exc:
            refused.append(f"sql: {exc}")
        for attempt in (
            lambda: open(alices, "r+b"),  # noqa: SIM115  (each open here must fail)
            lambda: os.unlink(alices),
            lambda: open(f"{alices}-wal", "wb"),  # noqa: SIM115
            lambda: os.rename(alices.parent, Path(folder) / "x"),
            lambda: ClassWriter.__new__(ClassWriter),
        ):
            try:
                attempt()
            except OSError as exc:
                refused.append(type(exc).__name__)
        return refused

    refused = run_as(bob, tamper)
    assert len(refused) == 5 and refused[0].startswith("sql:")  # all but the harmless last attempt
    assert [r[1] for r in rows(alices)] == [0.3, 0.1]  # untouched

    # bob squats a folder named after alice-to-be: the real owner is told, and nothing is written into it
    def squat() -> None:
        os.mkdir(Path(folder) / "carol", 0o777)

    run_as(bob, squat)
    writer = ClassWriter(Path(folder))
    writer.user = "carol"
    with pytest.raises(ClassError, match=f"carol: belongs to {bob.name}, not to you"):
        writer.post(a_post())


def test_an_unreadable_database_is_skipped_with_a_line(class_users):
    alice, bob, folder, _ = class_users
    os.chmod(folder, 0o3770)
    post = a_post()
    run_as(alice, lambda: ClassWriter(Path(folder)).post(post))
    run_as(bob, lambda: ClassWriter(Path(folder)).post(post))
    run_as(alice, lambda: os.chmod(Path(folder) / alice.name / "runs.sqlite", 0o600))

    def look() -> tuple[list[str], str]:
        board = ClassBoard(Path(folder))
        board.refresh()
        return [e.user for e in board.entries()], board.status_line()

    users, line = run_as(bob, look)
    assert users == [bob.name]
    assert f"skipped 1: {alice.name}: cannot be opened" in line and "\n" not in line


# -- many writers, a bounded database ----------------------------------------------------------------------------------
def test_twenty_threads_posting_at_once_lose_nothing(tmp_path):
    start = threading.Barrier(20)
    ids: list[int] = []
    errors: list[BaseException] = []

    def student(k: int) -> None:
        writer = ClassWriter(tmp_path)
        start.wait()
        for i in range(5):
            try:
                ids.append(writer.post(a_post(eval_loss=k + i / 10)))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=student, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = rows(ClassWriter(tmp_path).database)
    assert sorted(ids) == [r[0] for r in stored] == list(range(1, 101))
    assert sorted(r[1] for r in stored) == sorted(k + i / 10 for k in range(20) for i in range(5))


def test_a_database_keeps_the_newest_500_runs(tmp_path):
    writer = ClassWriter(tmp_path)
    for i in range(MAX_RUNS + 5):
        writer.post(a_post(eval_loss=float(i + 1), epochs=5))
    stored = rows(writer.database)
    assert len(stored) == MAX_RUNS and stored[0] == (6, 6.0) and stored[-1] == (505, 505.0)


def test_a_post_keeps_what_the_board_needs(tmp_path):
    post = a_post(Config(lr=0.05, hidden=4), eval_loss=0.25, lesson="best-rate", epochs=5000)
    assert post.curve.shape == (200, 2) and post.curve.dtype == np.float32  # at most 200 points
    ClassWriter(tmp_path).post(post)
    board = ClassBoard(tmp_path)
    assert board.refresh() and not board.refresh()  # nothing new: nothing re-read
    (entry,) = board.entries()
    assert entry.user == user_name(os.geteuid()) and entry.changed == {"lr": 0.05, "hidden": 4}
    data = entry.to_json()
    assert set(data) == {"user", "config", "status", "final_loss", "eval_loss", "finished_at", "lesson"}
    assert data["config"] == Config(lr=0.05, hidden=4).to_json() and data["lesson"] == "best-rate"
    curves = read_curves(entry)
    np.testing.assert_array_equal(curves.fit, post.fit)
    np.testing.assert_array_equal(curves.grid, post.grid)
    np.testing.assert_array_equal(curves.curve, post.curve)


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_a_refresh_reads_each_file_once_and_leaves_none_open(tmp_path):
    writer = ClassWriter(tmp_path)
    for loss in (0.3, 0.1, 0.2):
        writer.post(a_post(eval_loss=loss))
    board = ClassBoard(tmp_path)
    before = open_files()
    board.refresh()
    assert open_files() > before  # kept open for the rows of the best runs...
    shown, matching = board.best(2)
    assert [e.eval_loss for e in shown] == [0.1, 0.2] and matching == 3
    assert open_files() == before  # ...then closed
    writer.post(a_post(eval_loss=0.05))
    board.refresh()
    assert [e.eval_loss for e in board.entries()] == [0.05, 0.1, 0.2, 0.3]
    assert open_files() == before
    board.refresh()  # nothing new: nothing opened
    assert open_files() == before


# -- hostile files ---------------------------------------------------------------------------------------------------
def test_corrupt_foreign_and_linked_files_are_skipped_with_one_line(tmp_path):
    ClassWriter(tmp_path).post(a_post())
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "runs.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    (tmp_path / "trudy").mkdir()
    foreign = sqlite3.connect(tmp_path / "trudy" / "runs.sqlite")
    foreign.execute("CREATE TABLE runs (id INTEGER)")
    foreign.commit()
    foreign.close()
    (tmp_path / "linked").symlink_to(tmp_path / ClassWriter(tmp_path).user)
    (tmp_path / "notes.txt").write_text("the teacher's notes")  # not a student's: ignored
    board = ClassBoard(tmp_path)
    board.refresh()
    assert [e.user for e in board.entries()] == [ClassWriter(tmp_path).user]
    line = board.status_line()
    assert "\n" not in line and line.startswith("1 runs by 1 user · skipped 3: ")
    assert "linked: a link" in line and "mallory: damaged or not a database" in line
    assert "trudy: not a quadtui class database" in line


def test_hostile_rows_are_cleaned_or_dropped(tmp_path):
    writer = ClassWriter(tmp_path)
    writer.post(a_post())
    con = sqlite3.connect(writer.database)
    con.execute(
        "INSERT INTO runs (id, finished_at, config, status, epochs_run, final_loss, eval_loss, lesson)"
        " VALUES (7, 1, ?, ?, -3, 'x', 0.01, ?)",
        (json.dumps({"lr": 0.5, "evil": "x" * 10, "hidden": [1]}), "\x1b]0;pwned\x07done", "\x1b[2Jlesson\u202e"),
    )
    con.execute("INSERT INTO curves (run, curve, grid, fit) VALUES (7, x'00', x'0000803f', 'text')")
    con.execute(
        "INSERT INTO runs (finished_at, config, status, epochs_run, lesson) VALUES ('soon', x'7b7d', 'done', 1, x'00')"
    )  # numbers from text, a blob for a text
    con.commit()
    con.close()
    board = ClassBoard(tmp_path)
    board.refresh()
    odd, good, blobs = board.entries()  # by eval loss; none last
    assert odd.eval_loss == 0.01 and odd.status == "?" and odd.final_loss == 0.0 and odd.epochs_run == 0
    assert odd.lesson == "[2Jlesson" and odd.changed == {"lr": 0.5}
    assert read_curves(odd) is None and read_curves(good) is not None
    assert blobs.finished_at == 0.0 and blobs.config == {} and blobs.lesson == "" and blobs.eval_loss is None
    assert blobs.to_json()["finished_at"] == "1970-01-01T00:00:00Z" and blobs.to_json()["config"] == Config().to_json()
    json.dumps([e.to_json() for e in board.entries()], allow_nan=False)


def test_a_file_that_is_not_ours_in_our_place_is_refused(tmp_path):
    writer = ClassWriter(tmp_path)
    (tmp_path / writer.user).mkdir()
    foreign = sqlite3.connect(writer.database)
    foreign.execute("CREATE TABLE other (x)")
    foreign.commit()
    foreign.close()
    with pytest.raises(ClassError, match="not a quadtui class database"):
        writer.post(a_post())
    with pytest.raises(ClassError, match="no such folder"):
        ClassWriter(tmp_path / "missing").post(a_post())


# -- the command line --------------------------------------------------------------------------------------------------
def quadtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quadtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_init_then_headless_posts_and_board_json_lists_it(tmp_path):
    folder = tmp_path / "class"
    init = quadtui("--class", str(folder), "--init")
    assert init.returncode == 0, init.stderr
    assert stat.S_IMODE(os.stat(folder).st_mode) == classroom.FOLDER_MODE and "--board" in init.stdout
    lesson = tmp_path / "best-rate.toml"
    lesson.write_text('title = "t"\nexplanation = "e"\n[config]\nhidden = 4\n')
    ran = quadtui("--headless", "--epochs", "40", "--lesson", str(lesson), env={"QUADTUI_CLASS": str(folder)})
    assert ran.returncode == 0, ran.stderr
    (tmp_path / "junk").mkdir()
    (tmp_path / "class" / "junk").mkdir()
    (tmp_path / "class" / "junk" / "runs.sqlite").write_text("not sql")
    board = quadtui("--class", str(folder), "--board", "--json")
    assert board.returncode == 0
    (entry,) = json.loads(board.stdout)["entries"]
    assert entry["user"] == user_name(os.geteuid()) and entry["lesson"] == "best-rate"
    assert entry["config"]["epochs"] == 40 and entry["config"]["hidden"] == 4 and entry["status"] == "done"
    assert entry["eval_loss"] > 0 and entry["finished_at"].endswith("Z")
    assert board.stderr.strip() == "quadtui: warning: --class skipped junk: damaged or not a database"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--class", "{missing}", "--headless"], "--class {missing}: no such folder (a teacher makes it with"),
        (["--init"], "--init needs --class DIR"),
        (["--board"], "--board needs --class DIR (or $QUADTUI_CLASS)"),
        (["--class", "{dir}", "--board", "--headless"], "--board cannot be used with --headless"),
        (["--class", "{dir}", "--init", "--run"], "--init cannot be used with --run"),
        (["--class", "{file}", "--headless"], "not a folder"),
    ],
)
def test_class_usage_errors_are_one_line(tmp_path, args, needle):
    (tmp_path / "file").write_text("x")
    names = {"missing": str(tmp_path / "missing"), "dir": str(tmp_path), "file": str(tmp_path / "file")}
    result = quadtui(*(a.format(**names) for a in args))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and needle.format(**names) in result.stderr


def test_a_bad_class_variable_only_warns_and_the_run_goes_on(tmp_path):
    result = quadtui("--headless", "--epochs", "5", env={"QUADTUI_CLASS": str(tmp_path / "gone")})
    assert result.returncode == 0 and "status       done" in result.stdout
    assert "warning: $QUADTUI_CLASS" in result.stderr and "runs are not posted" in result.stderr


def test_the_class_storage_imports_neither_textual_nor_torch():
    code = (
        "import sys, quadtui.core.classroom, quadtui.core.class_board, quadtui.cli.classroom\n"
        "assert not {'torch', 'textual'} & set(sys.modules), 'heavy import'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
