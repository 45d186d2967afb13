"""Sweep throughput: K configs as one batched model vs the same K runs one after another.

    python benchmarks/sweep.py [--epochs 5000]   (the mini-batch row always trains 500 epochs)

For each sweep it prints both timings side by side (same process, same data, one torch thread),
in CPU seconds of this process (what a shared machine's other load does not inflate) and the
speed-up on that clock and on the wall clock (medians of alternating runs), the cost of an epoch
(all-in: build, losses, bookkeeping) of one single run and of all K members batched, and the
largest relative difference between a member's final loss and its single run's (the target is 0:
bit-identical runs; the tests compare every epoch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.sweep.batched import BatchedMLP
from quadtui.core.sweep.layout import wide_key
from quadtui.core.sweep.runner import Sweep
from quadtui.core.sweep.wide import WideMLP
from quadtui.core.threads import set_threads

SWEEPS = {
    "lr ×16 (0.001..0.03)": "lr=0.001:0.03:16",
    "hidden 1..16": "hidden=" + ",".join(str(h) for h in range(1, 17)),
    "tanh lr ×16": "lr=0.001:0.03:16",
    "adam lr ×16": "lr=0.001:0.03:16",
    "batches of 16, lr ×16": "lr=0.001:0.03:16",
}
BASES = {
    "tanh lr ×16": {"activation": "tanh"},
    "adam lr ×16": {"optimizer": "adam"},
    "batches of 16, lr ×16": {"batch_size": 16, "epochs": 500},  # 7 steps an epoch: fewer epochs
}
TARGET = 8.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="median of N alternating timings")
    args = parser.parse_args()
    set_threads(1)
    print(f"target: batched >= {TARGET:g}x one by one (K = 16), CPU clock")
    print(
        f"{'sweep':22} {'K':>3} {'one by one':>11} {'batched':>9} {'speed-up':>9} {'vs target':>9} {'(wall)':>7} "
        f"{'µs/epoch 1 run':>14} {'µs/epoch K':>10} {'max rel diff':>13}  groups"
    )
    for label, spec in SWEEPS.items():
        base = Config(epochs=args.epochs).replace(**BASES.get(label, {}))
        sweep = Sweep.from_spec(spec, base)
        seqs, bats, seq_walls, bat_walls = [], [], [], []
        for _ in range(args.repeat):  # alternate, so both see the same load
            cpu, wall, finals = _timed(lambda: [Engine(c).run().train_now for c in sweep.configs])
            seqs.append(cpu)
            seq_walls.append(wall)
            cpu, wall, result = _timed(lambda: Sweep(base, sweep.param, sweep.values).run())
            bats.append(cpu)
            bat_walls.append(wall)
        seq, bat = statistics.median(seqs), statistics.median(bats)
        wall_ratio = statistics.median(seq_walls) / statistics.median(bat_walls)
        diff = max(abs(m.final_loss - f) / abs(f) for m, f in zip(result.members, finals))
        groups = "+".join(str(len(g)) for g in result.groups if len(g) > 1) or "-"
        k, us = len(sweep.configs), 1e6 / base.epochs
        print(
            f"{label:22} {k:>3} {seq:>10.2f}s {bat:>8.2f}s {seq / bat:>8.1f}x {seq / bat / TARGET:>8.2f}x "
            f"{wall_ratio:>6.1f}x "
            f"{seq / k * us:>14.1f} {bat * us:>10.1f} {diff:>13.2e}  batched {groups}, {_fallbacks(sweep)}"
        )


def _timed(fn):  # type: ignore[no-untyped-def]
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, out


def _fallbacks(sweep: Sweep) -> str:
    from quadtui.core.data import make_dataset

    parts = []
    for group in sweep.groups:
        if len(group) < 2:
            continue
        configs = [sweep.configs[k] for k in group]
        if wide_key(configs[0]):
            inexact = WideMLP(configs, [make_dataset(c) for c in configs]).inexact
            if inexact:
                parts.append("alone: " + ",".join(str(sweep.values[group[k]]) for k in inexact))
            continue
        model = BatchedMLP(configs, [make_dataset(c) for c in configs])
        for name, members in model.fallbacks.items():
            if members:
                parts.append(f"{name}: {sweep.param}=" + ",".join(str(sweep.values[group[k]]) for k in members))
    return "; ".join(parts) or "none"


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
