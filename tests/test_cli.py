"""The headless CLI, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from quadtui.cli import build_parser
from quadtui.core.budget import memory_budget
from quadtui.core.config import FIELDS


def quadtui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quadtui", *args], capture_output=True, text=True, timeout=timeout)


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
    assert lines[0].startswith("quadtui: error: ")


def test_divergence_exits_1_with_diverged_at():
    out = quadtui("--headless", "--json", "--lr", "5")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert result["status"] == "diverged" and result["diverged_at"] >= 1


def test_help_lists_every_flag_with_default_and_range():
    text = " ".join(build_parser().format_help().split())
    for name in FIELDS:
        assert "--" + name.replace("_", "-") in text
    assert "default 0.02" in text and "> 0 and <= 10" in text
    out = quadtui("--version")
    assert out.returncode == 0 and out.stdout.startswith("quadtui ")


# -- show the code, share a config, export, lessons, sweep, serve ---------------------------
import os  # noqa: E402
import types  # noqa: E402

from quadtui.cli import main  # noqa: E402
from quadtui.core.config import Config  # noqa: E402


def one_error_line(capsys, *args: str) -> str:
    """Run main() in-process with bad usage: exit 2, nothing on stdout, one line on stderr."""
    code = main(list(args))
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quadtui: error: ") and "Traceback" not in out.err
    return lines[0]


def test_print_code_trains_to_the_headless_final_loss(tmp_path):
    flags = ["--epochs", "150", "--hidden", "5", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "25"]
    code = quadtui("--print-code", *flags)
    assert code.returncode == 0, code.stderr
    script = tmp_path / "train.py"
    script.write_text(code.stdout)
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    printed = float(ran.stdout.splitlines()[-1].removeprefix("final loss: "))
    headless = json.loads(quadtui("--headless", "--json", *flags).stdout)
    assert printed == pytest.approx(headless["final_loss"], rel=1e-5)


def test_print_config_round_trips_and_flags_beat_the_file(tmp_path, capsys):
    assert main(["--print-config", "--lr", "0.05", "--hidden", "3", "--target", "sin(x)"]) == 0
    path = tmp_path / "run.toml"
    path.write_text(capsys.readouterr().out)
    assert main(["--print-config", "--config", str(path), "--hidden", "7"]) == 0
    from quadtui.core.tomlio import load_config_file

    again = tmp_path / "again.toml"
    again.write_text(capsys.readouterr().out)
    assert load_config_file(again) == Config(lr=0.05, hidden=7, target="sin(x)")


def test_headless_runs_the_config_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("epochs = 120\nhidden = 3\n")
    result = json.loads(quadtui("--headless", "--json", "--config", str(path)).stdout)
    assert result["epochs_run"] == 120 and result["config"]["hidden"] == 3


@pytest.mark.parametrize(
    "content,needle",
    [("lr = 0.1\nhidden = \n", "line 2"), ("lr = 99\n", "lr = 99"), ("hiden = 1\n", "did you mean hidden?")],
)
def test_bad_config_file_is_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    line = one_error_line(capsys, "--headless", "--config", str(path))
    assert "--config" in line and needle in line and str(path) in line


def test_export_after_a_headless_run(tmp_path):
    folder = tmp_path / "run1"
    out = quadtui("--headless", "--json", "--epochs", "60", "--hidden", "3", "--export", str(folder))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["epochs_run"] == 60  # stdout stays one JSON object
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["config.toml", "fit.csv", "loss.csv", "model.pt", "timeline.pt", "train.py"]
    assert (folder / "loss.csv").read_text().count("\n") == 61
    assert str(folder) in out.stderr


def test_export_refuses_a_non_empty_folder_before_training(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    line = one_error_line(capsys, "--headless", "--epochs", "10000000", "--export", str(tmp_path))
    assert "--export" in line and "not empty" in line
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_lesson_by_name_presets_the_run():
    out = quadtui("--headless", "--json", "--lesson", "how-many-neurons", "--seed", "3")
    result = json.loads(out.stdout)
    assert result["config"]["hidden"] == 1 and result["config"]["seed"] == 3  # the seed is not locked


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--lesson", "how-many-neurons", "--lr", "0.1"], "--lr: locked by the lesson 'how-many-neurons'"),
        (["--lesson", "too-high-learning-rate", "--noise", "1"], "--noise: locked"),
        (["--lesson", "no-such-lesson"], "how-many-neurons"),
    ],
)
def test_lesson_usage_errors(capsys, args, needle):
    assert needle in one_error_line(capsys, "--print-config", *args)


@pytest.fixture
def fake_app(monkeypatch):
    """A stand-in QuadApp that records how the CLI built it (no terminal needed)."""
    made: list[tuple[Config, dict]] = []

    class QuadApp:
        return_code = 0

        def __init__(self, config, **kwargs):
            made.append((config, kwargs))

        def run(self, **_: object):
            pass

    monkeypatch.setitem(sys.modules, "quadtui.tui.app", types.SimpleNamespace(QuadApp=QuadApp))
    monkeypatch.setattr("quadtui.cli.terminal.missing_terminal", lambda: None)  # pytest's stdin is no terminal
    return made


@pytest.fixture
def fake_sweep(monkeypatch):
    calls: list[tuple] = []

    def parse_sweep_spec(spec, base):
        name, _, values = spec.partition("=")
        if name not in base.to_dict():
            raise ValueError(f"unknown parameter {name!r}\n(second line)")
        return name, values.split(",")

    def run_sweep_cli(config, spec, threads, as_json):
        calls.append((config, spec, threads, as_json))
        return 0

    module = types.SimpleNamespace(parse_sweep_spec=parse_sweep_spec, run_sweep_cli=run_sweep_cli)
    monkeypatch.setitem(sys.modules, "quadtui.cli.sweep", module)
    return calls


def test_app_gets_lesson_and_sweep_only_when_given(fake_app, fake_sweep):
    assert main(["--hidden", "4", "--run", "--neuron", "2"]) == 0
    config, kwargs = fake_app[-1]
    assert config == Config(hidden=4)
    assert kwargs == {
        "threads": 1,
        "neuron": 2,
        "autorun": True,
        "max_memory": memory_budget()[0],
        "speed": 1000,
        "view": "charts",
    }
    assert main(["--view", "Network"]) == 0 and fake_app[-1][1]["view"] == "network"
    assert main(["--lesson", "how-many-neurons", "--sweep", "seed=1,2"]) == 0
    config, kwargs = fake_app[-1]
    assert config.hidden == 1 and kwargs["lesson"].name == "how-many-neurons" and kwargs["sweep"] == "seed=1,2"
    assert fake_sweep == []  # the app runs the sweep itself


def test_speed_flag_sets_the_apps_pace(fake_app, capsys):
    assert main(["--speed", "full"]) == 0 and fake_app[-1][1]["speed"] is None  # today's full speed
    assert main(["--speed", "250"]) == 0 and fake_app[-1][1]["speed"] == 250
    assert main([]) == 0 and fake_app[-1][1]["speed"] == 1000  # a pace a person can watch
    for bad in ("0", "fast", "nan", "2e6"):
        line = one_error_line(capsys, "--speed", bad)
        assert line.startswith(f"quadtui: error: --speed {bad}: not allowed; must be 'full' or epochs per second")
    assert "--headless always trains at full speed" in one_error_line(capsys, "--headless", "--speed", "10")


def test_neuron_takes_a_unit_of_the_last_layer_or_layer_colon_unit(fake_app, capsys):
    assert main(["--layers", "2", "--hidden", "4", "--neuron", "2:3"]) == 0
    config, kwargs = fake_app[-1]
    assert (kwargs["neuron"], kwargs["neuron_layer"]) == (3, 2)
    assert main(["--layers", "2", "--neuron", "3"]) == 0
    assert fake_app[-1][1]["neuron"] == 3 and "neuron_layer" not in fake_app[-1][1]
    for bad in ("3:0", "0:1", "1:8", ":", "1:", "x:1", "1:2:3"):
        line = one_error_line(capsys, "--layers", "2", "--neuron", bad)
        want = f"--neuron {bad}: not allowed; must be a whole number from 0 to 7, or LAYER:UNIT with LAYER from 1 to 2"
        assert want in line


def test_headless_sweep_calls_the_sweep_cli(fake_sweep):
    assert main(["--headless", "--json", "--sweep", "hidden=1,2", "--lr", "0.05", "--threads", "2"]) == 0
    assert fake_sweep == [(Config(lr=0.05), "hidden=1,2", 2, True)]


def test_bad_sweep_is_one_line(fake_sweep, capsys):
    line = one_error_line(capsys, "--headless", "--sweep", "bogus=1,2")
    assert "--sweep bogus=1,2: unknown parameter 'bogus' (second line)" in line and fake_sweep == []


def test_sweep_not_available_yet(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "quadtui.cli.sweep", None)  # import fails as if the file were missing
    assert one_error_line(capsys, "--headless", "--sweep", "hidden=1,2").endswith("--sweep: not available")


def test_serve_without_textual_serve_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    line = one_error_line(capsys, "--serve")
    assert "--serve" in line and "pip install -e '.[web]'" in line and "pip install textual-serve" in line


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--serve", "--headless"], "--headless and --serve cannot be used together"),
        (["--print-code", "--print-config"], "cannot be used together"),
        (["--host", "0.0.0.0"], "--host needs --serve"),
        (["--serve", "--port", "99999"], "--port 99999"),
        (["--export", "somewhere"], "--export needs --headless"),
        (["--headless", "--sweep", "hidden=1,2", "--export", "x"], "--export cannot be used with --sweep"),
        (["--serv"], "--serv"),  # no abbreviations: --serve forwards flags verbatim
    ],
)
def test_conflicting_flags_are_one_line(capsys, args, needle):
    assert needle in one_error_line(capsys, *args)


def test_cli_import_stays_light():
    code = "import sys, quadtui.cli; print(sorted({'torch', 'textual'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_json_says_full_for_the_full_batch_as_the_flags_do():
    single = json.loads(quadtui("--headless", "--json", "--epochs", "3").stdout)
    assert single["config"]["batch_size"] == "full"
    mini = json.loads(quadtui("--headless", "--json", "--epochs", "3", "--batch-size", "10").stdout)
    assert mini["config"]["batch_size"] == 10
    out = quadtui("--headless", "--json", "--epochs", "3", "--sweep", "batch_size=full,10")
    sweep = json.loads(out.stdout)
    assert sweep["config"]["batch_size"] == "full"
    assert [r["value"] for r in sweep["sweep"]["results"]] == ["full", 10]
    table = quadtui("--headless", "--epochs", "3", "--sweep", "batch_size=full,10").stdout
    assert table.splitlines()[2].split()[0] == "full"  # the table's first row, not "None"


@pytest.mark.parametrize(
    "first,second",
    [
        ("--headless", "--serve"),
        ("--serve", "--headless"),
        ("--print-config", "--headless"),
        ("--print-code", "--serve"),
    ],
)
def test_two_modes_at_once_name_both_flags_in_one_line(capsys, first, second):
    line = one_error_line(capsys, first, second)
    assert line == f"quadtui: error: {second} and {first} cannot be used together"


@pytest.mark.parametrize("args,flag", [(["--threads=--"], "--threads"), (["--view=--"], "--view")])
def test_a_typed_flag_given_only_dashes_is_one_line_naming_it(capsys, args, flag):
    assert flag in one_error_line(capsys, *args)
