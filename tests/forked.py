"""What the fork server tests run in forked processes: the servers import this module (and nothing heavy) to
find them, so it imports neither torch nor the app."""

from __future__ import annotations

import gc
import os
import sys
import time

from quadtui.core.forkserver import Channel


def echo(channel: Channel, suffix: str) -> None:
    """Send back every message with ``suffix`` until the other end closes."""
    while True:
        try:
            message = channel.recv()
        except EOFError:
            return
        channel.send(message + suffix)


def report_frozen(channel: Channel) -> None:
    channel.send((gc.get_freeze_count(), os.getpid(), "torch" in sys.modules))


WARMED = []


def warm() -> None:
    WARMED.append(os.getpid())


def report_warmed(channel: Channel) -> None:
    channel.send((WARMED, os.getppid()))


def report_setting(channel: Channel) -> None:
    umask = os.umask(0)
    channel.send((os.getcwd(), os.environ.get("QUADTUI_TEST_MARK"), umask, os.getppid()))


def exit_with(channel: Channel, code: int) -> None:
    sys.exit(code)


def sleep_forever(channel: Channel) -> None:
    channel.send(os.getpid())
    time.sleep(3600)
