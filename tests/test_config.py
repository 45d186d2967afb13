from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quadtui.core.config import FIELDS, Config, ConfigError, parse_value
from quadtui.core.expr import PRESETS


@pytest.mark.parametrize(
    "field,value",
    [
        ("lr", "0"),
        ("lr", "-1"),
        ("lr", "nan"),
        ("lr", "inf"),
        ("lr", "10.5"),
        ("lr", ""),
        ("epochs", "0"),
        ("epochs", "1e99"),
        ("epochs", "2.5"),
        ("epochs", "10000001"),
        ("hidden", "0"),
        ("hidden", "257"),
        ("layers", "5"),
        ("activation", "foo"),
        ("optimizer", "lbfgs"),
        ("samples", "1"),
        ("seed", "-1"),
        ("noise", "-0.1"),
        ("weight_decay", "2"),
        ("momentum", "1"),
        ("target", "__import__('os')"),
        ("x_min", "nan"),
    ],
)
def test_bad_values_name_the_field(field, value):
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({field: value})
    assert info.value.field == field
    assert field in str(info.value) and info.value.allowed in str(info.value)


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="batch_size"):
        Config(batch_size=1000)
    with pytest.raises(ConfigError, match="x_max"):
        Config(x_min=3, x_max=1)
    with pytest.raises(ConfigError, match="target"):
        Config(target="log(x)")  # -inf at 0, inside [-5, 5]
    assert Config(target="log(x)", x_min=1, x_max=5).target == "log(x)"


def test_config_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().lr = 1.0  # type: ignore[misc]


def test_good_text_values_parse():
    c = Config.from_mapping(
        {
            "lr": " 0.05 ",
            "epochs": "5e3",
            "activation": "Leaky-ReLU",
            "batch_size": "full",
            "target": "x^3",
            "seed": "1_000",
        }
    )
    got = (c.lr, c.epochs, c.activation, c.batch_size, c.target, c.seed)
    assert got == (0.05, 5000, "leaky_relu", None, "x**3", 1000)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FIELDS)), st.one_of(st.text(max_size=60), st.floats(), st.integers(-(10**30), 10**30)))
def test_any_value_is_accepted_in_range_or_refused_clearly(field, value):
    try:
        parsed = parse_value(field, value)
    except ConfigError as exc:
        assert exc.field == field and exc.allowed
        return
    spec = FIELDS[field]
    if spec.kind in ("int", "float") and parsed is not None:
        assert math.isfinite(parsed)
        assert spec.lo is None or parsed >= spec.lo
        assert spec.hi is None or parsed <= spec.hi


# -- boundaries, straight from FIELDS ------------------------------------------------------------
NUMERIC = [(name, spec) for name, spec in FIELDS.items() if spec.kind in ("int", "float")]


def _below(spec, value):
    return value - 1 if spec.kind == "int" else math.nextafter(value, -math.inf)


def _above(spec, value):
    return value + 1 if spec.kind == "int" else math.nextafter(value, math.inf)


def _valid_partner_fields(name, value):
    """Other fields set so that no cross-field rule refuses ``value`` (None: no such setting)."""
    pairs = {"x_min": ("x_max", 1), "x_max": ("x_min", -1), "view_min": ("view_max", 1), "view_max": ("view_min", -1)}
    if name not in pairs:
        return {}
    other, side = pairs[name]
    limit = FIELDS[other].hi if side > 0 else FIELDS[other].lo
    return {other: limit} if (limit - value) * side > 0 else None


@pytest.mark.parametrize("name,spec", NUMERIC, ids=[n for n, _ in NUMERIC])
def test_each_numeric_field_accepts_its_bounds_and_refuses_beyond(name, spec):
    for inside in ([] if spec.lo_open else [spec.lo]) + ([] if spec.hi is None else [spec.hi]):
        assert parse_value(name, str(inside)) == inside
        partners = _valid_partner_fields(name, inside)
        if partners is not None:
            assert getattr(Config.from_mapping({name: str(inside), **partners}), name) == inside
    outside = [_below(spec, spec.lo)] if not spec.lo_open else [spec.lo]
    if spec.hi is not None:
        outside.append(_above(spec, spec.hi))
    for value in outside:
        with pytest.raises(ConfigError) as info:
            parse_value(name, repr(value) if spec.kind == "float" else str(value))
        assert info.value.field == name and info.value.allowed == spec.allowed
    if spec.lo_open:  # just above an open lower bound is fine
        assert parse_value(name, repr(_above(spec, spec.lo))) == _above(spec, spec.lo)


