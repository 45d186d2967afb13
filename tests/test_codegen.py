"""Show the code: the generated script trains exactly what the engine trains."""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quadtui.core import expr
from quadtui.core.codegen import numpy_expression, script_for
from quadtui.core.config import Config, parse_value
from quadtui.core.engine import Engine, Status
from tests.conftest import final_line, run_script

CONFIGS = {
    "default": Config(epochs=300),
    "tanh-adam": Config(activation="tanh", optimizer="adam", lr=0.01, epochs=300),
    "2-layers-gelu-rmsprop-decay": Config(
        layers=2, activation="gelu", optimizer="rmsprop", lr=0.003, weight_decay=0.01, epochs=200
    ),
    "batches-of-1": Config(batch_size=1, lr=0.001, epochs=4),
    "batches-of-7-adam": Config(batch_size=7, optimizer="adam", lr=0.01, epochs=15),
    "momentum-batches-of-16-noise": Config(optimizer="momentum", lr=0.002, batch_size=16, noise=0.5, epochs=40),
    "custom-target": Config(target="sin(x)*x", hidden=12, epochs=300),
    "big-seed-constant-target": Config(seed=2**40, target="2.5", batch_size=30, epochs=30),
}
#: configs whose script must be short-lined, readable Python (not run)
SHAPES = [
    Config(),
    Config(
        layers=3,
        activation="leaky_relu",
        optimizer="momentum",
        momentum=0.8,
        weight_decay=0.01,
        batch_size=16,
        noise=0.25,
        seed=2**62,
        x_min=-1.234567890123,
        x_max=9.87654321098765,
        hidden=256,
    ),
    Config(target="sin(x)*x + cos(x)**2 / 2 - exp(-x**2 / 8) * 3.25 + log(abs(x) + 1.5) * tanh(x / 3)"),
    Config(target="sin(cos(sin(cos(sin(cos(sin(cos(sin(cos(sin(cos(sin(cos(sin(cos(x))))))))))))))))"),
]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_script_final_loss_is_the_engines_exactly(name, tmp_path):
    config = CONFIGS[name]
    lines = run_script(script_for(config), tmp_path)
    snap = Engine(config).run()
    assert snap.status is Status.DONE
    assert lines[-1] == final_line(snap.summary())


def test_script_final_loss_is_headless_json_for_mini_batches(tmp_path):
    flags = ["--epochs", "12", "--hidden", "5", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "7"]
    source = subprocess.run(
        [sys.executable, "-m", "quadtui", "--print-code", *flags], capture_output=True, text=True, timeout=120
    )
    headless = subprocess.run(
        [sys.executable, "-m", "quadtui", "--headless", "--json", *flags], capture_output=True, text=True, timeout=120
    )
    assert source.returncode == 0 and headless.returncode == 0, source.stderr + headless.stderr
    assert run_script(source.stdout, tmp_path)[-1] == final_line(json.loads(headless.stdout))


def test_a_diverging_run_ends_on_a_non_finite_loss_in_the_script(tmp_path):
    """The script keeps the notebook's plain loop: no guard, so it ends where the loss blew up."""
    config = Config(lr=5.0, epochs=100)
    assert Engine(config).run().diverged_at is not None
    printed = float(run_script(script_for(config), tmp_path)[-1].removeprefix("final loss: "))
    assert not math.isfinite(printed)


