"""The memory and time budget: estimates close to what runs really take, refusals before anything is built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from quadtui.cli import main
from quadtui.core import budget
from quadtui.core.budget import estimate, format_size, memory_budget, parse_size
from quadtui.core.config import Config
from quadtui.core.sweep.spec import parse_sweep_spec

BIG_SWEEP = ["--sweep", "seed=0:63:64", "--samples", "100000", "--hidden", "256", "--layers", "4"]


# -- sizes and the budget ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,size",
    [
        ("512M", 512 << 20),
        ("2G", 2 << 30),
        ("1.5g", 3 << 29),
        ("64k", 64 << 10),
        ("2GiB", 2 << 30),
        ("100MB", 100 << 20),
        ("4096", 4096),
        (" 1T ", 1 << 40),
    ],
)
def test_sizes_are_read_as_powers_of_1024(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "-1G", "0", "2X", "1e9", "nan", "2 G B", "1.2.3M", "99999999T"])
def test_a_bad_size_is_refused(text):
    with pytest.raises(ValueError, match="512M or 2G"):
        parse_size(text)


def test_the_flag_wins_over_the_variable_which_wins_over_the_default():
    assert memory_budget("1G", {}) == (1 << 30, "--max-memory")
    assert memory_budget("1G", {"QUADTUI_MAX_MEMORY": "2G"}) == (1 << 30, "--max-memory")
    assert memory_budget(None, {"QUADTUI_MAX_MEMORY": "2G"}) == (2 << 30, "QUADTUI_MAX_MEMORY")
    assert memory_budget(None, {"QUADTUI_MAX_MEMORY": ""}) == (budget.default_budget(), "default")
    with pytest.raises(ValueError, match="^QUADTUI_MAX_MEMORY lots: not allowed; must be a size"):
        memory_budget(None, {"QUADTUI_MAX_MEMORY": "lots"})


def test_the_default_is_a_quarter_of_the_memory_at_most_4g():
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert budget.machine_memory() <= total
    assert budget.default_budget() == min(budget.machine_memory() // 4, 4 << 30)


# -- the estimate follows the engine -------------------------------------------------------------------------
def test_the_estimators_copies_of_engine_constants_and_rules_are_current():
    from quadtui.core import fastmlp
    from quadtui.core.sweep import batched as sweep_batch
    from quadtui.core.sweep import layout as sweep_layout
    from quadtui.core.sweep import runner as sweep
    from quadtui.core.sweep import wide as sweep_wide

    assert budget.BLOCK_EPOCHS == sweep_wide.BLOCK_EPOCHS
    assert budget.ROWWISE_MAX == fastmlp.ROWWISE_MAX
    assert budget.CHUNK_SECONDS == sweep.CHUNK_SECONDS
    assert budget.EXACT_ACTIVATIONS == sweep_batch.EXACT_ACTIVATIONS
    bases = [
        Config(),
        Config(layers=2),
        Config(layers=3, samples=98),
        Config(batch_size=10),
        Config(batch_size=12, samples=100),
        Config(samples=10000, batch_size=4000),
        Config(activation="tanh"),
        Config(layers=2, activation="tanh"),
        Config(optimizer="adam", layers=2, samples=200),
    ]
    for base in bases:
        assert budget.step_sizes(base) == sorted(sweep_layout.step_sizes(base))
        for spec in (
            "hidden=1,2,8",
            "seed=1,2,3",
            "lr=0.01,0.02",
            "layers=1,2,3,4",
            "activation=relu,identity",
            "samples=96,100,101",
            "optimizer=sgd,adam",
        ):
            if spec.startswith("samples") and not base.full_batch:
                continue
            param, values = parse_sweep_spec(spec, base)
            configs = [base.replace(**{param: v}) for v in values]
            ours, theirs = budget.sweep_groups(configs), sweep._groups(configs)
            if all(c.activation in budget.EXACT_ACTIVATIONS for c in configs):
                assert ours == theirs, (base, spec)
            else:  # torch's vector width decides some smooth-activation groups: the estimate assumes the batch
                assert all(any(set(g) <= set(o) for o in ours) for g in theirs), (base, spec)


PEAK_RSS_CHILD = textwrap.dedent("""
    import json, sys
    import torch
    from quadtui.core.config import Config
    from quadtui.core.engine import Engine
    from quadtui.core.sweep.runner import Sweep
    from quadtui.core.sweep.spec import parse_sweep_spec

    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

    torch.set_num_threads(1)
    Engine(Config(epochs=3)).run()  # warm up: libraries paged in, allocator primed
    config, spec = Config.from_mapping(json.loads(sys.argv[1])), sys.argv[2]
    before = status("VmRSS:")
    if spec:
        Sweep(config, *parse_sweep_spec(spec, config)).run()
    else:
        Engine(config).run()
    print(status("VmHWM:") - before)
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the peak RSS from /proc")
@pytest.mark.parametrize(
    "values,spec",
    [
        ({"samples": 40000, "hidden": 64, "layers": 2, "epochs": 2}, ""),  # one run: ~120 MB
        ({"samples": 10000, "hidden": 64, "layers": 2, "epochs": 2}, "seed=0:2:3"),  # a BatchedMLP: ~80 MB
    ],
)
def test_the_estimate_is_close_to_the_peak_memory_a_real_run_takes(values, spec):
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_CHILD, json.dumps(values), spec], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    measured = int(out.stdout.split()[-1])
    config = Config.from_mapping(values)
    need = estimate(config, parse_sweep_spec(spec, config) if spec else None).bytes
    assert 0.6 < need / measured < 1.6, (format_size(need), format_size(measured))