@pytest.mark.parametrize("name", [n for n, s in FIELDS.items() if s.optional])
def test_optional_fields_take_empty_or_none_for_the_default(name):
    for text in ("", "  ", "none", "None", "default"):
        assert parse_value(name, text) is None
    assert parse_value(name, None) is None


@pytest.mark.parametrize("name", [n for n, s in FIELDS.items() if not s.optional])
def test_required_fields_refuse_empty(name):
    for value in ("", "  ", None):
        with pytest.raises(ConfigError) as info:
            parse_value(name, value)
        assert info.value.field == name


@pytest.mark.parametrize("name", [n for n, s in FIELDS.items() if s.kind == "choice"])
def test_choices_accept_each_choice_in_any_case_and_refuse_others(name):
    for choice in FIELDS[name].choices:
        assert parse_value(name, choice.upper().replace("_", "-")) == choice
    for bad in ("", "foo", "relu6", 1, None, ["relu"]):
        with pytest.raises(ConfigError) as info:
            parse_value(name, bad)
        assert info.value.allowed == FIELDS[name].allowed


def test_batch_size_bounds():
    assert parse_value("batch_size", "full") is None and parse_value("batch_size", "ALL") is None
    assert Config(batch_size=1).batch_size == 1
    assert Config(samples=50, batch_size=50).batch_size == 50
    for bad in ("0", "-1", "2.5", "nan", "many"):
        with pytest.raises(ConfigError) as info:
            parse_value("batch_size", bad)
        assert info.value.allowed == FIELDS["batch_size"].allowed
    with pytest.raises(ConfigError, match=r"from 1 to 50 \(samples\)"):
        Config(samples=50, batch_size=51)


# -- whole numbers and numbers as people write them ---------------------------------------------
@pytest.mark.parametrize(
    "text,value",
    [
        ("5000", 5000),
        ("5e3", 5000),
        ("5_000", 5000),
        ("5000.0", 5000),
        ("+5000", 5000),
        (" 5000 ", 5000),
        ("٥٠٠٠", 5000),
    ],  # Python reads any Unicode decimal digits, as float() and int() do
)
def test_whole_numbers_as_people_write_them(text, value):
    assert parse_value("epochs", text) == value


@pytest.mark.parametrize("text", ["12345678901234567", "12345678901234567.0", "1.2345678901234567e16"])
def test_whole_numbers_are_exact_beyond_float_precision(text):
    assert float(text) != 12345678901234567  # a float would silently pick another seed
    assert parse_value("seed", text) == 12345678901234567


@pytest.mark.parametrize("text", ["1e999999999", "9" * 10_000, "1e-999999999", "0x10", "5e-1", "inf", "-nan", "1 000"])
def test_odd_whole_numbers_are_refused_fast(text):
    with pytest.raises(ConfigError):
        parse_value("seed", text)


def test_negative_zero_becomes_zero():
    for name in ("noise", "weight_decay", "x_min", "momentum"):
        value = parse_value(name, "-0")
        assert value == 0 and math.copysign(1, value) == 1


# -- cross-field rules --------------------------------------------------------------------------
def test_x_range_must_be_increasing():
    for lo, hi in ((1, 1), (3, 1)):
        with pytest.raises(ConfigError) as info:
            Config(x_min=lo, x_max=hi)
        assert info.value.field == "x_max"
    assert Config(x_min=-1000, x_max=1000).view == (-1000, 1000)


def test_view_range_must_be_increasing_with_defaults_from_the_sample_range():
    assert Config(view_min=-10).view == (-10, 5)
    with pytest.raises(ConfigError, match="view_max"):
        Config(view_max=-5)  # the view's lower end defaults to x_min = -5
    with pytest.raises(ConfigError, match="view_max"):
        Config(view_min=2, view_max=1)


@pytest.mark.parametrize(
    "given,base,field",
    [
        ({"x_min": "7"}, Config(), "x_min"),
        ({"x_max": "-7"}, Config(), "x_max"),
        ({"view_min": "6"}, Config(), "view_min"),
        ({"x_min": "4"}, Config(view_max=3), "x_min"),
        ({"samples": "10"}, Config(batch_size=32), "samples"),
        ({"batch_size": "1000"}, Config(), "batch_size"),
        ({"x_min": "7", "x_max": "6"}, Config(), "x_max"),
        ({"view_min": "0", "x_min": "5"}, Config(), "x_min"),  # found by test_hostile_cli
    ],
)
def test_cross_field_errors_name_a_field_that_was_given(given, base, field):
    with pytest.raises(ConfigError) as info:
        Config.from_mapping(given, base=base)
    assert info.value.field == field and info.value.field in given
    assert info.value.value == given[field]


