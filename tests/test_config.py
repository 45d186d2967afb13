from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quadtui.core.config import FIELDS, Config, ConfigError, parse_value


@pytest.mark.parametrize(
    "field,value",
    [
        ("lr", "0"), ("lr", "-1"), ("lr", "nan"), ("lr", "inf"), ("lr", "10.5"), ("lr", ""),
        ("epochs", "0"), ("epochs", "1e99"), ("epochs", "2.5"), ("epochs", "10000001"),
        ("hidden", "0"), ("hidden", "257"), ("layers", "5"), ("activation", "foo"),
        ("optimizer", "lbfgs"), ("samples", "1"), ("seed", "-1"), ("noise", "-0.1"),
        ("weight_decay", "2"), ("momentum", "1"), ("target", "__import__('os')"), ("x_min", "nan"),
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
    with pytest.raises(Exception):
        Config().lr = 1.0  # type: ignore[misc]


def test_good_text_values_parse():
    c = Config.from_mapping({"lr": " 0.05 ", "epochs": "5e3", "activation": "Leaky-ReLU", "batch_size": "full",
                             "target": "x^3", "seed": "1_000"})
    assert (c.lr, c.epochs, c.activation, c.batch_size, c.target, c.seed) == (0.05, 5000, "leaky_relu", None, "x**3", 1000)


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
