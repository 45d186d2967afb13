"""Network view speed: one frame (chart text and the widget's strips) per size and network shape.

Run:  python benchmarks/network.py [--repeats N]

Target: a frame at 160×48 with 16 units × 2 layers within 10 ms (what the widget
does on a new snapshot: ``network_chart`` and ``to_strips``), judged on the CPU time
of the drawing thread — on a shared machine the wall clock also counts the time
other processes hold the core; both are printed.  For information: other
sizes and shapes (the cost grows with the tiles on a page, not the layer width), and
what the snapshot's new fields (every layer on the grid, dead units) add to
``Engine.snapshot()``.  Exits with status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from quadtui.charts import ChartTheme  # noqa: E402
from quadtui.charts.network import network_chart  # noqa: E402
from quadtui.core.config import Config  # noqa: E402
from quadtui.core.engine import Engine  # noqa: E402
from quadtui.core.threads import set_threads  # noqa: E402
from quadtui.tui.widgets.ansi import to_strips  # noqa: E402

TARGET_MS = 10.0
THEME = ChartTheme(dark=True, foreground=(220, 220, 220), background=(30, 30, 30))


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU (this thread) milliseconds of ``fn``."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def trained(hidden: int, layers: int, samples: int = 100) -> Engine:
    engine = Engine(Config(hidden=hidden, layers=layers, samples=samples, epochs=300))
    engine.advance(300)
    return engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    set_threads(1)
    print(f"network view frame (network_chart + to_strips), median of {args.repeats}, ms wall / cpu")
    verdict = True
    cases = [(16, 2, 160, 48), (16, 2, 80, 24), (16, 2, 300, 80), (8, 1, 160, 48), (64, 4, 160, 48), (256, 4, 160, 48)]
    for hidden, layers, width, height in cases:
        snap = trained(hidden, layers).snapshot()
        wall, cpu = timed(lambda: to_strips(network_chart(snap, width, height, THEME, (1, 3))), args.repeats)
        line = f"  {hidden:>3} units × {layers} layers at {width}×{height}: {wall:6.2f} / {cpu:6.2f}"
        if (hidden, layers, width, height) == (16, 2, 160, 48):
            ok = cpu <= TARGET_MS
            verdict &= ok
            verdict_text = "ok" if ok else "MISSED"
            line += f"   target ≤ {TARGET_MS:g} ms (cpu): {verdict_text} ({cpu / TARGET_MS:.2f}× the target)"
        print(line)

    print("Engine.snapshot(), ms wall / cpu: all of it, and the dead-unit pass within it")
    for hidden, layers, samples in [(8, 1, 100), (16, 2, 100), (16, 2, 10_000), (256, 4, 10_000)]:
        engine = trained(hidden, layers, samples)
        whole = timed(engine.snapshot, args.repeats)
        dead = timed(engine._dead_units, args.repeats)
        print(
            f"  {hidden:>3} units × {layers} layers, {samples:>6} samples: "
            f"snapshot {whole[0]:6.2f} / {whole[1]:6.2f}   dead units {dead[0]:6.2f} / {dead[1]:6.2f}"
        )
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
