"""UI overhead: epochs/s of a run inside the live app (charts redrawing) vs the headless engine.

    python benchmarks/ui_overhead.py                     # 200,000 epochs, 3 alternating rounds
    python benchmarks/ui_overhead.py --rounds 5 --epochs 400000 --modes pty

Each variant runs in a fresh subprocess, alternately, so background load hits all alike:

* ``headless`` — ``Engine(config).run()`` on one torch thread, no UI (the reference);
* ``test WxH`` — the app under ``App.run_test(size=(W, H))`` (Textual's headless driver:
  everything but the terminal writes);
* ``pty WxH`` — the app in a real pseudo-terminal of that size (``python -m``-like, with
  ``TERM=xterm-256color``), its output read as a terminal would.

The app trains the same config at full speed with all three charts on screen (the
wide layout).  Measured: the training thread's wall time (engine construction
included, as on the reference side), the number of times each chart was drawn
meanwhile (``Chart.draws``), and the resulting epochs/s and redraws/s.
Targets: app epochs/s >= 0.9 x headless, with every chart redrawn >= 10 times a second,
judged on the variants that train in a child process (what a real terminal gets);
the in-thread variants (what ``App.run_test`` gets) are printed for comparison.
Trainer CPU (per epoch) and UI CPU are printed too: on a machine busy with other
work the UI's share of a core is what the wall-clock ratio loses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from benchmarks.ptyrun import PtyProcess, python_env  # noqa: E402

TARGET_RATIO = 0.9
TARGET_REDRAWS = 10.0
HERE = Path(__file__).resolve()


# -- the measured processes ------------------------------------------------------------------
def child_headless(epochs: int) -> dict[str, float]:
    from quadtui.core.config import Config
    from quadtui.core.engine import Engine
    from quadtui.core.threads import set_threads

    set_threads(1)
    started, cpu = time.perf_counter(), time.process_time()
    snap = Engine(Config(epochs=epochs)).run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"epochs": snap.epoch, "seconds": seconds, "train_cpu": cpu, "final_loss": float(snap.train_loss[-1])}


class Probe:
    """Times the app's training thread and counts chart draws while it runs."""

    def __init__(self) -> None:
        from quadtui.core import remote, worker

        self.done = threading.Event()
        self.child_cpu = 0.0
        real_remote = remote.train

        def remote_train(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.child_cpu = real_remote(*args, **kwargs)
            return self.child_cpu

        remote.train = remote_train
        self.result: dict[str, object] = {}
        self.app = None
        real_train = worker.train

        def timed_train(config, control, threads, post):  # type: ignore[no-untyped-def]
            charts = self.charts()
            before = [c.draws for c in charts]
            cpu0, app_cpu0 = time.thread_time(), time.process_time()
            started = time.perf_counter()
            real_train(config, control, threads, post)
            seconds = time.perf_counter() - started
            train_cpu = time.thread_time() - cpu0
            ui_cpu = time.process_time() - app_cpu0 - train_cpu
            draws = [c.draws - b for c, b in zip(charts, before)]
            self.result = {
                "epochs": config.epochs,
                "seconds": seconds,
                "ui_cpu": ui_cpu,
                "train_cpu": self.child_cpu or train_cpu,  # the training process's, or thread's
                "draws": {c.id: d for c, d in zip(charts, draws)},
            }
            self.done.set()

        worker.train = timed_train

    def charts(self):  # type: ignore[no-untyped-def]
        from quadtui.tui.widgets.chart import Chart

        return list(self.app.train_screen.query(Chart))


def make_app(epochs: int, where: str):  # type: ignore[no-untyped-def]
    from quadtui.core.config import Config
    from quadtui.tui import worker
    from quadtui.tui.app import QuadApp

    worker.IN_PROCESS = where == "process"

    return QuadApp(Config(epochs=epochs), autorun=True)


def child_test(epochs: int, width: int, height: int, where: str) -> dict[str, object]:
    probe = Probe()
    app = probe.app = make_app(epochs, where)

    async def run() -> None:
        async with app.run_test(size=(width, height)):
            while not probe.done.is_set():
                await asyncio.sleep(0.05)
            last = app.train_screen.last
            probe.result["final_loss"] = float(last.train_loss[-1]) if last is not None else None

    asyncio.run(run())
    return probe.result


def child_pty(epochs: int, out: str, where: str) -> None:
    probe = Probe()
    app = probe.app = make_app(epochs, where)

    def finish() -> None:
        probe.done.wait()
        time.sleep(0.2)  # the last snapshot arrives and is drawn
        app.call_from_thread(app.exit)

    threading.Thread(target=finish, daemon=True).start()
    app.run()
    last = app.train_screen.last
    probe.result["final_loss"] = float(last.train_loss[-1]) if last is not None else None
    Path(out).write_text(json.dumps(probe.result))


# -- the driver ------------------------------------------------------------------------------
def measure(variant: tuple[str, str, tuple[int, int]], epochs: int) -> dict[str, object]:
    mode, where, (width, height) = variant
    cmd = [
        sys.executable,
        str(HERE),
        "--child",
        mode,
        "--epochs",
        str(epochs),
        "--size",
        f"{width}x{height}",
        "--train-in",
        where,
    ]
    if mode in ("headless", "test"):
        out = subprocess.run(cmd, capture_output=True, text=True, env=python_env(), timeout=600)
        if out.returncode:
            raise RuntimeError(f"{mode} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.json")
        term = PtyProcess([*cmd, "--out", path], width, height)
        term.read_until(lambda _: term.proc.poll() is not None, timeout=600)
        term.close()
        if not os.path.exists(path):
            raise RuntimeError(f"pty run failed:\n{term.output[-3000:].decode(errors='replace')}")
        return json.loads(Path(path).read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200_000, help="epochs per run (default 200,000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--sizes", default="120x40,160x50", help="terminal sizes (default 120x40,160x50)")
    parser.add_argument(
        "--modes",
        default="pty:process,pty:thread,test:thread",
        help="app variants, terminal:training — terminal test or pty, training in a child "
        "process or a thread (default pty:process,pty:thread,test:thread)",
    )
    parser.add_argument("--train-in", default="process", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", default="120x40", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    def size_of(text: str) -> tuple[int, int]:
        w, h = text.lower().split("x")
        return int(w), int(h)

    if args.child == "headless":
        print(json.dumps(child_headless(args.epochs)))
        return 0
    if args.child == "test":
        print(json.dumps(child_test(args.epochs, *size_of(args.size), args.train_in)))
        return 0
    if args.child == "pty":
        child_pty(args.epochs, args.out, args.train_in)
        return 0

    sizes = [size_of(s) for s in args.sizes.split(",") if s]
    modes = [tuple(m.split(":")) for m in args.modes.split(",") if m]
    variants = [("headless", "", (0, 0))] + [(m, w, s) for m, w in modes for s in sizes]
    results: dict[tuple[str, str, tuple[int, int]], list[dict[str, object]]] = {v: [] for v in variants}
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} cores")
    print(f"{args.epochs:,} epochs, default config, 1 torch thread; {args.rounds} alternating rounds\n")
    for r in range(args.rounds):
        for variant in variants:
            res = measure(variant, args.epochs)
            results[variant].append(res)
            rate = res["epochs"] / res["seconds"]
            extra = ""
            if "draws" in res:
                per_s = {k.split("-")[0]: v / res["seconds"] for k, v in res["draws"].items()}
                extra = "  redraws/s " + " ".join(f"{k} {v:.1f}" for k, v in per_s.items())
                extra += f"  UI {res['ui_cpu'] / res['seconds']:.0%} of a core"
            print(f"  round {r + 1}  {label(variant):24} {rate:>9,.0f} epochs/s{extra}", flush=True)

    def med(runs: list[dict[str, object]], fn) -> float:  # type: ignore[no-untyped-def]
        return statistics.median(fn(r) for r in runs)

    base = results[variants[0]]
    headless = med(base, lambda r: r["epochs"] / r["seconds"])
    headless_cpu = med(base, lambda r: r["epochs"] / r["train_cpu"])
    reference_loss = base[0]["final_loss"]
    print(
        "\nmedians                    epochs/s  ratio (target 0.9)   per trainer CPU s  ratio"
        "   redraws/s (>= 10)   UI CPU   same loss"
    )
    print(f"  {'headless':24} {headless:>8,.0f}                       {headless_cpu:>10,.0f}")
    ok = True
    for variant in variants[1:]:
        runs = results[variant]
        rate = med(runs, lambda r: r["epochs"] / r["seconds"])
        per_cpu = med(runs, lambda r: r["epochs"] / r["train_cpu"])
        redraws = med(runs, lambda r: min(r["draws"].values()) / r["seconds"])
        ui = med(runs, lambda r: r["ui_cpu"] / r["seconds"])
        same = all(r["final_loss"] == reference_loss for r in runs)
        ratio = rate / headless
        good = ratio >= TARGET_RATIO and redraws >= TARGET_REDRAWS and same
        judged = variant[1] == "process"  # what a real terminal gets; the thread rows are for comparison
        ok &= good or not judged
        print(
            f"  {label(variant):24} {rate:>8,.0f}  {ratio:5.2f} = {ratio / TARGET_RATIO:.2f}x target"
            f"   {per_cpu:>10,.0f}  {per_cpu / headless_cpu:5.2f}   {redraws:6.1f}"
            f"              {ui:5.0%}    {'yes' if same else 'NO'}   "
            f"{('ok' if good else 'BELOW TARGET') if judged else 'for comparison'}"
        )
    print(
        "\n(per trainer CPU s: epochs per CPU second of the training process or thread — what the"
        " trainer itself costs,\n whatever else the machine runs; the wall-clock ratio is the target.)"
    )
    print(f"\nload after: {os.getloadavg()[0]:.2f}")
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


def label(variant: tuple[str, str, tuple[int, int]]) -> str:
    mode, where, (w, h) = variant
    return mode if mode == "headless" else f"{mode} {w}x{h}, {where}"


if __name__ == "__main__":
    sys.exit(main())
