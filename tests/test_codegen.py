"""Show the code: the generated script trains exactly what the engine trains."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from quadtui.core import expr
from quadtui.core.codegen import numpy_expression, script_for
from quadtui.core.config import Config
from quadtui.core.engine import Engine

CONFIGS = {
    "default": Config(epochs=300),
    "tanh-adam": Config(activation="tanh", optimizer="adam", lr=0.01, epochs=300),
    "2-layers-gelu-rmsprop-decay": Config(
        layers=2, activation="gelu", optimizer="rmsprop", lr=0.003, weight_decay=0.01, epochs=200
    ),
    "momentum-minibatch-noise": Config(optimizer="momentum", lr=0.002, batch_size=16, noise=0.5, epochs=40),
    "custom-target": Config(target="sin(x)*x", hidden=12, epochs=300),
    "big-seed-constant-target": Config(seed=2**40, target="2.5", batch_size=30, epochs=30),
    "diverges": Config(lr=5.0, epochs=100),
}


def run_script(source: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    script = tmp_path / "train.py"
    script.write_text(source, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_script_final_loss_matches_the_engine(name, tmp_path):
    config = CONFIGS[name]
    lines = run_script(script_for(config), tmp_path)
    assert lines[-1].startswith("final loss: ")
    printed = float(lines[-1].removeprefix("final loss: "))
    snap = Engine(config).run()
    assert printed == pytest.approx(snap.summary()["final_loss"], rel=1e-5)
    if snap.diverged_at is not None:
        assert f"diverged at epoch {snap.diverged_at} (try a lower learning rate)" in lines


@pytest.mark.parametrize("config", [Config(epochs=300), Config(optimizer="adam", batch_size=25, lr=0.01, epochs=60)])
def test_script_replays_learning_rate_changes_made_while_the_run_trained(config, tmp_path):
    engine = Engine(config)
    for epochs, lr in ((config.epochs // 3, config.lr / 2), (config.epochs // 3, config.lr * 3)):
        engine.advance(epochs)
        engine.set_lr(lr)
    engine.run()
    snap = engine.snapshot()
    assert len(snap.lr_schedule) == 3
    lines = run_script(script_for(snap.config, snap.lr_schedule), tmp_path)
    assert float(lines[-1].removeprefix("final loss: ")) == pytest.approx(snap.train_now, rel=1e-5)
    # without the changes the script trains another run
    lines = run_script(script_for(snap.config.replace(lr=config.lr)), tmp_path)
    assert float(lines[-1].removeprefix("final loss: ")) != pytest.approx(snap.train_now, rel=1e-5)


def test_script_is_readable_python_with_the_config_values():
    config = Config(layers=2, activation="gelu", optimizer="momentum", momentum=0.8, weight_decay=0.01)
    source = script_for(config)
    ast.parse(source)  # valid Python
    assert "import quadtui" not in source and "from quadtui" not in source
    for needle in ("nn.GELU()", "N_LAYERS = 2", "MOMENTUM = 0.8", "WEIGHT_DECAY = 0.01", "torch.optim.SGD("):
        assert needle in source
    assert "BATCH_SIZE" not in source and "NOISE" not in source  # only what the run uses
    assert "--momentum 0.8" in source  # names the quadtui command it reproduces


def test_script_plots_when_matplotlib_is_importable(tmp_path):
    """With matplotlib present the script draws the loss and the fit, after printing the final loss."""
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "pyplot.py").write_text(
        textwrap.dedent(
            """
            import atexit

            calls = []

            class Axes:
                def __getattr__(self, name):
                    return lambda *args, **kw: calls.append(name)

            def subplots(*args, **kw):
                return None, (Axes(), Axes())

            def show():
                calls.append("show")

            atexit.register(lambda: print("plotted:", ",".join(calls)))
            """
        )
    )
    lines = run_script(script_for(Config(epochs=20)), tmp_path, env={"PYTHONPATH": str(tmp_path / "fake")})
    assert lines[-2].startswith("final loss: ")
    assert lines[-1] == "plotted: plot,set,plot,scatter,plot,set,legend,show"


@pytest.mark.parametrize(
    "text",
    ["x**2", "abs(x)", "sin(x)*x", "-x**2 + 3", "(-x)**3", "2**x**0.5", "1/(x*x + 1)", "x - (x - 1)",
     "exp(-x**2/2)/sqrt(2*pi)", "(sign(x)+1)/2", "log(abs(x) + e) - tanh(x)", "cos(x)**2 / 2 / 3", "x^3"],
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
