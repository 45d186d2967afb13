"""Export the run on screen to a folder, in a thread the app never waits for.

The screen holds snapshots, not the training engine (which belongs to the
training thread); each snapshot carries a copy of the weights it was taken
with, so the export needs nothing from the trainer.

The work runs in a daemon thread awaited by an async worker: the UI stays live,
and quitting cancels the worker, tells the thread to stop and leaves without
waiting for it.  The folder is tried for real (a probe, ``check_folder``)
before any work, and written all at once or not at all (``export_run`` stages
the files and moves them into place at the end), so a failure — a read-only
place, a full disk — leaves the target as it was and the run stays on screen.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quadtui.core.files import FileWriteError

if TYPE_CHECKING:
    from textual.app import App

    from quadtui.core.snapshot import Snapshot


class ExportCancelled(Exception):
    """The app is closing: the export stopped before writing anything."""


def default_folder(now: float | None = None) -> str:
    return time.strftime("quadtui-export-%Y%m%d-%H%M%S", time.localtime(now))


def export_files(
    snap: Snapshot, folder: str, svg: str | None, overwrite: bool, cancel: threading.Event, in_child: bool = False
) -> Path:
    """Rebuild the model and write the export folder (runs in the export thread).

    ``in_child``: in a process of the fork server's (the app's UI process never imports torch,
    which writing ``model.pt`` needs).
    """
    from quadtui.core.export import export_run

    if cancel.is_set():
        raise ExportCancelled
    if in_child:
        from quadtui.core import remote

        return remote.call(_export_run, snap, folder, overwrite, svg)
    return export_run(snap, folder, overwrite=overwrite, screenshot_svg=svg)


def _export_run(snap: Snapshot, folder: str, overwrite: bool, svg: str | None) -> Path:
    from quadtui.core.export import export_run

    return export_run(snap, folder, overwrite=overwrite, screenshot_svg=svg)


async def in_daemon_thread(work: Callable[[threading.Event], Path]) -> Path:
    """Run ``work(cancel)`` in a daemon thread; if this is cancelled, set ``cancel`` and do not wait."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Path] = loop.create_future()
    cancel = threading.Event()

    def settle(result: Path | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = work(cancel), None
        except BaseException as exc:  # handed to the awaiting worker
            result, error = None, exc
        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting
                pass

    threading.Thread(target=run, name="quadtui-export", daemon=True).start()
    try:
        return await done
    except asyncio.CancelledError:
        cancel.set()
        raise


async def export_flow(app: App[Any], snap: Snapshot, svg: str) -> Path | None:
    """Ask for the folder (confirming a non-empty one), export in the background, say how it went."""
    from quadtui.core.export import check_folder
    from quadtui.tui.screens.files import ask_path, confirm
    from quadtui.tui.worker import trains_in_child

    folder = await ask_path(
        app,
        f"Export the run (epoch {snap.epoch}) to the folder",
        default_folder(),
        "Enter: export   Esc: cancel   (config.toml, loss.csv, fit.csv, model.pt, timeline.pt, "
        "train.py, screenshot.svg)",
    )
    if folder is None:
        return None
    overwrite = _has_files(Path(folder).expanduser())
    if overwrite and not await confirm(
        app, f"{folder} is not empty. Export into it anyway (replacing the export files in it)?"
    ):
        return None
    try:
        check_folder(folder, overwrite=overwrite)
    except FileWriteError as exc:
        app.notify(str(exc), title="Not exported", severity="error", timeout=8, markup=False)
        return None
    app.notify(f"exporting to {folder}…", timeout=2, markup=False)
    try:
        in_child = trains_in_child(app)  # torch lives in the fork server's processes, not the UI's
        written = await in_daemon_thread(lambda cancel: export_files(snap, folder, svg, overwrite, cancel, in_child))
    except (FileWriteError, ExportCancelled) as exc:
        app.notify(str(exc) or "export cancelled", title="Not exported", severity="error", timeout=10, markup=False)
        return None
    except Exception as exc:  # anything else: one line, the run stays on screen
        app.notify(f"{type(exc).__name__}: {exc}", title="Not exported", severity="error", timeout=10, markup=False)
        return None
    from quadtui.tui.session_files import deliver

    sent = deliver(app, written)  # served: the folder also comes to the browser, as a zip
    app.notify(
        f"run exported to {written}" + (" (downloading as a zip)" if sent else ""),
        title="Exported",
        timeout=6,
        markup=False,
    )
    return written


def _has_files(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(folder.iterdir())
    except OSError:  # unreadable: check_folder and the writes will say why
        return False
