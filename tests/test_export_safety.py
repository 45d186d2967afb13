"""Export is checked for real before a run, and written all at once or not at all."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quadtui.cli import main
from quadtui.core import export_folder
from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.export import FILES, check_folder, export_run
from quadtui.core.files import FileWriteError

WRITTEN = ["config.toml", "fit.csv", "loss.csv", "model.pt", "timeline.pt", "train.py"]


@pytest.fixture(scope="module")
def engine():
    engine = Engine(Config(epochs=50, hidden=3))
    engine.run()
    return engine


def listing(root: Path) -> list[str]:
    """Every path under ``root`` (hidden ones too), relative."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def refused_line(capsys, *args: str) -> str:
    code = main(list(args))
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quadtui: error: --export ") and "Traceback" not in out.err
    return lines[0]


# -- the pre-check ------------------------------------------------------------------------------------------
def test_a_dangling_link_is_refused_before_training_and_left_alone(tmp_path, capsys):
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone")
    line = refused_line(capsys, "--headless", "--epochs", "2000", "--export", str(link))
    assert "dangling" in line and "out" in line
    below = refused_line(capsys, "--headless", "--epochs", "2000", "--export", str(link / "run"))
    assert "dangling" in below
    assert listing(tmp_path) == ["out"] and link.is_symlink()


def test_a_path_under_a_regular_file_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    line = refused_line(capsys, "--headless", "--epochs", "2000", "--export", str(tmp_path / "notes.txt" / "a" / "b"))
    assert "notes.txt is a file, not a folder" in line
    assert listing(tmp_path) == ["notes.txt"]


def test_the_probe_names_the_place_and_the_reason_and_leaves_nothing(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(export_folder.tempfile, "mkdtemp", read_only)
    with pytest.raises(FileWriteError) as info:
        check_folder(tmp_path / "new" / "run")
    assert str(info.value) == f"cannot write in {tmp_path}: Read-only file system"
    assert listing(tmp_path) == []


def test_a_link_to_a_folder_exports_into_that_folder(engine, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    folder = export_run(engine, tmp_path / "link")
    assert folder == tmp_path / "real"
    assert (tmp_path / "link").is_symlink() and listing(tmp_path / "real") == WRITTEN


def test_missing_parents_are_created(engine, tmp_path):
    folder = export_run(engine, tmp_path / "a" / "b" / "run")
    assert listing(folder) == WRITTEN
    assert listing(tmp_path) == ["a", "a/b", "a/b/run"] + [f"a/b/run/{n}" for n in WRITTEN]


# -- all or nothing ------------------------------------------------------------------------------------------
def failing_after(monkeypatch, good: int) -> list[Path]:
    """Make the export's file writer fill the disk after ``good`` files; return the files it wrote."""
    real, written = export_folder.write_file, []

    def write_file(path: Path, data: bytes) -> None:
        if len(written) >= good:
            with open(path, "xb") as fh:  # half a file, as a full disk leaves it
                fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)
        written.append(path)

    monkeypatch.setattr(export_folder, "write_file", write_file)
    return written


def test_a_full_disk_midway_leaves_nothing_and_a_rerun_works(engine, tmp_path, monkeypatch):
    written = failing_after(monkeypatch, good=1)
    with pytest.raises(FileWriteError) as info:
        export_run(engine, tmp_path / "new" / "run")
    assert str(info.value) == f"cannot write {tmp_path}/new/run/loss.csv: No space left on device"
    assert len(written) == 1 and not written[0].exists()
    assert listing(tmp_path) == []  # not even the parent it created
    monkeypatch.undo()
    assert listing(export_run(engine, tmp_path / "new" / "run")) == WRITTEN


def test_a_full_disk_midway_keeps_an_existing_folder_as_it_was(engine, tmp_path, monkeypatch):
    target = tmp_path / "run"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "loss.csv").write_text("old losses")
    (target / "screenshot.svg").write_text("<svg/>")  # an earlier export's, which this one would drop
    failing_after(monkeypatch, good=3)
    with pytest.raises(FileWriteError, match="No space left on device"):
        export_run(engine, target, overwrite=True)
    assert listing(target) == ["loss.csv", "notes.txt", "screenshot.svg"]
    assert (target / "loss.csv").read_text() == "old losses"
    (empty := tmp_path / "empty").mkdir()
    with pytest.raises(FileWriteError):
        export_run(engine, empty)
    assert listing(empty) == []
    monkeypatch.undo()
    export_run(engine, target, overwrite=True)
    assert listing(target) == sorted(WRITTEN + ["notes.txt"])


