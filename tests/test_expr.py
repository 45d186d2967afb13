"""The target-expression evaluator: hostile text is refused with a reason, valid text is exact."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quadtui.core import expr
from quadtui.core.config import Config, ConfigError
from quadtui.core.data import make_dataset

HOSTILE = [
    "__import__('os').system('echo hi')",
    "__import__(x)",
    "x.__class__",
    "x.real",
    "(x).__class__.__bases__",
    "x[0]",
    "lambda: 1",
    "lambda x: x",
    "[x for x in range(9)]",
    "(x for x in x)",
    "f'{x}'",
    "(y := 1)",
    "abs(x=1)",
    "abs(*x)",
    "abs(x, x)",
    "abs()",
    "sin(x)(x)",
    "sin",
    "open",
    "globals()",
    "x if x else 1",
    "x < 1",
    "x == x",
    "x and 1",
    "not x",
    "~x",
    "x % 2",
    "x // 2",
    "x @ x",
    "x, 1",
    "{x}",
    "{1: x}",
    "[x]",
    "True",
    "None",
    "...",
    "1j",
    "x * 2j",
    "b'x'",
    "'x'",
    '"x"',
    "x\x00",
    "\x00",
    "x\n+1",
    "x;1",
    "x #comment",
    "é",
    "ｘ",  # fullwidth x: NFKC would make it a Python "x"; we refuse non-ASCII outright
    "٣*x",
    "x\u200b",
    "y",
    "X",
    "_",
    "__builtins__",
    "",
    "   ",
    "(",
    "x)",
    "sin(x",
    "*",
    "x +",
    "(" * 10_000 + "x" + ")" * 10_000,
    "-" * 10_000 + "x",
    "x" + "+x" * 5_000,
    "x" * 1_000_000,
    "sin(" * 40 + "x" + ")" * 40,
    "+".join(["x"] * 70),  # short enough, but more than MAX_NODES parts
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
def test_hostile_text_is_refused_with_a_short_reason(text):
    with pytest.raises(expr.ExpressionError) as info:
        expr.parse(text)
    reason = str(info.value)
    assert reason and len(reason) <= 60 and reason.isprintable()


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
def test_hostile_target_is_a_one_line_config_error(text):
    with pytest.raises(ConfigError) as info:
        Config(target=text)
    message = str(info.value)
    assert info.value.field == "target" and message.startswith("target = ")
    assert len(message) <= 160 and message.isprintable()


@pytest.mark.parametrize(
    "text,reason",
    [
        ("foo", "unknown name 'foo'"),
        ("foo(x)", "unknown function 'foo'"),
        ("sin", "sin(x)"),
        ("x < 1", "'<' is not allowed"),
        ("x.real", "attribute"),
        ("1j", "not a real number"),
        ("x\x00", "control character"),
        ("x // 2", "//"),
        ("sin(x", "brackets"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_reasons_say_what_is_wrong(text, reason):
    with pytest.raises(expr.ExpressionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        expr.parse(text)


def test_non_text_is_refused():
    for value in (None, 2, b"x", ["x"]):
        with pytest.raises(expr.ExpressionError):
            expr.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["9**9**9", "10**400", "2**1024", "1e999", "10^400", "0x" + "f" * 300])
def test_huge_numbers_are_float64_inf_not_giant_ints(text):
    if len(text) > expr.MAX_LENGTH:
        with pytest.raises(expr.ExpressionError, match="longer"):
            expr.parse(text)
        return
    value = expr.parse(text)(np.zeros(3))
    assert value.dtype == np.float64 and np.all(value == math.inf)


def test_long_literals_within_the_limit_are_exact_floats():
    assert expr.parse("9" * 199)(np.zeros(1))[0] == float("9" * 199)
    assert expr.parse("0x" + "f" * 198)(np.zeros(1))[0] == float(int("f" * 198, 16))
    assert expr.parse("0x" + "f" * 190 + "*0")(np.zeros(1))[0] == 0.0


def test_huge_numbers_never_build_a_python_int(monkeypatch):
    # If the evaluator folded 9**9**9 with Python ints it would call int.__pow__;
    # in float64 the Pow node is numpy's, and the literal 9 never grows.
    calls = []
    real_pow = expr._BINARY[ast.Pow]
    monkeypatch.setitem(expr._BINARY, ast.Pow, lambda a, b: calls.append((type(a), type(b))) or real_pow(a, b))
    assert expr.parse("9**9**9")(np.array([1.0]))[0] == math.inf
    assert calls and all(t is np.float64 for pair in calls for t in pair)


@pytest.mark.parametrize(
    "text,fn",
    [
        ("x**2", lambda x: x**2),
        ("x^2", lambda x: x**2),
        (" x ** 2 ", lambda x: x**2),
        ("step", lambda x: (np.sign(x) + 1) / 2),
        ("abs(x)", np.abs),
        ("-x**2", lambda x: -(x**2)),  # Python precedence: power binds tighter than minus
        ("2**-x", lambda x: 2.0 ** (-x)),
        ("1_000*x", lambda x: 1000.0 * x),
        ("1e3*x", lambda x: 1000.0 * x),
        ("sin(pi*x)/e", lambda x: np.sin(np.pi * x) / np.e),
        (
            "sqrt(abs(x))+tanh(x)-exp(-x^2)*cos(x)",
            lambda x: np.sqrt(np.abs(x)) + np.tanh(x) - np.exp(-(x**2)) * np.cos(x),
        ),
        ("3", lambda x: np.full_like(x, 3.0)),
        ("((((x))))", lambda x: x),
    ],
)
def test_valid_expressions_evaluate_like_numpy(text, fn):
    x = np.linspace(-5, 5, 101)
    np.testing.assert_array_equal(expr.parse(text)(x), fn(x))


def test_evaluation_never_raises_and_keeps_shape():
    x = np.array([-1.0, 0.0, 1.0, np.inf, -np.inf, np.nan])
    for text in ("log(x)", "1/x", "sqrt(x)", "x**x", "0**-1", "(-8)**(1/3)", "exp(exp(x))", "tan(x)/0"):
        out = expr.parse(text)(x)
        assert out.shape == x.shape and out.dtype == np.float64
    assert expr.parse("7")(np.zeros((2, 3))).shape == (2, 3)


def test_the_text_is_the_normalized_source():
    assert expr.parse("  x^3 ").text == "x**3"
    assert expr.parse("step").text == expr.PRESETS["step"]
    assert set(expr.PRESETS.values()) <= {expr.parse(p).text for p in expr.PRESETS}


# -- property: random formulas over the whitelist agree with a direct numpy evaluation --------
_NUMPY = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
    "^": np.power,
}
_numbers = st.one_of(
    st.integers(0, 10**6).map(float),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 1e-300, 1e300]),
)
_leaves = st.one_of(
    st.just(("x",)),
    st.sampled_from([("pi",), ("e",)]),
    _numbers.map(lambda v: ("num", v)),
)


def _trees(leaves):
    return st.one_of(
        st.tuples(st.sampled_from(sorted(_NUMPY)), leaves, leaves),
        st.tuples(st.just("neg"), leaves),
        st.tuples(st.sampled_from(sorted(expr.FUNCTIONS)), leaves),
    )


TREES = st.recursive(_leaves, _trees, max_leaves=12)


def render(tree) -> str:
    head = tree[0]
    if head == "x" or head in expr.CONSTANTS:
        return head
    if head == "num":
        return repr(tree[1])
    if head == "neg":
        return f"(-{render(tree[1])})"
    if head in _NUMPY:
        return f"({render(tree[1])}{head}{render(tree[2])})"
    return f"{head}({render(tree[1])})"


def reference(tree, x: np.ndarray) -> np.ndarray:
    """The formula evaluated directly with numpy, without parsing any text."""
    head = tree[0]
    if head == "x":
        return x
    if head in expr.CONSTANTS:
        return np.float64({"pi": np.pi, "e": np.e}[head])
    if head == "num":
        return np.float64(tree[1])
    if head == "neg":
        return np.negative(reference(tree[1], x))
    if head in _NUMPY:
        return _NUMPY[head](reference(tree[1], x), reference(tree[2], x))
    return getattr(np, head)(reference(tree[1], x))


X = np.concatenate([np.linspace(-5, 5, 41), [0.0, -0.0, 1e-12, 700.0, -700.0]])


@settings(max_examples=400, deadline=None)
@given(TREES)
def test_random_whitelisted_formulas_match_numpy(tree):
    text = render(tree)
    if len(text) > expr.MAX_LENGTH:
        with pytest.raises(expr.ExpressionError):
            expr.parse(text)
        return
    got = expr.parse(text)(X)
    with np.errstate(all="ignore"):
        want = np.broadcast_to(reference(tree, X), X.shape)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_expression_error(text):
    try:
        parsed = expr.parse(text)
    except expr.ExpressionError as exc:
        assert str(exc).isprintable()
        return
    assert parsed(X).shape == X.shape


# -- NaN / inf on the x range -----------------------------------------------------------------
@pytest.mark.parametrize(
    "target,x_min,x_max",
    [
        ("log(x)", -5, 5),  # NaN for x < 0
        ("sqrt(x)", -1, 1),
        ("1/x", -5, 4),  # 0 is not on the 1001-point grid of [-5, 4]; it is probed anyway
        ("1/(x-2)", -5, 5),
        ("tan(x)", -5, 5),  # tan(pi/2) is 1.6e16 in float64
        ("exp(x)", -1000, 1000),
        ("x**20", -1000, 1000),
    ],
)
def test_targets_not_finite_on_the_sample_range_are_refused(target, x_min, x_max):
    with pytest.raises(ConfigError) as info:
        Config(target=target, x_min=x_min, x_max=x_max)
    message = str(info.value)
    assert info.value.field == "target" and f"[{x_min:g}, {x_max:g}]" in message and len(message) <= 160


def test_one_over_x_is_caught_even_off_the_grid():
    assert 0.0 not in np.linspace(-5, 4, 1001)  # so a grid-only probe would miss the pole
    with pytest.raises(ConfigError, match="at x = 0"):
        Config(target="1/x", x_min=-5, x_max=4)


def _pole_at(x: float) -> str:
    """A target that is inf exactly at ``x`` and finite everywhere else on the range."""
    return f"1/(x-({float(x)!r}))"


@pytest.mark.parametrize("seed,samples,k", [(19, 100, 0), (19, 100, 57), (7, 100_000, 99_999), (2**40, 50, 3)])
def test_a_pole_exactly_on_a_training_sample_is_refused_by_the_config(seed, samples, k):
    # The engine's own samples (make_dataset of a harmless target): none lies on a probe point,
    # so only a check on these very values can see the pole.
    x = make_dataset(Config(seed=seed, samples=samples)).x[k]
    with pytest.raises(ConfigError) as info:
        Config(seed=seed, samples=samples, target=_pole_at(x))
    message = str(info.value)
    assert info.value.field == "target" and "training sample" in message and len(message) <= 160
    Config(seed=seed + 1, samples=samples, target=_pole_at(x))  # other samples: no pole on them


@pytest.mark.parametrize("k", [1, 50, 98])
def test_a_pole_exactly_on_the_evaluation_grid_is_refused_by_the_config(k):
    # Before, such a target trained to eval_loss null: the grid's point was never checked.
    x = make_dataset(Config(epochs=1)).x_eval.double().numpy()  # float32: not the grid itself
    grid = np.linspace(-5.0, 5.0, 100)
    assert x[k, 0] == np.float32(grid[k])
    with pytest.raises(ConfigError) as info:
        Config(target=_pole_at(grid[k]))
    assert info.value.field == "target" and "evaluation grid" in str(info.value)


def test_a_sweep_member_whose_samples_meet_the_pole_is_refused_before_training():
    from quadtui.core.sweep.runner import Sweep

    x = make_dataset(Config(seed=3)).x[10]
    base = Config(epochs=5, target=_pole_at(x))  # seed 19: fine
    with pytest.raises(ConfigError, match="training sample"):
        Sweep(base, "seed", [19, 3])


def test_view_range_may_leave_the_domain_without_breaking_anything():
    # Documented behaviour: only the sample range must be finite; outside it (the view) the
    # true function may be NaN, and the grid carries NaN there for charts to skip.
    config = Config(target="sqrt(x)", x_min=0, x_max=5, view_min=-5, view_max=5)
    data = make_dataset(config)
    outside = data.grid < 0
    assert np.isnan(data.grid_target[outside]).all()
    assert np.isfinite(data.grid_target[~outside]).all()
    assert np.isfinite(data.y).all()


def test_constant_parts_give_the_same_bits_as_array_parts():
    # numpy's scalar ** can differ from the element-wise one in the last bit; the evaluator uses
    # ufuncs throughout, so pi**e as a constant equals x**e at x = pi.
    assert expr.parse("pi**e")(np.zeros(1))[0] == expr.parse("x**e")(np.array([math.pi]))[0]