@pytest.mark.parametrize("config", [Config(epochs=300), Config(optimizer="adam", batch_size=25, lr=0.01, epochs=60)])
def test_script_replays_learning_rate_changes_made_while_the_run_trained(config, tmp_path):
    engine = Engine(config)
    for epochs, lr in ((config.epochs // 3, config.lr / 2), (config.epochs // 3, config.lr * 1.5)):
        engine.advance(epochs)
        engine.set_lr(lr)
    engine.run()
    snap = engine.snapshot()
    assert len(snap.lr_schedule) == 3 and snap.status is Status.DONE
    lines = run_script(script_for(snap.config, snap.lr_schedule), tmp_path)
    assert lines[-1] == final_line(snap.summary())
    # without the changes the script trains another run
    lines = run_script(script_for(snap.config.replace(lr=config.lr)), tmp_path)
    assert lines[-1] != final_line(snap.summary())


def test_script_is_readable_python_with_the_config_values():
    config = Config(layers=2, activation="gelu", optimizer="momentum", momentum=0.8, weight_decay=0.01)
    source = script_for(config)
    ast.parse(source)  # valid Python
    assert "import quadtui" not in source and "from quadtui" not in source
    for needle in ("nn.GELU()", "N_LAYERS = 2", "MOMENTUM = 0.8", "WEIGHT_DECAY = 0.01", "torch.optim.SGD("):
        assert needle in source
    assert "BATCH_SIZE" not in source and "NOISE" not in source  # only what the run uses
    assert "--momentum 0.8" in source  # names the quadtui command it reproduces


def test_mini_batches_come_from_a_seeded_dataloader():
    source = script_for(Config(batch_size=16))
    assert "BATCH_SIZE = 16" in source
    call = "".join(line.strip() for line in source[source.index("loader = DataLoader(") :].split("\n")[:6])
    assert call == (
        "loader = DataLoader(TensorDataset(x_train, y_train),batch_size=BATCH_SIZE,"
        "shuffle=True,generator=torch.Generator().manual_seed(SEED),)"
    )
    assert "for x_batch, y_batch in loader:" in source and "randperm" not in source


@pytest.mark.parametrize("config", [Config(), Config(batch_size=10), Config(batch_size=10, layers=2)])
def test_every_loop_has_the_notebooks_five_numbered_steps(config):
    source = script_for(config)
    loop = source[source.index("for i in range(EPOCHS):") : source.index('print(f"final loss')]
    steps = [line.strip() for line in loop.split("\n") if line.strip()[:3] in ("# 1", "# 2", "# 3", "# 4", "# 5")]
    assert steps == [
        "# 1. forward pass: get model predictions",
        "# 2. compute loss: error between predictions and targets",
        "# 3. backward pass: propagate gradient through the network",
        "# 4. update parameters: perform one optimization step",
        "# 5. reset torch gradients",
    ]


@pytest.mark.parametrize("config", SHAPES)
def test_script_lines_are_short_and_plain(config, tmp_path):
    source = script_for(config, ((0, config.lr), *((e, 0.001 * e) for e in range(10, 400, 10))))
    ast.parse(source)
    assert max(len(line) for line in source.split("\n")) <= 100
    assert "optimisation" not in source and "isfinite" not in source and "diverged" not in source
    f = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == "f")
    target = ast.parse(numpy_expression(config.target), mode="eval").body  # a long one is broken, not changed
    assert ast.dump(f.body[-1].value) == ast.dump(target)
    for node in ast.walk(ast.parse(source)):  # no f-string in an f-string's braces, no {} in a format spec
        if isinstance(node, ast.FormattedValue):
            assert not any(isinstance(inner, ast.JoinedStr) for inner in ast.walk(node.value))
            assert node.format_spec is None or not any(
                isinstance(part, ast.FormattedValue) for part in node.format_spec.values
            )


FAKE_PYPLOT = """
import atexit

calls = []


class Axes:
    def set(self, **kw):
        calls.append("set")


def gca():
    return Axes()


def title(text):
    calls.append("title:" + text)


def scatter(x, y, **kw):
    calls.append(f"scatter:{len(y)}")


def show():
    calls.append("show")


def __getattr__(name):
    return lambda *args, **kw: calls.append(name)


atexit.register(lambda: print("plotted:", ",".join(calls)))
"""


@pytest.mark.parametrize("hidden,plotted", [(6, 6), (20, 16)])
def test_script_draws_the_notebooks_plots_when_matplotlib_is_importable(hidden, plotted, tmp_path):
    """Samples, loss, predictions, then a window per hidden neuron: its output on the plot's
    100 points, saved by the notebook's forward hook (the 50 training samples would be 50)."""
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "pyplot.py").write_text(FAKE_PYPLOT)
    config = Config(epochs=20, samples=50, hidden=hidden)
    lines = run_script(script_for(config), tmp_path, env={"PYTHONPATH": str(tmp_path / "fake")})
    assert lines[-2] == final_line(Engine(config).run().summary())
    calls = lines[-1].removeprefix("plotted: ").split(",")
    titles = [call for call in calls if call.startswith("title:")]
    assert titles == ["title:samples", "title:predictions"] + [f"title:hidden neuron {i}" for i in range(plotted)]
    assert calls.count("scatter:100") == plotted + 1 and calls.count("scatter:50") == 1
    assert calls[-1] == "show" and "xlabel" in calls and "ylabel" in calls


def test_readme_show_the_code_example_shows_what_the_script_prints():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Show the code") :]
    flags = re.search(r"quadtui --print-code (.*) > train.py", section).group(1).split()
    fields = {flag.removeprefix("--").replace("-", "_"): value for flag, value in zip(flags[::2], flags[1::2])}
    config = Config(**{name: parse_value(name, value) for name, value in fields.items()})
    shown = section[section.index("```text\n") :].split("```")[1].strip().splitlines()[1:]
    snap = Engine(config).run()  # the script's numbers are the engine's (the tests above)
    every = max(1, config.epochs // 10)
    printed = [f"epoch {e}: loss {snap.train_loss[e - 1]:.6g}" for e in range(every, config.epochs + 1, every)]
    printed.append(final_line(snap.summary()))
    assert shown == [printed[0], "...", *printed[-2:]]


@pytest.mark.parametrize(
    "text",
    [
        "x**2",
        "abs(x)",
        "sin(x)*x",
        "-x**2 + 3",
        "(-x)**3",
        "2**x**0.5",
        "1/(x*x + 1)",
        "x - (x - 1)",
        "exp(-x**2/2)/sqrt(2*pi)",
        "(sign(x)+1)/2",
        "log(abs(x) + e) - tanh(x)",
        "cos(x)**2 / 2 / 3",
        "x^3",
    ],
)
def test_numpy_expression_computes_what_the_target_computes(text):
    code = numpy_expression(text)
    x = np.linspace(-4.5, 4.5, 201)
    with np.errstate(all="ignore"):
        ours = eval(code, {"np": np, "x": x})  # test only: the code comes from a checked AST
    np.testing.assert_array_equal(np.broadcast_to(ours, x.shape), expr.parse(text)(x))


def test_numpy_expression_reads_like_numpy_code():
    assert numpy_expression("sin(x)*x") == "np.sin(x) * x"
    assert numpy_expression("step") == "(np.sign(x) + 1) / 2"
    assert numpy_expression("x - (x - 1)") == "x - (x - 1)"
    assert numpy_expression("exp(-x^2)*pi") == "np.exp(-x**2) * np.pi"


def test_numpy_expression_refuses_what_the_target_refuses():
    with pytest.raises(expr.ExpressionError):
        numpy_expression("__import__('os')")
