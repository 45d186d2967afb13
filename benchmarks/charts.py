"""Chart rendering speed: each chart at the app's sizes over a run's snapshots, per chart at
160×48, and loss-chart cost vs history length.

Run:  python benchmarks/charts.py [--repeats N]

Targets: loss + fit + neuron at 160×48 within 15 ms per frame, and the loss chart
with 1,000,000 epochs of history within 1.2× its time with 1,000.  At the app's sizes the
charts are drawn as the app draws them while a run trains: untitled (the widget's border holds
the title), over snapshots of a run from its first epochs to its end, and the fit and neuron
charts' signatures too (the app signs each snapshot to know whether it must draw it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from quadtui.charts import (  # noqa: E402
    ChartTheme,
    LossOverlay,
    fit_chart,
    fit_signature,
    loss_chart,
    neuron_chart,
    neuron_signature,
    sweep_chart,
)
from quadtui.core.config import Config  # noqa: E402
from quadtui.core.engine import Engine  # noqa: E402
from quadtui.core.history import LossHistory  # noqa: E402
from quadtui.core.snapshot import Snapshot  # noqa: E402
from quadtui.core.threads import set_threads  # noqa: E402

WIDTH, HEIGHT = 160, 48
#: the charts' content sizes in the app (QuadApp().run_test(size=...), each chart's content_size)
APP_SIZES = {"80×24": {"loss": (47, 17)}, "120×40": {"loss": (40, 16), "fit": (40, 16), "neuron": (83, 17)}}
FRAME_TARGET_MS = 15.0
RATIO_TARGET = 1.2


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and median CPU (this thread) milliseconds of ``fn``.

    CPU time is shown beside wall time because a shared machine's load inflates the
    wall figure; the target is judged on wall time.
    """
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def synthetic(snap: Snapshot, epochs: int) -> Snapshot:
    """``snap`` with a long made-up history: decaying, noisy, one spike; eval as the engine keeps it."""
    rng = np.random.default_rng(0)
    history = LossHistory(epochs)
    chunk = 1 << 16
    for start in range(0, epochs, chunk):
        t = np.arange(start, min(epochs, start + chunk), dtype=np.float64)
        history.append(30 * np.exp(-t / (epochs / 8)) + 0.01 + 0.005 * rng.random(t.size))
    every = max(1, -(-epochs // 1000))  # the engine's eval spacing: about 1000 points
    eval_epochs = np.arange(1, epochs + 1, every, dtype=np.int64)
    eval_loss = (30 * np.exp(-(eval_epochs - 1) / (epochs / 8)) + 0.012).astype(np.float32)
    return dataclasses.replace(
        snap,
        config=snap.config.replace(epochs=epochs),
        epoch=epochs,
        train_loss=history.values,
        history=history,
        eval_epochs=eval_epochs,
        eval_loss=eval_loss,
    )


def paired_ms(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` timed alternately, so drift hits both alike."""
    a(), b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return statistics.median(ta) * 1e3, statistics.median(tb) * 1e3


def frame(label: str, snap: Snapshot, theme: ChartTheme, repeats: int) -> None:
    print(f"{label}, median of {repeats}:        wall      cpu")
    charts = {
        "loss": lambda: loss_chart(snap, WIDTH, HEIGHT, theme),
        "fit": lambda: fit_chart(snap, WIDTH, HEIGHT, theme),
        "neuron": lambda: neuron_chart(snap, 3, False, WIDTH, HEIGHT, theme),
    }
    total_wall = total_cpu = 0.0
    for name, fn in charts.items():
        wall, cpu = timed(fn, repeats)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"  {name:<28} {wall:6.2f} ms {cpu:6.2f} ms")
    verdict = "ok" if total_wall <= FRAME_TARGET_MS else "OVER"
    print(
        f"  frame (loss + fit + neuron)  {total_wall:6.2f} ms {total_cpu:6.2f} ms"
        f"   target <= {FRAME_TARGET_MS:.0f} ms (wall): {verdict}"
    )


def training_snapshots(epochs: int = 5000, count: int = 24) -> list[Snapshot]:
    """``count`` snapshots of a run of the default config, from its first epochs to its end."""
    engine = Engine(Config(epochs=epochs))
    snaps = []
    for epoch in np.unique(np.geomspace(1, epochs, count).astype(int)):
        engine.advance(int(epoch) - engine.epoch)
        snaps.append(engine.snapshot())
    return snaps


def at_app_sizes(snaps: list[Snapshot], theme: ChartTheme, repeats: int) -> None:
    """Each chart at the sizes the app gives it, one draw of every snapshot, as the app draws it."""
    charts: dict[str, Callable[[Snapshot, int, int], object]] = {
        "loss": lambda s, w, h: loss_chart(s, w, h, theme, header=False),
        "fit": lambda s, w, h: fit_chart(s, w, h, theme, header=False),
        "neuron": lambda s, w, h: neuron_chart(s, 3, False, w, h, theme, header=False),
        "fit signature": lambda s, w, h: fit_signature(s, w, h, theme),
        "neuron signature": lambda s, w, h: neuron_signature(s, 3, False, w, h, theme),
    }
    print(f"at the app's sizes, a draw (mean over {len(snaps)} snapshots), median of {repeats}:  wall      cpu")
    for screen, sizes in APP_SIZES.items():
        for name, chart in charts.items():
            size = sizes.get(name.split()[0])
            if size is None:
                continue
            wall, cpu = timed(lambda: [chart(s, *size) for s in snaps], repeats)  # noqa: B023
            label = f"{screen} {name} {size[0]}×{size[1]}"
            print(f"  {label:<40} {wall / len(snaps):6.3f} ms {cpu / len(snaps):6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    set_threads(1)
    n = args.repeats
    theme = ChartTheme.from_textual(True, "#e0e0e0", "#1e1e1e", ["#0178d4", "#ffa62b", "#4ebf71"], True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs")
    at_app_sizes(training_snapshots(), theme, n)
    print(f"charts at {WIDTH}×{HEIGHT}:")

    engine = Engine(Config())
    engine.advance(400)
    snap = engine.snapshot()
    frame(f"real run, epoch {snap.epoch}", snap, theme, n)
    engine.advance(engine.remaining)
    done = engine.snapshot()
    frame(f"real run, done at epoch {done.epoch}", done, theme, n)

    short, long = synthetic(snap, 1_000), synthetic(snap, 1_000_000)
    print(f"others, median of {n}:")
    extra = {
        "neuron (contribution)": lambda: neuron_chart(done, 3, True, WIDTH, HEIGHT, theme),
        "sweep (12 runs)": lambda: sweep_chart(
            "lr",
            list(np.geomspace(1e-3, 1, 12)),
            [1 / (i + 1) for i in range(11)] + [None],
            WIDTH,
            HEIGHT,
            theme,
            log_x=True,
        ),
        "loss, NO_COLOR": lambda: loss_chart(done, WIDTH, HEIGHT, dataclasses.replace(theme, color=False)),
        "loss, log x": lambda: loss_chart(done, WIDTH, HEIGHT, theme, log_x=True),
        "loss, log x, 1M epochs": lambda: loss_chart(long, WIDTH, HEIGHT, theme, log_x=True),
        "loss + 3 overlays": lambda: loss_chart(
            done, WIDTH, HEIGHT, theme, [LossOverlay(f"run {i}", done.history) for i in range(3)]
        ),
    }
    for name, fn in extra.items():
        wall, cpu = timed(fn, n)
        print(f"  {name:<28} {wall:6.2f} ms {cpu:6.2f} ms")

    t_short, t_long = paired_ms(
        lambda: loss_chart(short, WIDTH, HEIGHT, theme), lambda: loss_chart(long, WIDTH, HEIGHT, theme), n
    )
    ratio = t_long / t_short
    verdict = "ok" if ratio <= RATIO_TARGET else "OVER"
    print(f"loss chart vs history length (median of {n}, interleaved):")
    print(f"  1,000 epochs                 {t_short:6.2f} ms")
    print(f"  1,000,000 epochs             {t_long:6.2f} ms")
    print(f"  ratio                        {t_long / t_short:6.2f}      target <= {RATIO_TARGET}: {verdict}")


if __name__ == "__main__":
    main()
