"""Every flag takes hostile text: a valid run, or exit 2 with one stderr line naming the flag.

Most checks run in-process through ``quadtui.cli.main(argv)`` with training replaced by a
recorder; a few run ``python -m quadtui --headless`` in a subprocess, as a user would.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import quadtui.cli.headless
from quadtui.cli import main
from quadtui.core.config import FIELDS, Config

FIELD_FLAGS = {"--" + name.replace("_", "-"): name for name in FIELDS}
OTHER_FLAGS = ["--threads", "--neuron", "--view"]

SPECIAL = [
    "",
    " ",
    "   ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "infinity",
    "-0",
    "0",
    "-0.0",
    "1e999",
    "-1e999",
    "5e3",
    "1_000",
    "+5",
    "+0.5",
    "٣",
    "５",
    "1e99",
    "9" * 400,
    "9" * 10_000,
    "x" * 10_000,
    "0x10",
    "1/2",
    "-1",
    "-5",
    "-.5",
    "1e-400",
    "2.5",
    "full",
    "FULL",
    "none",
    "relu",
    "Leaky-ReLU",
    "adam",
    "x^2",
    "step",
    "__import__('os').system('echo hi')",
    "(" * 10_000 + "x" + ")" * 10_000,
    "sin(x",
    "log(x)",
    "=",
    "--",
    "-",
    "-x",
    "--lr",
    "-h",
    "é",
    "∞",
    "1,5",
    "1.5.5",
    "True",
    "[1]",
    "{}",
    "'5'",
    '"5"',
]

#: one line of text: no control characters or line separators (those are tested on their own below)
ONE_LINE_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Zl", "Zp")), max_size=40)

VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    ONE_LINE_TEXT,
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(repr),
    st.floats().map(str),
    st.integers(-3, 300).map(str),
    st.decimals(allow_nan=True).map(str),
)


class Recorder(list):
    def __repr__(self) -> str:  # keep hypothesis reports short
        return f"<{len(self)} recorded runs>"


@pytest.fixture
def runs(monkeypatch):
    """Replace training with a recorder: main() parses and checks, then 'runs' instantly."""
    calls = Recorder()

    def fake_run_headless(config, **kwargs):
        calls.append({"config": config, **kwargs})
        return 0

    monkeypatch.setattr(quadtui.cli.headless, "run_headless", fake_run_headless)
    monkeypatch.delenv("QUADTUI_THREADS", raising=False)
    return calls


def run_cli(argv, capsys):
    code = main(["--headless", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code, out, err, *flags):
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("quadtui: error: ") and "Traceback" not in err
    assert any(flag in line for flag in flags), line


def assert_in_range(config: Config, name: str) -> None:
    spec, value = FIELDS[name], getattr(config, name)
    if spec.kind in ("int", "float") and value is not None:
        assert type(value) is (int if spec.kind == "int" else float)
        assert math.isfinite(value)
        assert value > spec.lo if spec.lo_open else value >= spec.lo
        assert spec.hi is None or value <= spec.hi
    elif spec.kind == "choice":
        assert value in spec.choices


def check_one_flag(flag, argv, runs, capsys):
    before = len(runs)
    code, out, err = run_cli(argv, capsys)
    if code == 0:
        assert err == "" and len(runs) == before + 1
        call = runs[-1]
        if flag in FIELD_FLAGS:
            assert_in_range(call["config"], FIELD_FLAGS[flag])
        elif flag == "--threads":
            assert 1 <= call["threads"] <= 64
        return
    assert len(runs) == before
    assert_usage_error(code, out, err, flag)


ALL_FLAGS = sorted(FIELD_FLAGS) + OTHER_FLAGS


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flag=st.sampled_from(ALL_FLAGS), value=VALUES, joined=st.booleans())
def test_any_value_for_any_flag_runs_in_range_or_is_one_line(runs, capsys, flag, value, joined):
    argv = [f"{flag}={value}"] if joined else [flag, value]
    check_one_flag(flag, argv, runs, capsys)


@pytest.mark.parametrize("flag", ALL_FLAGS)
@pytest.mark.parametrize("value", SPECIAL, ids=lambda v: repr(v[:12]))
def test_special_values_for_every_flag(runs, capsys, flag, value):
    check_one_flag(flag, [flag, value], runs, capsys)
    check_one_flag(flag, [f"{flag}={value}"], runs, capsys)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(FIELD_FLAGS)), VALUES), min_size=2, max_size=5))
def test_several_hostile_flags_give_at_most_one_line(runs, capsys, pairs):
    argv = [f"{flag}={value}" for flag, value in pairs]
    code, out, err = run_cli(argv, capsys)
    if code == 0:
        config = runs[-1]["config"]
        for flag, _ in pairs:
            assert_in_range(config, FIELD_FLAGS[flag])
    else:
        assert_usage_error(code, out, err, *(flag for flag, _ in pairs))


@pytest.mark.parametrize(
    "argv,flag",
    [
        (["--lr"], "--lr"),  # no value at the end
        (["--lr="], "--lr"),
        (["--lr", ""], "--lr"),
        (["--lr", "--epochs", "5"], "--lr"),
        (["--lr", "-x"], "--lr"),
        (["--x-min", "-1e3"], "--x-min"),  # argparse takes -1e3 for a flag (write --x-min=-1e3)
        (["--lr", "-1"], "--lr"),  # a negative number is a value, refused by range
        (["--lr", "1", "--lr", "0"], "--lr"),  # the last one counts
        (["--LR", "1"], "--LR"),
        (["--l", "1"], "--l"),  # no abbreviations
        (["stray"], "stray"),
        (["--epochs", "5", "--", "x"], "x"),
        (["--x-min", "7"], "--x-min"),  # x_max stays 5: the flag that was given is named
        (["--view-min", "6"], "--view-min"),
        (["--samples", "10", "--batch-size", "20"], "--batch-size"),
        (["--hidden", "4", "--neuron", "4"], "--neuron"),
        (["--view", "graph"], "--view"),
    ],
)
def test_argparse_shapes_are_one_line(runs, capsys, argv, flag):
    assert_usage_error(*run_cli(argv, capsys), flag)
    assert runs == []


@pytest.mark.parametrize(
    "argv,field,value",
    [
        (["--x-min=-1e3"], "x_min", -1000.0),
        (["--x-min", "-3"], "x_min", -3.0),
        (["--lr", "1", "--lr", "0.5"], "lr", 0.5),
        (["--epochs", "5e3"], "epochs", 5000),
        (["--seed", "1_000"], "seed", 1000),
        (["--lr", "+0.5"], "lr", 0.5),
        (["--noise", "-0"], "noise", 0.0),
        (["--batch-size", "FULL"], "batch_size", None),
        (["--view-min="], "view_min", None),
        (["--target", "x^2"], "target", "x**2"),
    ],
)
def test_odd_but_valid_spellings_run(runs, capsys, argv, field, value):
    code, out, err = run_cli(argv, capsys)
    assert (code, err) == (0, "")
    assert getattr(runs[-1]["config"], field) == value


@pytest.mark.parametrize("value", ["0", "65", "-1", "x", "1.5", "9" * 5000, "nan"])
def test_bad_threads_environment_is_named(runs, capsys, monkeypatch, value):
    monkeypatch.setenv("QUADTUI_THREADS", value)
    assert_usage_error(*run_cli([], capsys), "QUADTUI_THREADS")


# -- control characters and ctrl+c
# "\udcff" is how Python passes a byte of invalid UTF-8 in argv
CONTROL = ["1\n2", "1\r2", "\x1b[31mred", "a\x85b", "a\u2028b", "\x00", "5\t6", "\udcff"]


@pytest.mark.parametrize("flag", ["--lr", "--threads", "--neuron", "--activation", "--view"])
@pytest.mark.parametrize("value", CONTROL, ids=repr)
def test_control_characters_in_values_stay_on_one_line(runs, capsys, flag, value):
    code, out, err = run_cli([flag, value], capsys)
    assert_usage_error(code, out, err, flag)
    assert err.rstrip("\n").isprintable()


def test_ctrl_c_before_training_is_one_line(monkeypatch, capsys):
    def interrupted(config, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(quadtui.cli.headless, "run_headless", interrupted)
    try:
        code = main(["--headless"])
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main(): the user sees a traceback")
    err = capsys.readouterr().err
    assert code == 130 and len(err.splitlines()) == 1


# -- as a user runs it (the plain examples: tests/test_cli.py) ---------------------------
@pytest.mark.parametrize(
    "args,flag",
    [
        (["--target", "(" * 10_000 + "x" + ")" * 10_000], "--target"),
        (["--samples", "9" * 10_000], "--samples"),
    ],
    ids=lambda a: a[0][:12] if isinstance(a, list) else None,
)
def test_hostile_values_in_a_subprocess(args, flag):
    out = subprocess.run(
        [sys.executable, "-m", "quadtui", "--headless", *args], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in out.stderr
    assert_usage_error(out.returncode, out.stdout, out.stderr, flag)


def quadtui_process(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quadtui", *args], capture_output=True, text=True, timeout=60, **kwargs
    )


def assert_one_line_exit(out: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    lines = out.stderr.splitlines()
    assert out.returncode == code and len(lines) == 1, out.stderr[-2000:]
    assert lines[0].startswith("quadtui: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- files: regular files only, at most 1 MB, and every parse failure one line ----------------------
@pytest.fixture
def hostile_files(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.toml"
    deep.write_text("lr = " + "[" * 100_000 + "]" * 100_000 + "\n")
    deep_table = tmp_path / "deep-table.toml"
    deep_table.write_text('title = "t"\n[config]\nzz = ' + "{a=" * 100_000 + "1" + "}" * 100_000 + "\n")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"lr = 0.5\n\xff\xfe\n")
    big = tmp_path / "big.toml"
    big.write_text("lr = 0.5\n" + "#" * 1_000_001 + "\n")
    return {
        "fifo": (fifo, "named pipe"),
        "/dev/zero": ("/dev/zero", "device"),
        "folder": (tmp_path, "folder"),
        "deep arrays": (deep, ""),
        "deep tables": (deep_table, ""),
        "bad UTF-8": (binary, "UTF-8"),
        "over 1 MB": (big, "larger than"),
    }


@pytest.mark.parametrize("option", ["--config", "--lesson"])
@pytest.mark.parametrize(
    "case", ["fifo", "/dev/zero", "folder", "deep arrays", "deep tables", "bad UTF-8", "over 1 MB"]
)
def test_a_file_that_is_no_config_is_one_line_and_exit_2(hostile_files, option, case):
    path, needle = hostile_files[case]
    out = quadtui_process(option, str(path), "--print-config")  # a FIFO or /dev/zero used to hang here
    assert_one_line_exit(out, 2, f"{option} {path}", needle)
    assert out.stdout == ""


# -- where the result goes: stdout closed or full ---------------------------------------------------
@pytest.mark.parametrize(
    "mode",
    [
        ["--headless", "--epochs", "3"],
        ["--headless", "--epochs", "3", "--json"],
        ["--print-config"],
        ["--headless", "--epochs", "3", "--sweep", "hidden=1,2"],
    ],
    ids=["summary", "json", "print-config", "sweep"],
)
def test_stdout_closed_is_one_line_and_non_zero(mode):
    out = subprocess.run(
        ["sh", "-c", 'exec "$0" -m quadtui "$@" >&-', sys.executable, *mode], capture_output=True, text=True, timeout=60
    )
    assert_one_line_exit(out, 2, "stdout is closed")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize(
    "mode",
    [
        ["--headless", "--epochs", "3"],
        ["--headless", "--epochs", "3", "--json"],
        ["--print-code"],
        ["--headless", "--epochs", "3", "--sweep", "hidden=1,2"],
    ],
    ids=["summary", "json", "print-code", "sweep"],
)
def test_stdout_on_a_full_device_is_one_line_and_non_zero(mode):
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-m", "quadtui", *mode], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert_one_line_exit(out, 1, "cannot write the output", "No space left on device")


# -- an empty value is refused by every flag ------------------------------------------------------
@pytest.mark.parametrize("flag", ["--batch-size", "--threads"])
@pytest.mark.parametrize("value", ["", " "], ids=["empty", "space"])
def test_an_empty_batch_size_or_threads_is_refused(flag, value):
    out = quadtui_process("--headless", "--epochs", "3", flag, value)
    assert_one_line_exit(out, 2, flag)
    assert out.stdout == ""


def test_an_empty_threads_variable_still_means_unset(runs, capsys, monkeypatch):
    monkeypatch.setenv("QUADTUI_THREADS", "")
    code, out, err = run_cli([], capsys)
    assert (code, err) == (0, "") and runs[-1]["threads"] == 1


# -- a target with a pole on the run's own points ---------------------------------------------------
def test_a_pole_exactly_on_a_training_sample_is_a_usage_error():
    out = quadtui_process("--headless", "--target", "1/(x--4.024663982505484)")  # the example
    assert_one_line_exit(out, 2, "--target", "training sample")
    assert out.stdout == ""
