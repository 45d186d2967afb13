"""Writing files safely: atomically (temporary file + rename), never over a file unasked.

The data goes to a temporary file beside the target, is flushed to disk, and only
then takes the target's name, so a reader (or a crash, a full disk, ctrl+c) sees
the old file or the new one, never half of one.  Without ``overwrite`` the new
file is put in place with a hard link, which fails if the name exists — no
window in which another program's file could be replaced.  Every failure is one
:class:`FileWriteError` line naming the file and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

#: errno values for which a hard link is impossible here (not: the name is taken)
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


class FileWriteError(OSError):
    """A file could not be written; the message says which and why, in one line."""


def _shown(path: object, limit: int = 100) -> str:
    """A path as a message shows it: one line, control characters escaped, long ones cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
    return text if len(text) <= limit else text[: limit // 2 - 2] + "..." + text[-(limit // 2 - 1) :]


def _exists_error(shown: str) -> FileWriteError:
    return FileWriteError(f"{shown} already exists (choose another name or allow overwriting)")


def current_umask() -> int:
    """The process's umask, read without changing it where possible."""
    try:  # Linux: read the umask without changing it (os.umask would race other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file (0o666 less the umask)."""
    return 0o666 & ~current_umask()


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Text is written as UTF-8.  Missing folders are created.  Refuses to replace an
    existing file unless ``overwrite`` is true.  Every failure (exists, unwritable
    folder, full disk, bad name, ...) raises :class:`FileWriteError`; the old file,
    if any, is untouched and no temporary file is left behind.
    """
    shown = _shown(path)
    if not str(path).strip():
        raise FileWriteError("no file name given")
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"data must be str or bytes, not {type(data).__name__}")
    tmp_name: str | None = None
    try:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target = Path(path).expanduser()
        if os.path.lexists(target) and not overwrite:
            raise _exists_error(shown)
        folder = target.parent
        blocker = _file_in_the_way(folder)
        if blocker is not None:
            raise FileWriteError(f"cannot write {shown}: {_shown(blocker)} is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            _keep_mode(fh.fileno(), target if overwrite else None)
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp_name, target)
        else:
            _link_new(tmp_name, target, shown)
        tmp_name = None
        _sync_folder(folder)
    except FileWriteError:
        raise
    except UnicodeEncodeError:
        raise FileWriteError(f"cannot write {shown}: the text is not valid Unicode") from None
    except ValueError:  # e.g. an embedded null character in the name
        raise FileWriteError(f"cannot write {shown}: not a usable file name") from None
    except OSError as exc:
        if exc.errno == errno.EEXIST and not overwrite:
            raise _exists_error(shown) from None
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise FileWriteError(f"cannot write {shown}: {reason}") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    return target


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (itself included) if it is not a folder."""
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate):
            return None if candidate.is_dir() else candidate
    return None


def _keep_mode(fd: int, existing: Path | None) -> None:
    """Give the new file the old file's permissions, or those of a freshly created file.

    (mkstemp makes it private, 0o600, which would surprise anyone sharing the file.)"""
    try:
        mode = stat.S_IMODE(os.stat(existing).st_mode) if existing is not None else None
    except OSError:
        mode = None
    try:
        os.fchmod(fd, _new_file_mode() if mode is None else mode)
    except (OSError, AttributeError):  # AttributeError: no fchmod on Windows
        pass


def _link_new(tmp_name: str, target: Path, shown: str) -> None:
    """Give the finished temporary file the target's name, failing if the name is taken."""
    try:
        os.link(tmp_name, target)
    except FileExistsError:
        raise _exists_error(shown) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        # no hard links on this file system: check, then rename (a tiny race, no half files)
        if os.path.lexists(target):
            raise _exists_error(shown) from None
        os.replace(tmp_name, target)
        return
    try:
        os.unlink(tmp_name)
    except OSError:  # the file is written; a stray temporary name is not worth failing for
        pass


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (POSIX); harmless to skip where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
