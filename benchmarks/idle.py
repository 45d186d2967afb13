"""Idle CPU: the app's CPU use while a run sits finished, and while it sits paused.

    python benchmarks/idle.py                  # 5 s windows, 3 rounds
    python benchmarks/idle.py --seconds 10 --rounds 5

The app runs in a real pseudo-terminal (``TERM=xterm-256color``, 120x40), its
output read as a terminal would.  CPU is utime + stime of the app's process tree
(the app, and a training process if it has one) from ``/proc``, over a window of
wall-clock time:

* finished: ``--run --epochs 2000``, measured once the status line says done;
* paused: ``--run --epochs 10000000``, space pressed mid-run, measured once the
  status line says paused.

Target: <= 1 % of one core in both states.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from benchmarks.ptyrun import PtyProcess, descendants, proc_cpu_seconds, quadtui_argv  # noqa: E402

TARGET = 0.01
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[a-zA-Z~]|\x1b\][^\x07]*\x07")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a training process, a fork server)."""
    return [pid, *descendants(pid)]


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu_seconds(pid)
        except OSError:  # gone
            pass
    return total


def shows(term: PtyProcess, pattern: bytes, timeout: float) -> bool:
    """Wait until the screen has shown ``pattern`` (a regex; escape sequences removed first)."""
    regex = re.compile(pattern)
    return term.read_until(lambda out: regex.search(_ESCAPES.sub(b"", out[-20000:])) is not None, timeout) is not None


def idle_share(term: PtyProcess, seconds: float) -> float:
    """Fraction of one core the app's processes use over ``seconds`` (the output keeps being read)."""
    pids = tree(term.pid)
    wall, cpu = time.perf_counter(), cpu_of(pids)
    term.drain(seconds)
    return (cpu_of(pids) - cpu) / (time.perf_counter() - wall)


def finished(seconds: float) -> float:
    term = PtyProcess(quadtui_argv("--run", "--epochs", "2000"))
    try:
        if not shows(term, rb"epoch 2000 of 2000", 60) or not shows(term, rb"\bdone\b", 10):
            raise RuntimeError("the run did not finish:\n" + term.output[-2000:].decode(errors="replace"))
        term.drain(0.5)  # let the last frame settle
        return idle_share(term, seconds)
    finally:
        term.close()


def paused(seconds: float) -> float:
    term = PtyProcess(quadtui_argv("--run", "--epochs", "10000000"))
    try:
        if not shows(term, rb"epoch [1-9][0-9]* of 10000000", 60):  # training (torch loaded)
            raise RuntimeError("the run did not start:\n" + term.output[-2000:].decode(errors="replace"))
        term.drain(1.0)
        term.output.clear()
        term.send(b" ")
        if not shows(term, rb"\bpaused\b", 20):
            raise RuntimeError("the run did not pause:\n" + term.output[-2000:].decode(errors="replace"))
        term.drain(0.5)
        return idle_share(term, seconds)
    finally:
        term.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window (default 5 s)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each state (default 3)")
    args = parser.parse_args(argv)

    print(
        f"load before: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} cores; "
        f"{args.rounds} rounds of {args.seconds:g} s per state, 120x40 pty\n"
    )
    shares: dict[str, list[float]] = {"finished": [], "paused": []}
    for r in range(args.rounds):
        for name, fn in (("finished", finished), ("paused", paused)):
            share = fn(args.seconds)
            shares[name].append(share)
            print(f"  round {r + 1}  {name:8}  {share:7.2%} of one core", flush=True)
    ok = True
    print("\nmedians")
    for name, values in shares.items():
        median = statistics.median(values)
        ok &= median <= TARGET
        print(
            f"  {name:8}  {median:7.2%} of one core vs target {TARGET:.0%}"
            f"  {'ok' if median <= TARGET else 'ABOVE TARGET'}"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