def test_unknown_fields_are_refused_with_a_suggestion():
    with pytest.raises(ConfigError, match="did you mean epochs"):
        Config.from_mapping({"epcohs": "5"})
    with pytest.raises(ConfigError, match="a known field") as info:
        Config.from_mapping({"x" * 10_000: "5"})
    assert len(str(info.value)) <= 160
    with pytest.raises(ConfigError):
        parse_value("nope", "1")


# -- round trips --------------------------------------------------------------------------------
def _number(name):
    spec = FIELDS[name]
    if spec.kind == "int":
        return st.integers(int(spec.lo), int(spec.hi))
    return st.floats(spec.lo, spec.hi, exclude_min=spec.lo_open, allow_nan=False)


@st.composite
def configs(draw):
    values = {
        name: draw(_number(name))
        for name in ("lr", "epochs", "hidden", "layers", "momentum", "samples", "noise", "weight_decay", "seed")
    }
    for name in ("activation", "optimizer"):
        values[name] = draw(st.sampled_from(FIELDS[name].choices))
    values["batch_size"] = draw(st.none() | st.integers(1, values["samples"]))
    values["target"] = draw(st.sampled_from(sorted(set(PRESETS) | {"x**2 + 0.5*sin(3*x)"})))
    x = sorted(draw(st.lists(st.floats(-1000, 1000), min_size=2, max_size=2, unique=True)))
    values["x_min"], values["x_max"] = x
    if draw(st.booleans()):
        values["view_min"], values["view_max"] = sorted(
            draw(st.lists(st.floats(-1000, 1000), min_size=2, max_size=2, unique=True))
        )
    return Config(**values)


def _as_text(value):
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


@settings(max_examples=200, deadline=None)
@given(configs())
def test_config_round_trips_through_text(config):
    text = {name: _as_text(value) for name, value in config.to_dict().items()}
    assert all(isinstance(v, str) for v in text.values())
    assert Config.from_mapping(text) == config
    assert Config.from_mapping({k: str(v) for k, v in config.to_dict().items()}) == config  # "None" too
    assert Config(**config.to_dict()) == config
    assert config.diff(Config.from_mapping(text)) == {}


# -- messages: one short line whatever the value ------------------------------------------------
class _Hostile:
    def __str__(self):
        raise RuntimeError("no")


HOSTILE_VALUES = st.one_of(
    st.text(max_size=60),
    st.text(min_size=1, max_size=10).map(lambda t: (t * 10_000)[:10_000]),  # 10,000 characters
    st.text(alphabet="0123456789eE+-._ ", max_size=40),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "-0",
            "1e999",
            "5e3",
            "1_000",
            "+5",
            "٣",
            "\x00",
            "1\n2",
            "\x1b[31m",
            " ",
            "",
            "9" * 10_000,
            "full",
            "none",
        ]
    ),
    st.floats(),
    st.integers(-(10**400), 10**400),
    st.booleans(),
    st.none(),
    st.just(_Hostile()),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(FIELDS)), HOSTILE_VALUES)
def test_every_field_takes_hostile_values_in_range_or_refuses_in_one_line(field, value):
    try:
        config = Config.from_mapping({field: value})
    except ConfigError as exc:
        message = str(exc)
        assert exc.field == field and message.startswith(f"{field} = ")
        assert len(message) <= 160 and message.isprintable()
        return
    parsed = getattr(config, field)
    spec = FIELDS[field]
    if spec.kind in ("int", "float") and parsed is not None:
        assert type(parsed) is (int if spec.kind == "int" else float)
        assert math.isfinite(parsed) and _in_spec(parsed, spec)


def _in_spec(value, spec):
    low_ok = value > spec.lo if spec.lo_open else value >= spec.lo
    return low_ok and value <= spec.hi


def test_target_error_names_the_reason_once():
    with pytest.raises(ConfigError) as info:
        Config(target="foo(x)")
    message = str(info.value)
    assert "unknown function 'foo'" in message
    assert message.count("sqrt") == 1 and len(message) <= 160


def test_built_once_builds_one_result_per_distinct_key_and_shares_it():
    from quadtui.core.config import built_once

    configs = [Config(lr=lr, hidden=h) for h in (4, 8) for lr in (0.01, 0.02, 0.03)]
    calls = []
    built = built_once(configs, lambda c: c.hidden, lambda c: calls.append(c) or object())
    assert [c.hidden for c in calls] == [4, 8]
    assert built[0] is built[1] is built[2] and built[3] is built[4] is built[5] and built[0] is not built[3]
