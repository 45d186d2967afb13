"""Compare quadtui.core.budget's memory estimate with the peak RSS growth of real runs and sweeps.

Each case runs in a fresh subprocess: after torch is loaded and a tiny run has
warmed it up, the resident size is the baseline; the peak (VmHWM) after the
case, less the baseline, is what the case cost.  Prints one row per case.

    python benchmarks/budget.py            # the default cases (about a minute)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's quadtui, here and in the children

CASES = [
    ("default run", {}, None),
    ("samples 100000, hidden 64, layers 2", {"samples": 100000, "hidden": 64, "layers": 2, "epochs": 3}, None),
    (
        "samples 50000, hidden 128, layers 3, batch 10000",
        {"samples": 50000, "hidden": 128, "layers": 3, "batch_size": 10000, "epochs": 2},
        None,
    ),
    ("samples 100000, hidden 256, layers 4", {"samples": 100000, "hidden": 256, "layers": 4, "epochs": 1}, None),
    (
        "sweep seed=0:3:4 (batched), samples 20000, hidden 64, layers 2",
        {"samples": 20000, "hidden": 64, "layers": 2, "epochs": 3},
        "seed=0:3:4",
    ),
    ("sweep hidden=8,16,32 (wide), samples 20000", {"samples": 20000, "epochs": 300}, "hidden=8,16,32"),
    (
        "sweep lr (wide, tanh), samples 4000",
        {"samples": 4000, "hidden": 32, "activation": "tanh", "epochs": 300},
        "lr=0.001:0.01:8",
    ),
    (
        "sweep activation (alone), samples 50000, hidden 64, layers 2",
        {"samples": 50000, "hidden": 64, "layers": 2, "epochs": 2},
        "activation=tanh,gelu,silu",
    ),
]

CHILD = r"""
import json, sys
def rss(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.sweep.runner import Sweep
from quadtui.core.sweep.spec import parse_sweep_spec
import torch
torch.set_num_threads(1)
Engine(Config(epochs=3)).run()
values, spec = json.loads(sys.argv[1]), sys.argv[2]
config = Config.from_mapping(values)
base = rss("VmRSS:")
if spec:
    Sweep(config, *parse_sweep_spec(spec, config)).run()
else:
    Engine(config).run()
print(rss("VmHWM:") - base)
"""


def measure(values: dict, spec: str | None) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(values), spec or ""],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return int(out.stdout.split()[-1])


def main() -> int:
    from quadtui.core.budget import estimate, format_size
    from quadtui.core.config import Config
    from quadtui.core.sweep.spec import parse_sweep_spec

    print(f"{'case':62} {'estimate':>9} {'measured':>9} {'ratio':>6}")
    for name, values, spec in CASES:
        config = Config.from_mapping(values)
        need = estimate(config, parse_sweep_spec(spec, config) if spec else None)
        got = measure(values, spec)
        print(
            f"{name:62} {format_size(need.bytes):>9} {format_size(got):>9} {need.bytes / max(got, 1):6.2f}", flush=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
