"""Hyperparameters: one immutable, validated :class:`Config`.

Every field is described once in :data:`FIELDS` (kind, range, help).  The CLI,
the TUI form, TOML files and the tests all parse and check values through
:func:`parse_value` and :class:`Config`, so a bad value is always refused with
the same :class:`ConfigError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from quadtui.core import expr

ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "softplus",
    "identity",
)
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
MAX_SEED = 2**63 - 1
X_LIMIT = 1000.0


class ConfigError(ValueError):
    """A hyperparameter value is not allowed.  Names the field, the value and the rule."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value) if isinstance(value, str) else str(value)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        super().__init__(f"{field} = {shown} is not allowed: {allowed}")


@dataclass(frozen=True)
class Spec:
    """How one field is parsed and checked."""

    kind: str  # "int" | "float" | "choice" | "expr" | "batch"
    help: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False  # None is allowed (and means "use the default rule")

    @property
    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "expr":
            return expr.ALLOWED_TEXT
        if self.kind == "batch":
            return "'full' or a whole number from 1 to samples"
        noun = "a whole number" if self.kind == "int" else "a number"
        lo = _fmt(self.lo)
        hi = "any size" if self.hi is None else _fmt(self.hi)
        if self.lo_open:
            rule = f"{noun} > {lo} and <= {hi}"
        elif self.hi is None:
            rule = f"{noun} >= {lo}"
        else:
            rule = f"{noun} from {lo} to {hi}"
        return rule + (" (or empty for the default)" if self.optional else "")


def _fmt(v: float | None) -> str:
    if v is None:
        return "?"
    if isinstance(v, int):
        return f"{v:_}" if abs(v) >= 100_000 else str(v)
    return f"{v:g}"


FIELDS: dict[str, Spec] = {
    "lr": Spec("float", "learning rate", 0.0, 10.0, lo_open=True),
    "epochs": Spec("int", "epochs (full passes over the samples)", 1, 10_000_000),
    "hidden": Spec("int", "hidden units per layer", 1, 256),
    "layers": Spec("int", "hidden layers", 1, 4),
    "activation": Spec("choice", "activation of the hidden units", choices=ACTIVATIONS),
    "optimizer": Spec("choice", "optimizer", choices=OPTIMIZERS),
    "momentum": Spec("float", "momentum of the 'momentum' optimizer", 0.0, 0.999),
    "batch_size": Spec("batch", "samples per step; 'full' = all of them", optional=True),
    "samples": Spec("int", "training samples", 2, 100_000),
    "noise": Spec("float", "σ of Gaussian noise added to the targets", 0.0, 1000.0),
    "weight_decay": Spec("float", "L2 weight decay", 0.0, 1.0),
    "seed": Spec("int", "random seed (data and initial weights)", 0, MAX_SEED),
    "target": Spec("expr", "target function of x, or a preset: " + ", ".join(expr.PRESETS)),
    "x_min": Spec("float", "lower end of the sample range", -X_LIMIT, X_LIMIT),
    "x_max": Spec("float", "upper end of the sample range", -X_LIMIT, X_LIMIT),
    "view_min": Spec("float", "lower end of the charts' x range", -X_LIMIT, X_LIMIT, optional=True),
    "view_max": Spec("float", "upper end of the charts' x range", -X_LIMIT, X_LIMIT, optional=True),
}


