"""What the timeline's checkpoints cost training: runs with them vs the same runs keeping none.

Run:  python benchmarks/timeline.py [--rounds N]

Each config trains alternately with the engine as it is and with its timeline told to keep
nothing, median of the rounds, by this thread's CPU clock (wall clock beside it).  Target:
checkpointing costs training < 5 %.  It also checks that the numbers do not change (the
losses are equal with and without) and that every kept state's full-batch training loss,
computed by the script's ``nn.Sequential``, is the run's loss at that epoch, bit for bit.
Exits with status 1 when the target is missed or a number differs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from quadtui.core.config import Config  # noqa: E402
from quadtui.core.engine import Engine  # noqa: E402
from quadtui.core.model import build_model  # noqa: E402
from quadtui.core.threads import set_threads  # noqa: E402
from quadtui.core.timeline import unflatten  # noqa: E402

TARGET = 0.05
CONFIGS = {
    "the notebook's run (5,000 epochs, 8 relu)": Config(),
    "20,000 epochs, 16 × 2 tanh, adam": Config(epochs=20_000, hidden=16, layers=2, activation="tanh", optimizer="adam"),
    "minibatches of 10, 500 epochs": Config(epochs=500, batch_size=10),
    "256 × 2, 300 epochs (few, big checkpoints)": Config(epochs=300, hidden=256, layers=2),
}


def train(config: Config, keep: bool) -> tuple[float, float, Engine]:
    engine = Engine(config)
    if not keep:
        engine.timeline.due = lambda start, n: []  # type: ignore[method-assign]
        engine.timeline.keep = lambda state, flat: None  # type: ignore[method-assign]
    wall, cpu = time.perf_counter(), time.thread_time()
    engine.run()
    return time.perf_counter() - wall, time.thread_time() - cpu, engine


def exact(engine: Engine) -> bool:
    """Every kept state (before the last) has the run's loss at that epoch, bit for bit."""
    snap = engine.snapshot()
    shapes = [w.shape for w in snap.weights]
    model = build_model(engine.config)
    for state, row in zip(snap.timeline.epochs.tolist(), snap.timeline.rows):
        if state >= snap.train_loss.size:
            continue
        with torch.no_grad():
            for param, value in zip(model.parameters(), unflatten(row, shapes)):
                param.copy_(torch.from_numpy(value))
            loss = F.mse_loss(model(engine.data.x_train), engine.data.y_train)
        if loss.numpy() != snap.train_loss[state]:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    set_threads(1)
    ok = True
    for name, config in CONFIGS.items():
        train(config, True), train(config, False)  # warm up
        with_, without = [], []
        for _ in range(args.rounds):
            with_.append(train(config, True))
            without.append(train(config, False))
        same = np.array_equal(with_[-1][2].history.values, without[-1][2].history.values)
        cpu = statistics.median(r[1] for r in with_) / statistics.median(r[1] for r in without) - 1
        wall = statistics.median(r[0] for r in with_) / statistics.median(r[0] for r in without) - 1
        engine = with_[-1][2]
        full = engine.config.full_batch
        checked = exact(engine) if full else True
        kept = len(engine.snapshot().timeline)
        verdict = cpu < TARGET and same and checked
        ok &= verdict
        print(
            f"{name}: {kept} checkpoints ({engine.timeline.nbytes / 2**20:.2f} MB); cost {cpu:+.1%} cpu "
            f"({wall:+.1%} wall); losses unchanged: {same}; "
            + (f"states exact: {checked}" if full else "states exact: n/a (minibatches)")
            + f"   {'ok' if verdict else 'MISSED'}"
        )
    print(f"target: < {TARGET:.0%} of training time")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
