"""What the headless commands share: ctrl+c handling and a progress bar on stderr."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from rich.progress import Progress


@contextmanager
def interruptible() -> Iterator[threading.Event]:
    """An event the first ctrl+c sets (the run stops cleanly); a second ctrl+c interrupts at once."""
    cancel = threading.Event()

    def interrupted(*_: object) -> None:
        cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def stderr_progress(*columns: object) -> "Progress":
    """A transient progress bar on stderr, drawn only when stderr is a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    err = Console(stderr=True)
    return Progress(
        *columns[:1], BarColumn(), *columns[1:], TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )
