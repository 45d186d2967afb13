"""An export folder written all at once or not at all, and checked for real before a run.

:func:`check_folder` is the pre-check: it resolves symbolic links, refuses a
dangling one, a path under a regular file and a non-empty folder (unless
replacing is allowed), and creates and removes a probe folder where the export
will be made, so a read-only file system or a folder without write permission
is refused before a long run rather than after it.  It leaves nothing behind.

:func:`write_folder` writes every file into a hidden staging folder first and
only then puts them in place:

* a new folder: the staging folder is made beside it and renamed to its name
  (folders missing on the way are created, and removed again on failure);
* an existing folder (empty, or one whose export files may be replaced): the
  staging folder is made inside it (so on the same file system), the old export
  files are moved aside, the new ones moved in, and the old ones dropped — or,
  if a move fails, everything is moved back.

Any failure (a full disk, a vanished folder, ctrl+c) removes the staging folder
and leaves the target as it was.  Every failure is one :class:`FileWriteError` line.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from quadtui.core.files import FileWriteError, _shown, _sync_folder, current_umask

STAGING_PREFIX = ".quadtui-export-"


class _OldFilesKept(FileWriteError):
    """Replacing failed and an old file could not be moved back: the staging folder must stay."""


def check_folder(directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The export folder ``directory`` resolved, or :class:`FileWriteError` saying why it cannot be one.

    Creates and removes a probe folder in the target (or, when the target is to be
    created, in its nearest existing parent): nothing else is touched.
    """
    folder = resolve_target(directory)
    if folder.is_dir():
        if not overwrite and _has_entries(folder):
            raise FileWriteError(f"{_shown(folder)} is not empty (choose a new or empty folder)")
        _probe(folder)
    else:
        _probe(_nearest_existing(folder))
    return folder


def resolve_target(directory: str | os.PathLike[str]) -> Path:
    """``directory`` with ``~`` expanded and symbolic links resolved; refuses what cannot become a folder."""
    if not str(directory).strip():
        raise FileWriteError("no folder name given")
    try:
        folder = Path(directory).expanduser()
        given = folder.absolute()
        for place in (given, *given.parents):
            if not os.path.lexists(place):
                continue
            if not place.exists():
                raise FileWriteError(f"{_shown(place)} is a symbolic link to nothing (a dangling link)")
            if not place.is_dir():
                if place == given:
                    raise FileWriteError(f"{_shown(folder)} is a file, not a folder (choose another name)")
                raise FileWriteError(f"cannot create {_shown(folder)}: {_shown(place)} is a file, not a folder")
            break
        return folder.resolve()
    except FileWriteError:
        raise
    except ValueError:  # e.g. an embedded null character
        raise FileWriteError(f"{_shown(directory)} is not a usable folder name") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (older Pythons)
        reason = getattr(exc, "strerror", None) or "a symbolic link loop"
        raise FileWriteError(f"cannot use {_shown(directory)}: {reason}") from None


def write_folder(
    directory: str | os.PathLike[str],
    files: Mapping[str, str | bytes],
    *,
    overwrite: bool = False,
    stale: Iterable[str] = (),
) -> Path:
    """Put ``files`` (name -> text or bytes) into the folder ``directory``, all of them or none.

    With ``overwrite`` an existing folder's files of the same names (and those named
    in ``stale``, left from an earlier export) are replaced; its other files stay.
    """
    folder = check_folder(directory, overwrite=overwrite)
    if folder.is_dir():
        _write_into_existing(folder, files, set(stale) - set(files))
    else:
        _write_new(folder, files)
    return folder


# -- a new folder ------------------------------------------------------------------------------------
def _write_new(folder: Path, files: Mapping[str, str | bytes]) -> None:
    created: list[Path] = []
    staging: Path | None = None
    try:
        _make_parents(folder.parent, created)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder.parent))
        _write_all(staging, folder, files)
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp's folder is private (0o700)
        _sync_folder(staging)
        try:
            os.rename(staging, folder)  # fails if a non-empty folder took the name meanwhile
        except OSError as exc:
            raise FileWriteError(f"cannot put the export in place at {_shown(folder)}: {_reason(exc)}") from None
        staging = None
        _sync_folder(folder.parent)
    except BaseException as exc:
        _remove_tree(staging)
        for made in reversed(created):
            try:
                made.rmdir()
            except OSError:
                break
        if isinstance(exc, OSError) and not isinstance(exc, FileWriteError):
            raise FileWriteError(f"cannot create {_shown(folder)}: {_reason(exc)}") from None
        raise


