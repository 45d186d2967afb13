"""Sweep throughput: K configs as one batched model vs the same K runs one after another.

    python benchmarks/sweep.py [--epochs 5000]

For each sweep it prints both timings side by side (same process, same data),
the speed-up, and the largest relative difference between a member's final
loss and its single run's (the target is 0: bit-identical runs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.sweep import Sweep
from quadtui.core.sweep_batch import BatchedMLP
from quadtui.core.threads import set_threads

SWEEPS = {
    "lr ×16 (0.001..0.03)": "lr=0.001:0.03:16",
    "hidden 1..16": "hidden=" + ",".join(str(h) for h in range(1, 17)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings")
    args = parser.parse_args()
    set_threads(1)
    base = Config(epochs=args.epochs)
    print(f"{'sweep':22} {'K':>3} {'one by one':>11} {'batched':>9} {'speed-up':>9} {'max rel diff':>13}  fallbacks")
    for label, spec in SWEEPS.items():
        sweep = Sweep.from_spec(spec, base)
        seq, finals = _best(args.repeat, lambda: [Engine(c).run().train_now for c in sweep.configs])
        bat, result = _best(args.repeat, lambda: Sweep(base, sweep.param, sweep.values).run())
        diff = max(abs(m.final_loss - f) / abs(f) for m, f in zip(result.members, finals))
        fallbacks = _fallbacks(sweep)
        print(f"{label:22} {len(sweep.configs):>3} {seq:>10.2f}s {bat:>8.2f}s {seq / bat:>8.1f}x {diff:>13.2e}  {fallbacks}")


def _best(repeat: int, fn):  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def _fallbacks(sweep: Sweep) -> str:
    from quadtui.core.data import make_dataset

    parts = []
    for group in sweep.groups:
        if len(group) < 2:
            continue
        configs = [sweep.configs[k] for k in group]
        model = BatchedMLP(configs, [make_dataset(c) for c in configs])
        for name, members in model.fallbacks.items():
            if members:
                parts.append(f"{name}: {sweep.param}=" + ",".join(str(sweep.values[group[k]]) for k in members))
    return "; ".join(parts) or "none"


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