def test_a_failing_move_puts_every_old_file_back(engine, tmp_path, monkeypatch):
    target = tmp_path / "run"
    target.mkdir()
    for name in FILES:
        (target / name).write_text(f"old {name}")
    real_rename, moves, failed = os.rename, [], []

    def rename(src, dst):
        if Path(dst).parent == target and len(moves) == 2 and not failed:  # the third new file fails to move in
            failed.append(dst)
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        if Path(dst).parent == target:
            moves.append(dst)
        real_rename(src, dst)

    monkeypatch.setattr(export_folder.os, "rename", rename)
    with pytest.raises(FileWriteError, match="cannot replace the export files in .*: Input/output error"):
        export_run(engine, target, overwrite=True)
    monkeypatch.undo()
    assert listing(target) == sorted(FILES)
    assert all((target / name).read_text() == f"old {name}" for name in FILES)


def test_ctrl_c_while_writing_leaves_nothing(engine, tmp_path, monkeypatch):
    def interrupted(path, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(export_folder, "write_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_run(engine, tmp_path / "run")
    assert listing(tmp_path) == []


def test_the_new_folder_has_the_usual_permissions(engine, tmp_path):
    old = os.umask(0o022)
    try:
        folder = export_run(engine, tmp_path / "run")
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o755
    assert (folder / "loss.csv").stat().st_mode & 0o777 == 0o644


# -- real file systems: read-only and full (tmpfs in a user namespace, where the system allows one) ---------
def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(), reason="needs `unshare -rm` (user and mount namespaces) to mount a small tmpfs"
)


def in_namespace(mount_options: str, script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (sh; $Q runs quadtui) with a fresh tmpfs mounted on ``folder``, in a private namespace."""
    prelude = f'mount -t tmpfs -o {mount_options} tmpfs "$D" || exit 99\nQ="$PY -m quadtui"\n'
    env = {**os.environ, "D": str(folder), "PY": sys.executable}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), env.get("PYTHONPATH")]))
    out = subprocess.run(
        ["unshare", "-rm", "sh", "-c", prelude + script], capture_output=True, text=True, env=env, timeout=120
    )
    if out.returncode == 99:
        pytest.skip("mounting a tmpfs is not permitted here")
    return out


@needs_namespaces
def test_a_read_only_file_system_is_refused_before_training(tmp_path):
    out = in_namespace("ro", '$Q --headless --epochs 2000 --export "$D/run"', tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr == f"quadtui: error: --export cannot write in {tmp_path}: Read-only file system\n"


@needs_namespaces
def test_a_full_file_system_leaves_nothing_and_a_rerun_works(tmp_path):
    script = (
        '$Q --headless --epochs 5 --hidden 256 --layers 2 --export "$D/run" >/dev/null; echo "first $?"; ls -A "$D"\n'
        '$Q --headless --epochs 5 --hidden 3 --export "$D/run" >/dev/null; echo "second $?"; ls -A "$D/run"\n'
    )
    out = in_namespace("size=256k", script, tmp_path)
    # the failed export left nothing (`ls -A` printed no line), so the rerun is not refused
    assert out.stdout == "first 1\nsecond 0\n" + "".join(f"{name}\n" for name in WRITTEN), out.stderr
    assert "No space left on device" in out.stderr and "Traceback" not in out.stderr


def test_folders_made_on_the_way_are_removed_when_a_deeper_one_cannot_be(engine, tmp_path, monkeypatch):
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name == "b":
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(FileWriteError, match=f"^cannot create {tmp_path}/a/b/run: Disk quota exceeded$"):
        export_run(engine, tmp_path / "a" / "b" / "run")
    assert listing(tmp_path) == []