def _make_parents(parent: Path, created: list[Path]) -> None:
    """Create the missing folders up to ``parent``, outermost first, noting each in ``created`` (to undo)."""
    missing = []
    for place in (parent, *parent.parents):
        if os.path.lexists(place):
            break
        missing.append(place)
    for place in reversed(missing):
        place.mkdir()
        created.append(place)


# -- an existing folder ------------------------------------------------------------------------------
def _write_into_existing(folder: Path, files: Mapping[str, str | bytes], stale: set[str]) -> None:
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        _write_all(staging, folder, files)
        _swap_in(folder, staging, list(files), stale)
        _sync_folder(folder)
    except _OldFilesKept:
        staging = None  # it holds the user's old files now
        raise
    except OSError as exc:
        if isinstance(exc, FileWriteError):
            raise
        raise FileWriteError(f"cannot write into {_shown(folder)}: {_reason(exc)}") from None
    finally:
        _remove_tree(staging)


def _swap_in(folder: Path, staging: Path, names: list[str], stale: set[str]) -> None:
    """Move the old export files aside, the new ones in; on any failure move everything back.

    Should moving an old file back fail too, the staging folder is kept (it holds
    that file) and the message names it.
    """
    aside = staging / ".replaced"
    aside.mkdir()
    moved_aside: list[str] = []
    moved_in: list[str] = []
    try:
        for name in [*names, *sorted(stale)]:
            if os.path.lexists(folder / name):
                os.rename(folder / name, aside / name)
                moved_aside.append(name)
        for name in names:
            os.rename(staging / name, folder / name)
            moved_in.append(name)
    except BaseException as exc:
        for name in reversed(moved_in):
            _quietly(os.rename, folder / name, staging / name)
        kept = [name for name in reversed(moved_aside) if not _quietly(os.rename, aside / name, folder / name)]
        if kept:  # never delete a user's file: leave it where it is and say so
            raise _OldFilesKept(
                f"cannot replace the export files in {_shown(folder)}: {_reason_of(exc)}; "
                f"the old ones are in {_shown(aside)}"
            ) from None
        if isinstance(exc, OSError):
            raise FileWriteError(f"cannot replace the export files in {_shown(folder)}: {_reason(exc)}") from None
        raise


# -- files ---------------------------------------------------------------------------------------------
def _write_all(staging: Path, folder: Path, files: Mapping[str, str | bytes]) -> None:
    for name, data in files.items():
        try:
            write_file(staging / name, data.encode("utf-8") if isinstance(data, str) else data)
            _keep_mode(staging / name, folder / name)
        except OSError as exc:
            raise FileWriteError(f"cannot write {_shown(folder / name)}: {_reason(exc)}") from None


def write_file(path: Path, data: bytes) -> None:
    """A new file holding ``data``, on disk (flushed and synced) when this returns."""
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _keep_mode(new: Path, old: Path) -> None:
    """A replaced file keeps its permissions."""
    try:
        os.chmod(new, stat.S_IMODE(os.stat(old).st_mode))
    except OSError:
        pass


def _probe(place: Path) -> None:
    """Create and remove a folder in ``place``: the export's first step, tried before any work."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=STAGING_PREFIX + "probe-", dir=place))
    except OSError as exc:
        raise FileWriteError(f"cannot write in {_shown(place)}: {_reason(exc)}") from None


def _nearest_existing(folder: Path) -> Path:
    for place in folder.parents:
        if place.is_dir():
            return place
    return Path(folder.anchor or "/")


def _has_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError as exc:
        raise FileWriteError(f"cannot read {_shown(folder)}: {_reason(exc)}") from None


def _remove_tree(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def _quietly(action, *args) -> bool:  # type: ignore[no-untyped-def]
    """``action(*args)``; whether it worked."""
    try:
        action(*args)
    except OSError:
        return False
    return True


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _reason_of(exc: BaseException) -> str:
    return _reason(exc) if isinstance(exc, OSError) else type(exc).__name__
