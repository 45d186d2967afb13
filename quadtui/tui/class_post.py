"""Posting the app's finished runs to the class folder, off the UI thread.

Every run the runs table keeps (a finished run of the app, or a sweep member the
user added) is handed to :class:`ClassPoster`, which writes it from a thread
worker: SQLite may wait on another writer for seconds (its busy timeout), and the
UI must not.  Each run is posted once; a failure is a notification.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from quadtui.charts.run_store import RunRecord


class ClassPoster:
    """Called with each kept run; posts it in a worker thread as the OS user running the app."""

    def __init__(self, app: App[Any], folder: Path, lesson: str | None = None) -> None:
        self.app, self.folder, self.lesson = app, Path(folder), lesson
        self._waiting: queue.SimpleQueue[RunRecord] = queue.SimpleQueue()
        self.posted = 0  # runs written (for tests and the status)
        self._pending = 0  # runs handed over and not yet written (or failed)
        self._settled = threading.Condition()
        from quadtui.core.classroom import ClassWriter

        self.writer = ClassWriter(self.folder)

    def __call__(self, run: RunRecord) -> None:
        with self._settled:
            self._pending += 1
        self._waiting.put(run)
        self.app.run_worker(self._post_waiting, thread=True, group="class-post", exclusive=False, exit_on_error=False)

    def _post_waiting(self) -> None:
        from quadtui.core.classroom import ClassError, make_post

        writer = self.writer
        while True:
            try:
                run = self._waiting.get_nowait()
            except queue.Empty:
                return
            post = make_post(
                run.config,
                run.status,
                run.epochs,
                run.history,
                run.grid,
                run.prediction,
                run.final_loss,
                run.eval_loss,
                self.lesson,
            )
            try:
                writer.post(post)
                with self._settled:  # two workers may finish at once: += is not atomic across threads
                    self.posted += 1
            except ClassError as exc:
                # (notify only posts a message: safe from this thread, and never waits on the UI)
                self.app.notify(str(exc), title="Run not posted to the class", severity="error", timeout=8)
            finally:
                with self._settled:
                    self._pending -= 1
                    self._settled.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) for the runs handed over to be written: quitting must not lose one."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)
