"""Engine speed: the notebook's autograd loop vs quadtui's engine, side by side in one process.

    python benchmarks/engine.py            # default config, 5000 epochs, 5 alternating rounds
    python benchmarks/engine.py --rounds 9 --epochs 20000

The notebook's loop is tests/notebook.py, verbatim (autograd, torch.optim.SGD,
``.item()`` every epoch).  The engine is ``Engine().run()``, construction included
(as the notebook's loop includes building its model).  Both run on one torch
thread, alternately, so a busy machine slows both alike; medians are printed, by
wall clock and by CPU time of this process.  Target: engine >= 3x the notebook,
losses equal at every epoch.  Then, for information, two other configs against
the same autograd loop, and the run loop's cancel latency and CPU use when paused.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from quadtui.core.config import Config  # noqa: E402
from quadtui.core.data import make_dataset  # noqa: E402
from quadtui.core.engine import Control, Engine, Snapshot, Status  # noqa: E402
from quadtui.core.model import build_model  # noqa: E402
from quadtui.core.optim import torch_optimizer  # noqa: E402
from tests.notebook import notebook_loss_log  # noqa: E402

TARGET_RATIO = 3.0
CANCEL_LIMIT_S = 0.050
PAUSED_CPU_LIMIT = 0.01


def autograd_losses(config: Config) -> list[float]:
    """The notebook's loop for any config: autograd, the torch.optim optimizer, .item() each epoch."""
    data = make_dataset(config)
    model = build_model(config)
    optimizer = torch_optimizer(config, model)
    criterion = torch.nn.MSELoss()
    log = []
    for _ in range(config.epochs):
        loss = criterion(model(data.x_train), data.y_train)
        loss.backward()
        log.append(loss.item())
        optimizer.step()
        optimizer.zero_grad()
    return log


def engine_losses(config: Config) -> np.ndarray:
    snap = Engine(config).run()
    assert snap.status is Status.DONE, snap.status
    return snap.train_loss


def measure(fn: Callable[[], object]) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def side_by_side(config: Config, reference: Callable[[], object], rounds: int) -> dict[str, object]:
    """Alternate reference and engine ``rounds`` times (after one warm-up each); medians in epochs/s."""
    times: dict[str, list[tuple[float, float]]] = {"ref": [], "engine": []}
    ref_out = eng_out = None
    for i in range(rounds + 1):
        for name, fn in (("ref", reference), ("engine", lambda: engine_losses(config))):
            out, wall, cpu = measure(fn)
            if name == "ref":
                ref_out = out
            else:
                eng_out = out
            if i:  # round 0 warms up both
                times[name].append((wall, cpu))
    rate = {
        (name, kind): config.epochs / statistics.median(t[k] for t in ts)
        for name, ts in times.items()
        for k, kind in enumerate(("wall", "cpu"))
    }
    ref = np.asarray(ref_out, dtype=np.float64)
    ours = np.asarray(eng_out, dtype=np.float64)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), np.finfo(np.float64).tiny)
    return {"rate": rate, "max_rel": float(rel.max()), "exact": bool(np.array_equal(ours, ref))}


def cancel_latency(repeats: int) -> list[float]:
    """Seconds from cancel.set() (another thread, mid-run) to run() returning."""
    out = []
    for _ in range(repeats):
        engine = Engine(Config(epochs=10_000_000))
        cancel, going = threading.Event(), threading.Event()
        returned: list[float] = []

        def work() -> None:
            engine.run(cancel=cancel, on_progress=lambda epoch: epoch > 20_000 and going.set())
            returned.append(time.perf_counter())

        worker = threading.Thread(target=work)
        worker.start()
        going.wait(30)
        time.sleep(0.05)  # let it settle into full-size chunks
        asked = time.perf_counter()
        cancel.set()
        worker.join(30)
        out.append(returned[0] - asked)
    return out


def paused_cpu(seconds: float) -> float:
    """Fraction of one CPU this process uses while a run sits paused."""
    engine = Engine(Config(epochs=1_000_000))
    cancel, control, paused = threading.Event(), Control(paused=True), threading.Event()

    def seen(snap: Snapshot) -> None:
        if snap.status is Status.PAUSED:
            paused.set()

    worker = threading.Thread(target=engine.run, kwargs={"cancel": cancel, "control": control, "on_snapshot": seen})
    worker.start()
    paused.wait(30)
    wall, cpu = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    used = (time.process_time() - cpu) / (time.perf_counter() - wall)
    cancel.set()
    worker.join(30)
    return used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per comparison (default 5)")
    parser.add_argument("--epochs", type=int, default=5000, help="epochs of the default config (default 5000)")
    parser.add_argument("--no-others", action="store_true", help="skip the non-default configs")
    parser.add_argument("--no-control", action="store_true", help="skip cancel latency and paused CPU")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    epochs, rounds = args.epochs, args.rounds
    print(f"torch {torch.__version__}, 1 thread; medians of {rounds} alternating rounds after a warm-up\n")
    res = side_by_side(Config(epochs=epochs), lambda: notebook_loss_log(epochs), rounds)
    rate = res["rate"]
    print(f"default config, {epochs} epochs        notebook        engine    ratio   (target {TARGET_RATIO:g}x)")
    ok = True
    for kind in ("wall", "cpu"):
        ratio = rate["engine", kind] / rate["ref", kind]
        ok &= ratio >= TARGET_RATIO
        verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(
            f"  epochs/s ({kind:4} clock)      {rate['ref', kind]:>10,.0f}  {rate['engine', kind]:>12,.0f}"
            f"  {ratio:6.2f}x  = {ratio / TARGET_RATIO:.2f} x target  {verdict}"
        )
    same = "bit-identical at every epoch" if res["exact"] else "NOT bit-identical"
    print(f"  max relative difference per epoch: {res['max_rel']:.3g} ({same}; limit 1e-4)")
    ok &= res["max_rel"] <= 1e-4

    if not args.no_others:
        print("\nother configs (information), autograd + torch.optim loop vs engine, wall clock:")
        for name, config in (
            ("tanh + adam, lr 0.01", Config(activation="tanh", optimizer="adam", lr=0.01, epochs=3000)),
            ("2 hidden layers, relu + sgd", Config(layers=2, lr=0.005, epochs=3000)),
        ):
            r = side_by_side(config, lambda c=config: autograd_losses(c), max(1, rounds // 2))
            ref, eng = r["rate"]["ref", "wall"], r["rate"]["engine", "wall"]
            same = "bit-identical" if r["exact"] else f"max rel diff {r['max_rel']:.3g}"
            print(f"  {name:28} {ref:>10,.0f}  {eng:>12,.0f}  {eng / ref:6.2f}x  ({same})")

    if not args.no_control:
        latency = cancel_latency(5)
        cpu = paused_cpu(2.0)
        print("\nrun loop:")
        print(
            f"  cancel latency, 5 runs: max {max(latency) * 1e3:.1f} ms, median "
            f"{statistics.median(latency) * 1e3:.1f} ms (limit {CANCEL_LIMIT_S * 1e3:.0f} ms)"
        )
        print(f"  CPU while paused, over 2 s: {cpu:.2%} of one core (limit {PAUSED_CPU_LIMIT:.0%})")
        ok &= max(latency) <= CANCEL_LIMIT_S and cpu <= PAUSED_CPU_LIMIT
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