@dataclass(frozen=True)
class Config:
    """The hyperparameters of one run.  Defaults are the notebook's."""

    lr: float = 0.02
    epochs: int = 5000
    hidden: int = 8
    layers: int = 1
    activation: str = "relu"
    optimizer: str = "sgd"
    momentum: float = 0.9
    batch_size: int | None = None
    samples: int = 100
    noise: float = 0.0
    weight_decay: float = 0.0
    seed: int = 19
    target: str = "x**2"
    x_min: float = -5.0
    x_max: float = 5.0
    view_min: float | None = None
    view_max: float | None = None

    def __post_init__(self) -> None:
        for name, spec in FIELDS.items():
            value = getattr(self, name)
            object.__setattr__(self, name, _check(name, spec, value))
        if self.x_min >= self.x_max:
            raise ConfigError("x_max", self.x_max, f"a number greater than x_min ({self.x_min:g})")
        lo, hi = self.view
        if lo >= hi:
            raise ConfigError("view_max", hi, f"a number greater than view_min ({lo:g})")
        if self.batch_size is not None and self.batch_size > self.samples:
            raise ConfigError(
                "batch_size", self.batch_size, f"'full' or a whole number from 1 to samples ({self.samples})"
            )
        object.__setattr__(self, "target", _check_target(self.target, self.x_min, self.x_max))

    # -- derived -------------------------------------------------------------
    @property
    def view(self) -> tuple[float, float]:
        lo = self.x_min if self.view_min is None else self.view_min
        hi = self.x_max if self.view_max is None else self.view_max
        return lo, hi

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None or self.batch_size >= self.samples

    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def diff(self, other: "Config") -> dict[str, Any]:
        """Fields whose value in ``self`` differs from ``other``."""
        return {k: v for k, v in self.to_dict().items() if getattr(other, k) != v}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: "Config | None" = None) -> "Config":
        """Build a config from loosely typed values (strings from a form or a file)."""
        unknown = [k for k in values if k not in FIELDS]
        if unknown:
            raise ConfigError(unknown[0], values[unknown[0]], "a known field: " + ", ".join(FIELDS))
        parsed = {k: parse_value(k, v) for k, v in values.items()}
        return dataclasses.replace(base or cls(), **parsed)



def parse_value(name: str, raw: Any) -> Any:
    """Parse one field from text (or pass a typed value through) and check it."""
    spec = FIELDS[name]
    return _check(name, spec, raw)


def _check(name: str, spec: Spec, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value == "" and spec.optional:
            return None
    if value is None:
        if spec.optional:
            return None
        raise ConfigError(name, value, spec.allowed)
    kind = spec.kind
    if kind == "choice":
        text = str(value).strip().lower().replace("-", "_")
        if text not in spec.choices:
            raise ConfigError(name, value, spec.allowed)
        return text
    if kind == "expr":
        if not isinstance(value, str):
            raise ConfigError(name, value, spec.allowed)
        return expr.normalize(value)
    if kind == "batch":
        if isinstance(value, str) and value.lower() in ("full", "all", "none"):
            return None
        number = _as_int(name, value, Spec("int", "", 1, None))
        return number
    if kind == "int":
        return _as_int(name, value, spec)
    return _as_float(name, value, spec)


def _as_float(name: str, value: Any, spec: Spec) -> float:
    if isinstance(value, bool):
        raise ConfigError(name, value, spec.allowed)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(name, value, spec.allowed) from None
    if not math.isfinite(number) or not _in_range(number, spec):
        raise ConfigError(name, value, spec.allowed)
    return number + 0.0  # turns -0.0 into 0.0


def _as_int(name: str, value: Any, spec: Spec) -> int:
    if isinstance(value, bool):
        raise ConfigError(name, value, spec.allowed)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().replace("_", "")
        try:
            number = int(text)
        except (TypeError, ValueError):
            try:  # "5e3" is a fine way to write 5000
                as_float = float(text)
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(name, value, spec.allowed) from None
            if not math.isfinite(as_float) or not as_float.is_integer() or abs(as_float) > 2**63:
                raise ConfigError(name, value, spec.allowed) from None
            number = int(as_float)
    if not _in_range(number, spec):
        raise ConfigError(name, value, spec.allowed)
    return number


def _in_range(number: float, spec: Spec) -> bool:
    if spec.lo is not None and (number <= spec.lo if spec.lo_open else number < spec.lo):
        return False
    return spec.hi is None or number <= spec.hi


def _check_target(text: str, x_min: float, x_max: float) -> str:
    import numpy as np

    try:
        parsed = expr.parse(text)
    except expr.ExpressionError as exc:
        raise ConfigError("target", text, f"{exc}; allowed: {expr.ALLOWED_TEXT}") from None
    probe = parsed(np.linspace(x_min, x_max, 1001))
    if not np.all(np.isfinite(probe)) or np.max(np.abs(probe)) > 1e12:
        raise ConfigError(
            "target", text, f"a function that stays finite (and below 1e12) for x in [{x_min:g}, {x_max:g}]"
        )
    return parsed.text


DEFAULT = Config()