def test_a_sweep_needs_more_than_its_largest_member_and_groups_add_up():
    config = Config(samples=100000, hidden=256, layers=4)
    one = estimate(config)
    assert 2 << 30 < one.bytes < 3 << 30  # the issue measured 2.6 GB for this run
    sweep = estimate(config, parse_sweep_spec("seed=0:63:64", config))
    assert sweep.runs == 64 and sweep.bytes > 20 * one.bytes  # one BatchedMLP of all 64: tens of GB
    alone = estimate(config, parse_sweep_spec("activation=tanh,gelu", config))  # trained one after the other
    assert one.bytes < alone.bytes < 1.1 * one.bytes


def test_a_slow_epoch_is_announced_and_a_quick_one_is_not():
    assert budget.slow_warning(estimate(Config())) is None
    slow = budget.slow_warning(estimate(Config(samples=100000, hidden=256, layers=4), ("seed", list(range(8)))))
    assert slow is not None and slow.startswith("this sweep of 8 runs may take about ") and " an epoch (" in slow


# -- the command line ----------------------------------------------------------------------------------------
def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """main() in a fresh interpreter; prints whether torch got imported, then the exit code."""
    code = "import sys; from quadtui.cli import main; c = main(sys.argv[1:]); print('torch' in sys.modules, c)"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_the_issues_sweep_is_refused_at_once_without_torch():
    out = run_cli("--headless", *BIG_SWEEP)
    assert out.stdout == "False 2\n"
    need = estimate(Config(samples=100000, hidden=256, layers=4), ("seed", list(range(64)))).bytes
    assert out.stderr == (
        f"quadtui: error: this sweep of 64 runs needs about {format_size(need)} of memory, over the budget of "
        f"{format_size(budget.default_budget())} (fewer samples, hidden units, layers or sweep values need less; "
        "--max-memory or $QUADTUI_MAX_MEMORY sets the budget)\n"
    )
    app = run_cli(*BIG_SWEEP)  # the app is refused the same way, before it takes the terminal
    assert app.stdout == "False 2\n" and app.stderr == out.stderr


def test_max_memory_and_the_variable_set_the_budget():
    big = ["--headless", "--samples", "100000", "--hidden", "256", "--layers", "4"]
    out = run_cli(*big, "--max-memory", "1G")
    assert out.stdout == "False 2\n" and "this run needs about 2." in out.stderr and "budget of 1.0G" in out.stderr
    out = run_cli(*big, env={"QUADTUI_MAX_MEMORY": "512M"})
    assert out.stdout == "False 2\n" and "budget of 512M" in out.stderr
    out = run_cli("--headless", "--epochs", "20", "--max-memory", "64M", env={"QUADTUI_MAX_MEMORY": "1K"})
    assert out.returncode == 0 and out.stdout.endswith("True 0\n"), out.stderr  # the flag wins


@pytest.mark.parametrize(
    "args,env,line",
    [
        (
            ["--max-memory", "lots"],
            {},
            "quadtui: error: --max-memory lots: not allowed; must be a size such as "
            "512M or 2G (K, M, G, T: powers of 1024)",
        ),
        (
            ["--max-memory", ""],
            {},
            "quadtui: error: --max-memory '': not allowed; must be a size such as "
            "512M or 2G (K, M, G, T: powers of 1024)",
        ),
        (
            [],
            {"QUADTUI_MAX_MEMORY": "-5G"},
            "quadtui: error: QUADTUI_MAX_MEMORY -5G: not allowed; must be a size "
            "such as 512M or 2G (K, M, G, T: powers of 1024)",
        ),
    ],
)
def test_a_bad_budget_is_one_line(args, env, line, capsys, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--headless", *args]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == line + "\n"


def test_headless_warns_before_a_slow_run(capsys, monkeypatch):
    monkeypatch.setattr(budget, "SLOW_EPOCH_SECONDS", 0.0)  # every run is "slow": no need to wait for one
    assert main(["--headless", "--epochs", "30"]) == 0
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("quadtui: warning: this run may take about ") and first.endswith("; ctrl+c stops it")
