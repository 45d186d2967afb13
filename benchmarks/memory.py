"""Memory: resident set size of a long default-config run, against the 350 MB target.

    python benchmarks/memory.py                  # 1,000,000 epochs, then a 10,000,000-epoch run sampled
    python benchmarks/memory.py --epochs 200000 --no-long

Each run happens in a fresh subprocess (one torch thread, snapshots taken at the
TUI's 12 per second, as a worker would), which reports its RSS (VmRSS / VmHWM
from /proc/self/status, ru_maxrss otherwise) right after importing torch, during
the run, and at the end, plus the loss history's bytes.  The 10,000,000-epoch run
is stopped early: the RSS growth per epoch between two checkpoints, projected to
the end, shows whether it stays bounded.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
from pathlib import Path

TARGET_MB = 350.0
MB = 1024 * 1024


def rss() -> tuple[float, float]:
    """(current, peak) resident set size in MB."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):  # not Linux: ru_maxrss (KB on Linux, bytes on macOS)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak /= MB if sys.platform == "darwin" else 1024
        return peak, peak


def child(epochs: int, stop_after: int | None, checkpoints: list[int]) -> dict[str, object]:
    baseline = rss()[0]
    import torch

    from quadtui.core.config import Config
    from quadtui.core.engine import Engine

    torch.set_num_threads(1)
    after_import = rss()[0]
    engine = Engine(Config(epochs=epochs))
    cancel = threading.Event()
    samples: list[tuple[int, float]] = []
    pending = sorted(checkpoints)

    def progress(epoch: int) -> None:
        while pending and epoch >= pending[0]:
            pending.pop(0)
            samples.append((epoch, rss()[0]))
        if stop_after is not None and epoch >= stop_after:
            cancel.set()

    snap = engine.run(cancel=cancel, on_progress=progress, on_snapshot=lambda s: None, interval=1 / 12)
    current, peak = rss()
    history = engine.history
    return {
        "epochs": snap.epoch,
        "status": snap.status.value,
        "seconds": snap.elapsed,
        "rss_python_mb": baseline,
        "rss_after_import_mb": after_import,
        "rss_final_mb": current,
        "rss_peak_mb": peak,
        "history_len": len(history),
        "history_allocated_bytes": history.nbytes,
        "history_used_bytes": history.used_bytes,
        "checkpoints": samples,
    }


def run_child(epochs: int, stop_after: int | None = None, checkpoints: tuple[int, ...] = ()) -> dict:
    cmd = [sys.executable, __file__, "--child", str(epochs), "--checkpoints", ",".join(map(str, checkpoints))]
    if stop_after is not None:
        cmd += ["--stop-after", str(stop_after)]
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if done.returncode:
        raise SystemExit(f"benchmark subprocess failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1_000_000, help="epochs of the full run (default 1,000,000)")
    parser.add_argument("--no-long", action="store_true", help="skip the sampled 10,000,000-epoch run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stop-after", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoints", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        points = [int(p) for p in args.checkpoints.split(",") if p]
        print(json.dumps(child(args.child, args.stop_after, points)))
        return 0

    r = run_child(args.epochs)
    print(f"default config, {r['epochs']:,} epochs ({r['status']}, {r['seconds']:.1f} s of training):")
    print(
        f"  RSS: python {r['rss_python_mb']:.0f} MB, after importing torch {r['rss_after_import_mb']:.0f} MB,"
        f" final {r['rss_final_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB"
    )
    print(
        f"  loss history: {r['history_len']:,} values, {r['history_used_bytes'] / MB:.1f} MB in use"
        f" ({r['history_allocated_bytes'] / MB:.1f} MB reserved)"
    )
    ratio = r["rss_peak_mb"] / TARGET_MB
    ok = ratio <= 1
    verdict = "ok" if ok else "OVER TARGET"
    print(f"  peak / target: {r['rss_peak_mb']:.0f} / {TARGET_MB:.0f} MB = {ratio:.2f}  {verdict}")

    if not args.no_long:
        total, first, last = 10_000_000, 250_000, 1_250_000
        r = run_child(total, stop_after=last, checkpoints=(first, last))
        (e0, m0), (e1, m1) = r["checkpoints"][0], r["checkpoints"][-1]
        per_epoch = (m1 - m0) * MB / (e1 - e0)
        projected = m1 + per_epoch * (total - e1) / MB
        print(f"\n{total:,} epochs configured, stopped after {r['epochs']:,}:")
        print(
            f"  RSS {m0:.0f} MB at epoch {e0:,}, {m1:.0f} MB at epoch {e1:,}: {per_epoch:.1f} bytes per epoch"
            f" (the history stores 4)"
        )
        print(
            f"  projected at epoch {total:,}: {projected:.0f} MB  "
            f"{'ok' if projected <= TARGET_MB else 'OVER TARGET'} (target {TARGET_MB:.0f} MB)"
        )
        ok &= projected <= TARGET_MB
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
