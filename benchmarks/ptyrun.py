"""Run a program in a pseudo-terminal of a given size, as a real terminal would (for the benchmarks).

``PtyProcess`` starts the program with the pty as its controlling terminal,
``TERM=xterm-256color``, and keeps reading what it draws (a terminal that is not
read from would block the program).  Used by startup.py, idle.py and ui_overhead.py.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_env() -> dict[str, str]:
    """This environment, with the checkout first on the path and a real terminal type."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TERM"] = "xterm-256color"
    env.pop("NO_COLOR", None)
    env.pop("TEXTUAL", None)
    return env


class PtyProcess:
    """``argv`` running in a ``width``×``height`` pty; :meth:`read_until` collects its output."""

    def __init__(
        self,
        argv: Sequence[str],
        width: int = 120,
        height: int = 40,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env or python_env(),
            cwd=cwd or ROOT,
            start_new_session=True,
            preexec_fn=_controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()
        #: reads that found output: about one per frame the program drew (a proxy for its frame rate)
        self.frames = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read_until(self, done: Callable[[bytes], bool], timeout: float) -> float | None:
        """Read output until ``done(output)`` holds; the time since launch then, or None on timeout/exit."""
        end = time.perf_counter() + timeout
        while True:
            if done(bytes(self.output)):
                return time.perf_counter() - self.started
            left = end - time.perf_counter()
            if left <= 0 or not self._read(min(left, 0.5)):
                return None

    def drain(self, seconds: float) -> None:
        """Keep reading (and discarding) for ``seconds``, as a terminal would."""
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0 and self._read(left, keep=False):
            pass

    def collect(self, seconds: float) -> bytes:
        """Keep reading for ``seconds``; what the program wrote meanwhile (not kept in :attr:`output`)."""
        start, end = len(self.output), time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0 and self._read(left):
            pass
        written = bytes(self.output[start:])
        del self.output[start:]
        return written

    def _read(self, timeout: float, keep: bool = True) -> bool:
        """Wait up to ``timeout`` for output; False once the program's side has closed."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return self.proc.poll() is None
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # EIO: the program exited and closed the pty
            return False
        if not data:
            return False
        self.frames += 1
        if keep:
            self.output += data
        return True

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def cpu_seconds(self) -> float:
        """utime + stime of the program (all its threads), from /proc."""
        return proc_cpu_seconds(self.proc.pid)

    def close(self, timeout: float = 10.0) -> int | None:
        """Stop the program (ctrl+q, then SIGTERM, then SIGKILL) and close the pty."""
        if self.proc.poll() is None:
            try:
                self.send(b"\x11")  # ctrl+q
            except OSError:
                pass
            end = time.perf_counter() + timeout
            while self.proc.poll() is None and time.perf_counter() < end:
                self._read(0.1, keep=False)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def _controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` in seconds (Linux /proc; psutil not needed)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children() -> dict[int, list[int]]:
    """Every process's children, from /proc (parent pid -> child pids)."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """All of ``pid``'s descendants (children first, then theirs), not ``pid`` itself."""
    kids, found, todo = children(), [], [pid]
    while todo:
        for kid in kids.get(todo.pop(), []):
            found.append(kid)
            todo.append(kid)
    return found


def training_processes(app: int | None = None) -> list[int]:
    """The live processes forked by ``app``'s fork server (default: this process's): its runs and calls."""
    kids = children()
    servers = [
        pid for pid in kids.get(os.getpid() if app is None else app, []) if "quadtui.core.forkserver" in cmdline(pid)
    ]
    return [pid for server in servers for pid in kids.get(server, []) if alive(pid)]


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2 :].split()[0] != b"Z"
    except (OSError, ValueError):
        return False


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def quadtui_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "quadtui", *args]
