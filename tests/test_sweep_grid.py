"""Two-setting sweeps: the grid's members are their single runs, bit for bit; the command line's grid and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from quadtui.cli import main
from quadtui.cli.sweep import run_grid_cli
from quadtui.core.config import Config, ConfigError
from quadtui.core.engine import Engine
from quadtui.core.sweep.grid import parse_grid_specs
from quadtui.core.sweep.runner import GridSweep


def _single(config: Config) -> Engine:
    engine = Engine(config)
    engine.run()
    return engine


@pytest.mark.parametrize(
    "base,params,values",
    [
        (Config(), ["lr", "hidden"], [[0.01, 0.02], [4, 8]]),  # the notebook's 5000 epochs
        (Config(epochs=600), ["hidden", "lr"], [[2, 8], [0.005, 0.03, 0.2]]),  # lr 0.2 diverges
        (Config(epochs=400, batch_size=20), ["seed", "momentum"], [[1, 2], [0.0, 0.9]]),  # mini-batches
    ],
)
def test_grid_members_equal_their_single_runs(base, params, values):
    result = GridSweep(base, params, values).run_grid()
    assert len(result.members) == len(values[0]) * len(values[1])
    assert sum(map(len, result.groups)) == len(result.members) and len(result.groups) < len(result.members)
    for i, first in enumerate(values[0]):
        for j, second in enumerate(values[1]):
            member = result.cell(i, j)
            assert member.config == base.replace(**{params[0]: first, params[1]: second})
            assert member.value == (first, second)
            single = _single(member.config)
            snap = single.snapshot()
            assert member.status == snap.status.value and member.epochs_run == single.epoch
            assert member.diverged_at == single.diverged_at
            np.testing.assert_array_equal(member.history.values, single.history.values)  # every epoch, bit for bit
            assert member.eval_loss == pytest.approx(snap.eval_now, rel=1e-6)
    assert any(m.status == "diverged" for m in result.members) == (0.2 in values[1])


@pytest.mark.parametrize(
    "specs,needle",
    [
        (["lr=0.01,0.02", "lr=0.03"], "lr twice"),
        (["lr=0.001:0.1:9", "hidden=1:64:8"], "9 × 8 = 72 runs"),
        (["hidden=1,x", "lr=0.01"], "hidden = 'x'"),
        (["batch_size=50,100", "samples=60,100"], "batch_size"),  # a pair that cannot go together
    ],
)
def test_bad_grids_are_refused_naming_the_problem(specs, needle):
    with pytest.raises(ConfigError) as info:
        parse_grid_specs(specs, Config())
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_cli_grid_json_has_both_names_and_both_values(capsys):
    code = run_grid_cli(Config(epochs=60), ["lr=0.01,5", "hidden=2,4,8"], as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert code == 1  # lr=5 diverges
    assert data["sweep"]["params"] == ["lr", "hidden"]
    results = data["sweep"]["results"]
    assert [r["values"] for r in results] == [[0.01, 2], [0.01, 4], [0.01, 8], [5, 2], [5, 4], [5, 8]]
    assert all({"values", "status", "final_loss", "eval_loss"} <= set(r) for r in results)
    assert [r["status"] for r in results] == ["done"] * 3 + ["diverged"] * 3
    for r in results[:3]:
        single = Engine(Config(epochs=60, lr=0.01, hidden=r["values"][1])).run()
        assert r["final_loss"] == single.train_now


def test_cli_grid_table_has_a_row_a_value_of_the_first_and_a_column_a_value_of_the_second(capsys):
    assert main(["--headless", "--epochs", "40", "--sweep", "hidden=2,4", "--sweep", "lr=0.01,0.02,0.05"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["hidden", "\\", "lr", "0.01", "0.02", "0.05"]
    assert [line.split()[0] for line in lines[2:4]] == ["2", "4"] and len(lines[2].split()) == 4
    best = Engine(Config(epochs=40, hidden=4, lr=0.05)).run()
    assert f"{best.train_now:.6g}" in lines[3]
    assert lines[-2].startswith("best: hidden=") and lines[-1].startswith("final loss of 6 runs (2 × 3) in ")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--headless", "--sweep", "lr=1,2", "--sweep", "hidden=1,2", "--sweep", "seed=1,2"], "at most twice"),
        (["--headless", "--sweep", "lr=1,2", "--sweep", "lr=3,4"], "lr twice"),
        (
            [
                "--headless",
                "--max-memory",
                "1M",
                "--samples",
                "100000",
                "--sweep",
                "hidden=64,128",
                "--sweep",
                "lr=0.01,0.02",
            ],
            "over the budget",
        ),
    ],
)
def test_grid_usage_errors_are_one_line(capsys, args, needle):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


# -- the heatmap chart -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(30, 8), (57, 20), (120, 40), (5, 2)])
def test_heatmap_is_exactly_the_size_asked_and_plain_without_colour(size):
    import re

    from quadtui.charts.heatmap import heatmap_chart
    from quadtui.charts.theme import ChartTheme

    losses = [[1.5, 0.02, None], [3e12, 0.5, 0.25]]
    diverged = [[False, False, False], [True, False, False]]
    for theme in (ChartTheme(), ChartTheme(color=False)):
        text = heatmap_chart(["0.01", "0.1"], ["2", "4", "8"], losses, diverged, *size, theme, cursor=(0, 1))
        lines = text.split("\n")
        assert len(lines) == size[1]
        assert all(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) == size[0] for line in lines)
        if not theme.color:
            assert set(re.findall(r"\x1b\[[0-9;]*m", text)) <= {"\x1b[7m", "\x1b[0m"}  # only the cursor


def test_heatmap_colours_by_log_loss_and_a_diverged_run_does_not_stretch_the_scale():
    from quadtui.charts.heatmap import DIVERGED, RAMP, heatmap_chart
    from quadtui.charts.theme import ChartTheme

    text = heatmap_chart(["a"], ["1", "2", "3"], [[0.01, 1.0, 1e30]], [[False, False, True]], 40, 5, ChartTheme())

    def has(rgb):
        return f"48;2;{rgb[0]};{rgb[1]};{rgb[2]}m" in text

    assert has(RAMP[0]) and has(RAMP[-1]) and has(DIVERGED)  # lowest and highest of the finished runs
    plain = __import__("re").sub(r"\x1b\[[0-9;]*m", "", text)
    assert "0.01" in plain and "1" in plain and "×" in plain and "1e+30" not in plain


def test_the_app_is_given_both_sweeps(monkeypatch):
    import sys
    import types

    made = []

    class QuadApp:
        return_code = 0

        def __init__(self, config, **kwargs):
            made.append(kwargs)

        def run(self, **_: object):
            pass

    monkeypatch.setitem(sys.modules, "quadtui.tui.app", types.SimpleNamespace(QuadApp=QuadApp))
    monkeypatch.setattr("quadtui.cli.terminal.missing_terminal", lambda: None)  # pytest's stdin is no terminal
    assert main(["--sweep", "lr=0.01,0.02", "--sweep", "hidden=2,4"]) == 0
    assert made[-1]["grid"] == ["lr=0.01,0.02", "hidden=2,4"] and "sweep" not in made[-1]
