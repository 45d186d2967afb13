"""A weight set by hand: a unit's parameters, a typed value checked, and the record a run keeps.

In the network view a learner selects a unit and types new values for its incoming
weights, its bias and its outgoing weights (TensorFlow Playground's "click a weight").
The run takes them at its next epoch boundary (:meth:`Engine.set_weights`) and keeps a
:class:`WeightEdit` per parameter changed, like a learning-rate change: the exported
``train.py`` sets the same parameters before the same epoch, so it still ends on the
run's final loss.  Parameters are named as in ``train.py``'s ``nn.Sequential``
(``model.state_dict()``: ``"0.weight"``, ``"0.bias"``, ``"2.weight"`` …), with an index.

No torch here: the UI process builds and checks edits without it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from quadtui.core.config import ConfigError

#: a weight typed by hand is a number in [-LIMIT, LIMIT] (the trained ones are about ±3)
LIMIT = 1000.0
ALLOWED = f"a number from {-LIMIT:g} to {LIMIT:g}"

#: (parameter name, index, new value): what the UI asks the run to set
Change = tuple[str, tuple[int, ...], float]


@dataclasses.dataclass(frozen=True)
class WeightEdit:
    """One parameter set by hand: ``epoch`` epochs had run (it applies before the update of
    epoch ``epoch + 1``, as ``loss.csv`` numbers them), ``old`` was its value, ``new`` the one typed."""

    epoch: int
    name: str  # in train.py's model.state_dict(): "0.weight"
    index: tuple[int, ...]
    old: float
    new: float

    @property
    def parameter(self) -> str:
        """``0.weight[3, 0]``: the parameter as train.py's model names it."""
        return f"{self.name}[{', '.join(map(str, self.index))}]"


@dataclasses.dataclass(frozen=True)
class UnitParameter:
    """One parameter of a unit, as the hand-edit dialog lists it."""

    label: str  # "weight from x", "bias", "weight to ŷ", "weight from l1_h3"
    name: str
    index: tuple[int, ...]


def module_name(linear: int, kind: str) -> str:
    """The state_dict name of linear layer ``linear``'s (0-based) ``kind`` ("weight"/"bias"):
    in ``nn.Sequential(Linear, act, Linear, act, …, Linear)`` it is module ``2 * linear``."""
    return f"{2 * linear}.{kind}"


def unit_parameters(shapes: Sequence[tuple[int, ...]], layer: int, unit: int) -> list[UnitParameter]:
    """The parameters of hidden ``layer``'s ``unit`` (layer 1-based; one past the last hidden layer is
    the output unit) in a net whose parameters (weight, bias per linear layer) have ``shapes``:
    its incoming weights, its bias, then its outgoing weights."""
    hidden = len(shapes) // 2 - 1
    if not 1 <= layer <= hidden + 1:
        raise ValueError(f"no layer {layer} (the net has {hidden} hidden layers)")
    fan_in = shapes[2 * (layer - 1)][1]
    if not 0 <= unit < shapes[2 * (layer - 1)][0]:
        raise ValueError(f"no unit {unit} in layer {layer}")

    def unit_name(n: int, j: int) -> str:
        return f"h{j}" if hidden == 1 else f"l{n}_h{j}"

    out = [
        UnitParameter(
            "weight from x" if layer == 1 else f"weight from {unit_name(layer - 1, j)}",
            module_name(layer - 1, "weight"),
            (unit, j),
        )
        for j in range(fan_in)
    ]
    out.append(UnitParameter("bias", module_name(layer - 1, "bias"), (unit,)))
    if layer <= hidden:
        fan_out = shapes[2 * layer][0]
        out += [
            UnitParameter(
                "weight to ŷ" if layer == hidden else f"weight to {unit_name(layer + 1, k)}",
                module_name(layer, "weight"),
                (k, unit),
            )
            for k in range(fan_out)
        ]
    return out


def parse_weight(label: str, text: str) -> float:
    """The number typed for ``label``, or :class:`ConfigError` in one line naming it and what is allowed."""
    raw = text.strip()
    if "," in raw and "." not in raw:
        raise ConfigError(label, text, f"use a dot: {raw.replace(',', '.')}")
    try:
        number = float(raw)
    except ValueError:
        raise ConfigError(label, text, ALLOWED) from None
    if not math.isfinite(number) or abs(number) > LIMIT:
        raise ConfigError(label, text, ALLOWED)
    return number + 0.0  # -0.0 is 0.0


def parameter_of(params: Sequence[Any], name: str, index: tuple[int, ...]) -> Any:
    """The tensor (or array) among ``params`` (weight, bias per linear layer) that ``name`` is, after
    checking that ``index`` is in it; ValueError names what is wrong."""
    module, _, kind = name.partition(".")
    if not module.isdigit() or int(module) % 2 or kind not in ("weight", "bias"):
        raise ValueError(f"{name} is no parameter of the network")
    position = int(module) + (kind == "bias")
    if position >= len(params):
        raise ValueError(f"{name} is no parameter of the network")
    param = params[position]
    shape = tuple(param.shape)
    if len(index) != len(shape) or not all(0 <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"{name}{list(index)} is outside its shape {list(shape)}")
    return param


def apply_edits(params: Sequence[Any], changes: Sequence[Change], epoch: int) -> tuple[WeightEdit, ...]:
    """Set each change in ``params`` (the engine's tensors, float32: the value is rounded as
    ``train.py``'s assignment rounds it) and return the records (a value unchanged is not one)."""
    done = []
    for name, index, new in changes:
        new = parse_weight(f"{name}{list(index)}", repr(float(new)))
        param = parameter_of(params, name, tuple(index))
        old = float(param[index])
        param[index] = new
        if float(param[index]) != old:
            done.append(WeightEdit(epoch, name, tuple(index), old, new))
    return tuple(done)
