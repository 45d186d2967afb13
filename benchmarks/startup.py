"""Start-up: time from launching ``python -m quadtui`` in a terminal to its first full frame.

    python benchmarks/startup.py               # 7 alternating rounds, 120x40
    python benchmarks/startup.py --rounds 11 --size 160x50

The app runs in a real pseudo-terminal (``TERM=xterm-256color``); the first full
frame is there when the output, after the switch to the alternate screen, holds
the footer's last entry (the footer is the bottom row, written last).  For context,
alternately with the app, the same clock times three plain processes to their exit:
``python -c pass``, ``import textual.app`` and ``import quadtui.cli``.  Also checked:
torch is not imported before the first frame (the app process is asked, via
``/proc/PID/maps``, whether libtorch is mapped when the frame appears).
Target: median first frame <= 0.8 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from benchmarks.ptyrun import PtyProcess, python_env, quadtui_argv  # noqa: E402

TARGET_S = 0.8
ALT_SCREEN = b"\x1b[?1049h"
FOOTER_END = b"^p"  # the command palette key, right end of the footer row (the bottom row, drawn last)


def first_frame(width: int, height: int) -> tuple[float, bool]:
    """Seconds to the first full frame, and whether torch was loaded by then."""
    term = PtyProcess(quadtui_argv(), width, height)
    try:

        def painted(out: bytes) -> bool:
            start = out.find(ALT_SCREEN)
            return start >= 0 and out.find(FOOTER_END, start) >= 0

        seconds = term.read_until(painted, timeout=60)
        if seconds is None:
            raise RuntimeError("no frame within 60 s:\n" + term.output[-2000:].decode(errors="replace"))
        torch_loaded = _maps_torch(term.pid)
        return seconds, torch_loaded
    finally:
        term.close()


def _maps_torch(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            return b"libtorch" in f.read()
    except OSError:
        return False


def plain(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=python_env(), check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
    parser.add_argument("--size", default="120x40", help="terminal size (default 120x40)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    baselines = {
        "python -c pass": "pass",
        "import textual.app": "import textual.app",
        "import quadtui.cli": "import quadtui.cli",
    }
    times: dict[str, list[float]] = {name: [] for name in ["app first frame", *baselines]}
    torch_early = 0
    print(
        f"load before: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} cores; "
        f"{args.rounds} alternating rounds after a warm-up, {width}x{height}\n"
    )
    for r in range(args.rounds + 1):
        seconds, torch_loaded = first_frame(width, height)
        row = {"app first frame": seconds}
        row.update({name: plain(code) for name, code in baselines.items()})
        if r:  # round 0 warms the file cache
            for name, value in row.items():
                times[name].append(value)
            torch_early += torch_loaded
            print(f"  round {r}: " + "  ".join(f"{name} {value:.3f} s" for name, value in row.items()), flush=True)

    print("\nmedians")
    for name, values in times.items():
        print(f"  {name:22} {statistics.median(values):6.3f} s   (min {min(values):.3f}, max {max(values):.3f})")
    median = statistics.median(times["app first frame"])
    ok = median <= TARGET_S and torch_early == 0
    print(
        f"\nfirst frame: median {median:.3f} s vs target {TARGET_S} s = {median / TARGET_S:.2f} x the limit"
        f"  {'ok' if median <= TARGET_S else 'ABOVE TARGET'}"
    )
    print(
        f"torch loaded before the first frame: {torch_early} of {args.rounds} runs"
        f"  {'ok' if torch_early == 0 else 'NOT OK'}"
    )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
