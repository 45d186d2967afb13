"""Writing files safely: atomically (temporary file + rename), never over a file unasked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class FileWriteError(OSError):
    """A file could not be written; the message says which and why, in one line."""


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Refuses to replace an existing file unless ``overwrite`` is true.  Every failure
    (exists, unwritable folder, full disk, ...) raises :class:`FileWriteError`.
    """
    target = Path(path).expanduser()
    if target.exists() and not overwrite:
        raise FileWriteError(f"{target} already exists (choose another name or allow overwriting)")
    folder = target.parent
    mode = "wb" if isinstance(data, bytes) else "w"
    tmp_name = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if not overwrite and target.exists():
            raise FileWriteError(f"{target} already exists (choose another name or allow overwriting)")
        os.replace(tmp_name, target)
        tmp_name = None
    except FileWriteError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise FileWriteError(f"cannot write {target}: {reason}") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    return target
