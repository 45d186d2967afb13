"""The UI's CPU while a run trains at full speed: what one student's session costs a shared server.

    python benchmarks/ui_cpu.py                 # 8 s windows at 80x24, 120x40 and 160x48
    python benchmarks/ui_cpu.py --seconds 15 --sizes 80x24

The app runs in a real pseudo-terminal (``TERM=xterm-256color``), its output read
as a terminal would, training the default config for 10,000,000 epochs at full
speed in its child process (``--run --speed full``).  CPU is utime + stime from
``/proc`` over a window of wall-clock time, for the UI process alone and, beside
it, for the training process.  Then the same UI once the run is paused (idle).
Frames are counted from what reaches the terminal (each frame rewrites the loss
chart's title, ``loss · epoch N/M``; the status line's numbers follow twice a
second), so the table also gives the UI's CPU per frame drawn:
the figure that the machine's load changes least (a busier machine gets fewer frames).

Targets (issue: a class on two cores): UI <= 3 % of one core while training at
80x24 and 120x40, <= 5 % at 160x48; ~0 when idle.  Exits 1 over a target.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from benchmarks.idle import cpu_of, shows, tree  # noqa: E402
from benchmarks.ptyrun import PtyProcess, quadtui_argv  # noqa: E402

TARGETS = {(80, 24): 0.03, (120, 40): 0.03, (160, 48): 0.05}
IDLE_TARGET = 0.01


def measure(width: int, height: int, seconds: float) -> tuple[float, float, float, float]:
    """(UI share while training, training share, UI share paused, frames drawn a second while training)."""
    term = PtyProcess(quadtui_argv("--run", "--epochs", "10000000", *_speed_flag()), width, height)
    try:
        if not shows(term, rb"training", 60):
            raise SystemExit(f"{width}x{height}: the run did not start")
        procs: list[int] = []
        end = time.monotonic() + 60
        while len(procs) < 3 and time.monotonic() < end:  # app, fork server, run
            term.drain(0.2)
            procs = tree(term.pid)
        term.drain(2.0)  # past the first frames, the run's process training
        procs = tree(term.pid)
        others = [p for p in procs if p != term.pid]
        ui0, others0, wall0 = cpu_of([term.pid]), [cpu_of([p]) for p in others], time.perf_counter()
        frames = _frames(term, seconds)
        wall = time.perf_counter() - wall0
        ui = cpu_of([term.pid]) - ui0
        trained = max(cpu_of([p]) - before for p, before in zip(others, others0))  # the run's process
        term.send(b" ")  # pause: the UI has nothing left to draw
        if not shows(term, rb"paused", 10):
            raise SystemExit(f"{width}x{height}: the run did not pause")
        term.drain(0.5)
        idle0, wall1 = cpu_of([term.pid]), time.perf_counter()
        term.drain(seconds / 2)
        idle = (cpu_of([term.pid]) - idle0) / (time.perf_counter() - wall1)
        return ui / wall, trained / wall, idle, frames / wall
    finally:
        term.close()


def _frames(term: PtyProcess, seconds: float) -> int:
    """Read the app's output for ``seconds``; the frames it drew: the epochs the loss chart's title showed."""
    return len(set(re.findall(r"loss · epoch ([\d,]+)/".encode(), term.collect(seconds))))


def _speed_flag() -> list[str]:
    """Full speed, on a build that has a --speed flag (its default is a pace a person can watch)."""
    import subprocess

    help_text = subprocess.run(quadtui_argv("--help"), capture_output=True, text=True).stdout
    return ["--speed", "full"] if "--speed" in help_text else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--sizes", default="80x24,120x40,160x48")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    print(
        f"{'size':>8}  {'UI training':>11}  {'target':>6}  {'run':>5}  {'UI/run':>6}  {'frames/s':>8}  "
        f"{'UI ms/frame':>11}  {'UI paused':>9}"
    )
    failed = False
    for width, height in sizes:
        ui, run, idle, fps = measure(width, height, args.seconds)
        target = TARGETS.get((width, height), 0.05)
        over = ui > target or idle > IDLE_TARGET
        failed |= over
        print(
            f"{width}x{height:<5}  {ui:>10.1%}  {target:>6.0%}  {run:>5.0%}  {ui / max(run, 1e-9):>6.3f}  "
            f"{fps:>8.1f}  {ui * 1000 / max(fps, 1e-9):>11.1f}  {idle:>8.1%}{'  over target' if over else ''}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
