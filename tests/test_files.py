"""core.files.atomic_write: old file or new file, never half; one-line errors; nothing lost."""

from __future__ import annotations

import errno
import os
import stat
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quadtui.core import files
from quadtui.core.files import FileWriteError, atomic_write

OLD = "old contents\n" * 100


def leftovers(folder):
    """Temporary files atomic_write would have created in ``folder``."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def assert_one_line(exc: BaseException, *parts: str) -> None:
    message = str(exc)
    assert message and message.isprintable() and "Traceback" not in message
    for part in parts:
        assert part in message


@pytest.fixture
def old_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(OLD)
    return path


def test_writes_text_and_bytes(tmp_path):
    assert atomic_write(tmp_path / "a.txt", "σ = 0.5\n") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == "σ = 0.5\n".encode()
    atomic_write(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert leftovers(tmp_path) == []


def test_creates_missing_folders(tmp_path):
    atomic_write(tmp_path / "runs" / "1" / "loss.csv", "epoch,loss\n")
    assert (tmp_path / "runs" / "1" / "loss.csv").read_text() == "epoch,loss\n"


def test_never_overwrites_unless_asked(old_file):
    with pytest.raises(FileWriteError) as info:
        atomic_write(old_file, "new")
    assert_one_line(info.value, str(old_file), "already exists")
    assert old_file.read_text() == OLD
    atomic_write(old_file, "new", overwrite=True)
    assert old_file.read_text() == "new"
    assert leftovers(old_file.parent) == []


def test_a_dangling_symlink_counts_as_taken(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileWriteError, match="already exists"):
        atomic_write(link, "x")
    assert not (tmp_path / "nowhere").exists()


def test_a_file_appearing_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    # Another program creates the name after our check but before our file is in place.
    target = tmp_path / "loss.csv"
    real_fsync = os.fsync

    def racing_fsync(fd):
        if not target.exists():
            target.write_text("theirs")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", racing_fsync)
    with pytest.raises(FileWriteError, match="already exists"):
        atomic_write(target, "ours")
    assert target.read_text() == "theirs"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_reader_during_the_write_sees_the_old_file(old_file, monkeypatch, overwrite):
    seen = []
    real_fsync = os.fsync

    def reading_fsync(fd):  # the new data is written but not yet in place
        if stat.S_ISREG(os.fstat(fd).st_mode):  # (not the folder's fsync after the rename)
            seen.append(old_file.read_text())
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", reading_fsync)
    if overwrite:
        atomic_write(old_file, "new " * 10_000, overwrite=True)
        assert old_file.read_text() == "new " * 10_000
    else:
        atomic_write(old_file.with_name("other.toml"), "new")
    assert seen and all(text == OLD for text in seen)


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temp(old_file, monkeypatch, failing):
    def boom(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    if failing == "write":
        real_fdopen = os.fdopen

        def half_writing_fdopen(fd, *args, **kwargs):
            fh = real_fdopen(fd, *args, **kwargs)

            class Half:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    fh.close()

                def fileno(self):
                    return fh.fileno()

                def flush(self):
                    fh.flush()

                def write(self, data):
                    fh.write(data[: len(data) // 2])
                    fh.flush()
                    boom()

            return Half()

        monkeypatch.setattr(files.os, "fdopen", half_writing_fdopen)
    else:
        monkeypatch.setattr(files.os, failing, boom)
    with pytest.raises(FileWriteError) as info:
        atomic_write(old_file, "new " * 10_000, overwrite=True)
    assert_one_line(info.value, str(old_file), os.strerror(errno.EIO))
    assert old_file.read_text() == OLD
    assert leftovers(old_file.parent) == []


def test_a_full_disk_is_one_line_and_loses_nothing(old_file, monkeypatch):
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def fileno(self):
            return self.fh.fileno()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        flush = write

    monkeypatch.setattr(files.os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    for overwrite, path in ((True, old_file), (False, old_file.with_name("new.toml"))):
        with pytest.raises(FileWriteError) as info:
            atomic_write(path, "x" * 100_000, overwrite=overwrite)
        assert_one_line(info.value, str(path), "No space left on device")
    assert old_file.read_text() == OLD
    assert not old_file.with_name("new.toml").exists()
    assert leftovers(old_file.parent) == []


def test_interrupted_write_leaves_no_temp_file(old_file, monkeypatch):
    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(old_file, "new", overwrite=True)
    assert old_file.read_text() == OLD
    assert leftovers(old_file.parent) == []


def test_a_path_under_a_regular_file_is_refused(old_file):
    # Works as root too (unlike chmod): nothing can be created below a regular file.
    for path in (old_file / "x.csv", old_file / "deeper" / "x.csv"):
        with pytest.raises(FileWriteError) as info:
            atomic_write(path, "x")
        assert_one_line(info.value, "cannot write", "not a folder")
    assert old_file.read_text() == OLD


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions")
def test_an_unwritable_folder_is_refused(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(FileWriteError) as info:
            atomic_write(folder / "x.csv", "x")
        assert_one_line(info.value, "cannot write", "Permission denied")
    finally:
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_an_unwritable_folder_is_refused_even_as_root(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(files.tempfile, "mkstemp", denied)
    with pytest.raises(FileWriteError) as info:
        atomic_write(tmp_path / "x.csv", "x")
    assert_one_line(info.value, "cannot write", os.strerror(errno.EACCES))


@pytest.mark.parametrize(
    "name,reason",
    [
        ("bad\x00name", "not a usable file name"),
        ("x" * 5000, os.strerror(errno.ENAMETOOLONG)),
        ("line\nbreak\x1b[31m", None),  # a legal name: written, and any message stays one line
    ],
    ids=["null-byte", "5000-chars", "newline-and-escape"],
)
def test_odd_names_give_one_line(tmp_path, name, reason):
    if reason is None:
        atomic_write(tmp_path / name, "x")
        with pytest.raises(FileWriteError) as info:
            atomic_write(tmp_path / name, "x")
        assert_one_line(info.value, "already exists", "\\n")
        return
    with pytest.raises(FileWriteError) as info:
        atomic_write(tmp_path / name, "x")
    assert_one_line(info.value, reason)
    assert len(str(info.value)) < 200
    assert leftovers(tmp_path) == []


def test_empty_name_and_bad_text(tmp_path):
    with pytest.raises(FileWriteError, match="no file name"):
        atomic_write("  ", "x")
    with pytest.raises(FileWriteError, match="not valid Unicode"):
        atomic_write(tmp_path / "s.txt", "lone surrogate \udc80")
    assert not (tmp_path / "s.txt").exists()
    with pytest.raises(TypeError):
        atomic_write(tmp_path / "n.txt", 5)  # type: ignore[arg-type]


def test_target_is_a_folder(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(FileWriteError, match="already exists"):
        atomic_write(tmp_path / "d", "x")
    with pytest.raises(FileWriteError, match="cannot write"):
        atomic_write(tmp_path / "d", "x", overwrite=True)
    assert (tmp_path / "d").is_dir() and leftovers(tmp_path) == []


def test_new_files_get_normal_permissions_and_old_files_keep_theirs(tmp_path, old_file):
    mask = os.umask(0o027)
    try:
        atomic_write(tmp_path / "new.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640  # 0o666 & ~0o027
    old_file.chmod(0o604)
    atomic_write(old_file, "y", overwrite=True)
    assert stat.S_IMODE(old_file.stat().st_mode) == 0o604


def test_without_hard_links_it_still_refuses_to_overwrite(tmp_path, old_file, monkeypatch):
    def no_links(*args):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(files.os, "link", no_links)
    atomic_write(tmp_path / "fresh.txt", "x")
    assert (tmp_path / "fresh.txt").read_text() == "x"
    with pytest.raises(FileWriteError, match="already exists"):
        atomic_write(old_file, "y")
    assert old_file.read_text() == OLD and leftovers(tmp_path) == []


def test_concurrent_writers_to_one_name_never_mix(tmp_path):
    target = tmp_path / "shared.txt"
    texts = [str(i) * 50_000 for i in range(8)]
    outcomes = []

    def write(text):
        try:
            atomic_write(target, text)
            outcomes.append(text)
        except FileWriteError:
            outcomes.append(None)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1 and target.read_text() == winners[0]
    assert leftovers(tmp_path) == []


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.binary()))
def test_any_data_round_trips(tmp_path, data):
    path = tmp_path / "data"
    atomic_write(path, data, overwrite=True)
    assert path.read_bytes() == (data.encode("utf-8") if isinstance(data, str) else data)
