"""The headless CLI, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from quadtui.cli import build_parser
from quadtui.core.config import FIELDS


def quadtui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quadtui", *args], capture_output=True, text=True, timeout=timeout
    )


def test_default_headless_json_reproduces_the_notebook(notebook_losses):
    out = quadtui("--headless", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "done" and result["epochs_run"] == 5000
    assert result["first_loss"] == pytest.approx(notebook_losses[0], rel=1e-5)
    assert result["final_loss"] == pytest.approx(notebook_losses[-1], rel=1e-5)
    assert result["best_loss"] <= result["final_loss"]
    for key in ("eval_loss", "seconds", "epochs_per_s"):
        assert result[key] > 0
    assert set(result["config"]) == set(FIELDS)


def test_plain_headless_prints_a_summary():
    out = quadtui("--headless", "--epochs", "200", "--hidden", "4")
    assert out.returncode == 0
    assert "final loss" in out.stdout and "200 of 200" in out.stdout


@pytest.mark.parametrize(
    "args,flag",
    [
        (["--lr", "0"], "--lr"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--hidden", "0"], "--hidden"),
        (["--epochs", "1e99"], "--epochs"),
        (["--activation", "foo"], "--activation"),
        (["--batch-size", "1000"], "--batch-size"),
        (["--threads", "0"], "--threads"),
        (["--target", "__import__('os').system('echo hi')"], "--target"),
        (["--json"], "--json"),
        (["--nonsense"], "--nonsense"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args, flag):
    out = quadtui("--headless", *args) if args != ["--json"] else quadtui(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in out.stderr


def test_divergence_exits_1_with_diverged_at():
    out = quadtui("--headless", "--json", "--lr", "5")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert result["status"] == "diverged" and result["diverged_at"] >= 1


def test_help_lists_every_flag_with_default_and_range():
    text = " ".join(build_parser().format_help().split())
    for name, spec in FIELDS.items():
        assert "--" + name.replace("_", "-") in text
    assert "default 0.02" in text and "> 0 and <= 10" in text
    out = quadtui("--version")
    assert out.returncode == 0 and out.stdout.startswith("quadtui ")
