"""Hyperparameters: one immutable, validated :class:`Config`.

Every field is described once in :data:`FIELDS` (kind, range, help).  The CLI,
the TUI form, TOML files and the tests all parse and check values through
:func:`parse_value` and :class:`Config`, so a bad value is always refused with
the same :class:`ConfigError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from quadtui.core import expr

T = TypeVar("T")

if TYPE_CHECKING:
    import numpy as np

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
    """A hyperparameter value is not allowed.  Names the field, the value and the rule.

    The message is one line of at most :data:`MESSAGE_LIMIT` characters: values
    are shown with control characters escaped and cut to :data:`SHOWN_LIMIT`.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        name = shorten(str(field), 24)
        room = MESSAGE_LIMIT - len(f"{name} =  is not allowed: {allowed}") - 2  # -2: the quotes
        value_text = shown(value, max(12, min(SHOWN_LIMIT, room)))
        super().__init__(shorten(f"{name} = {value_text} is not allowed: {allowed}", MESSAGE_LIMIT))


MESSAGE_LIMIT = 160
SHOWN_LIMIT = 32


def shorten(text: str, limit: int) -> str:
    """``text`` on one line (control characters escaped), cut to ``limit`` characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: Any, limit: int = SHOWN_LIMIT) -> str:
    """A value as an error message shows it: text quoted, one line, at most ``limit`` characters."""
    if isinstance(value, str):
        cut = value[: limit + 1]
        text = repr(cut if len(value) <= limit else cut[: limit - 4] + "...")
        return shorten(text, limit + 2)
    try:
        text = str(value)
    except Exception:  # a hostile __str__ must not turn a clear refusal into a traceback
        text = f"<{type(value).__name__}>"
    return shorten(text, limit)


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
            return BATCH_ALLOWED
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


BATCH_ALLOWED = "'full' or a whole number from 1 to samples"


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
            raise ConfigError("view_max", hi, f"a number greater than the view's lower end ({lo:g})")
        if self.batch_size is not None and self.batch_size > self.samples:
            raise ConfigError(
                "batch_size", self.batch_size, f"'full' or a whole number from 1 to {self.samples} (samples)"
            )
        object.__setattr__(self, "target", _check_target(self.target, self.x_min, self.x_max))
        _check_target_on_data(self.target, self.x_min, self.x_max, self.seed, self.samples)

    # -- derived -------------------------------------------------------------
    @property
    def view(self) -> tuple[float, float]:
        lo = self.x_min if self.view_min is None else self.view_min
        hi = self.x_max if self.view_max is None else self.view_max
        return lo, hi

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None or self.batch_size >= self.samples

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> dict[str, Any]:
        """The fields as ``--json`` prints them: a full batch is ``"full"``, as in the flags and TOML."""
        return {name: json_value(name, value) for name, value in self.to_dict().items()}

    def diff(self, other: Config) -> dict[str, Any]:
        """Fields whose value in ``self`` differs from ``other``."""
        return {k: v for k, v in self.to_dict().items() if getattr(other, k) != v}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: Config | None = None) -> Config:
        """Build a config from loosely typed values (strings from a form or a file).

        A rule between two fields (``x_min < x_max``, ``batch_size <= samples``)
        is reported on the field that was given, when only one of the pair was.
        """
        for key in values:
            if key not in FIELDS:
                raise ConfigError(str(key), values[key], _known_field_hint(str(key)))
        parsed = {k: parse_value(k, v) for k, v in values.items()}
        base = base or cls()
        try:
            return dataclasses.replace(base, **parsed)
        except ConfigError as exc:
            raise _blame_given(exc, values, {**base.to_dict(), **parsed}) from None


def json_value(name: str, value: Any) -> Any:
    """A field's value for JSON: ``batch_size`` None (the full batch) is ``"full"``, the word the flags use."""
    return "full" if name == "batch_size" and value is None else value


def _known_field_hint(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key.lower().replace("-", "_"), FIELDS, n=1, cutoff=0.6)
    if close:
        return f"a known field (did you mean {close[0]}?)"
    return "a known field such as lr, epochs, hidden, activation, target, x_min"


#: For each field a cross-field rule may blame: the fields on the other side of the rule.
_PARTNERS = {"x_max": ("x_min",), "view_max": ("view_min", "x_min"), "batch_size": ("samples",)}


def _blame_given(exc: ConfigError, given: Mapping[str, Any], merged: Mapping[str, Any]) -> ConfigError:
    """Re-word a cross-field error onto the field the user gave, if they gave only that side."""
    if exc.field in given:  # show the value as it was written
        return ConfigError(exc.field, given[exc.field], exc.allowed)
    for other in _PARTNERS.get(exc.field, ()):
        if other not in given:
            continue
        if exc.field == "view_max" and other == "x_min" and merged["view_min"] is not None:
            continue  # x_min is not the view's lower end when view_min is set
        if other == "samples":
            rule = f"a whole number from {merged['batch_size']} (batch_size) to {_fmt(FIELDS['samples'].hi)}"
        else:
            upper = merged["x_max"] if other == "x_min" else exc.value
            rule = f"a number less than {'x_max' if exc.field == 'x_max' else 'the view upper end'} ({upper:g})"
        return ConfigError(other, given[other], rule)
    return exc


def parse_value(name: str, raw: Any) -> Any:
    """Parse one field from text (or pass a typed value through) and check it."""
    if name not in FIELDS:
        raise ConfigError(str(name), raw, _known_field_hint(str(name)))
    return _check(name, FIELDS[name], raw)


def _check(name: str, spec: Spec, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if spec.optional and value.lower() in ("", "none", "default"):
            return None
    if value is None:
        if spec.optional:
            return None
        raise ConfigError(name, value, spec.allowed)
    kind = spec.kind
    if kind == "choice":
        text = value.lower().replace("-", "_") if isinstance(value, str) else None
        if text not in spec.choices:
            raise ConfigError(name, value, spec.allowed)
        return text
    if kind == "expr":
        return _parse_target(value).text
    if kind == "batch":
        if isinstance(value, str) and value.lower() in ("full", "all"):
            return None
        return _as_int(name, value, Spec("int", "", 1, None), allowed=spec.allowed)
    if kind == "int":
        return _as_int(name, value, spec)
    return _as_float(name, value, spec)


def _as_float(name: str, value: Any, spec: Spec) -> float:
    if isinstance(value, bool):
        raise ConfigError(name, value, spec.allowed)
    try:
        number = float(value)
    except Exception:  # not a number, whatever the object does: refused, never a traceback
        raise ConfigError(name, value, spec.allowed) from None
    if not math.isfinite(number) or not _in_range(number, spec):
        raise ConfigError(name, value, spec.allowed)
    return number + 0.0  # turns -0.0 into 0.0


def _as_int(name: str, value: Any, spec: Spec, allowed: str | None = None) -> int:
    """A whole number from an int, an integral float or text ("5000", "5e3", "5_000", "5000.0")."""
    allowed = allowed or spec.allowed
    if isinstance(value, bool):
        raise ConfigError(name, value, allowed)
    if isinstance(value, int):
        number = value
    else:
        try:  # Decimal: exact (a float would round "12345678901234567" to another seed)
            exact = Decimal(value if isinstance(value, str) else str(value))
        except Exception:
            raise ConfigError(name, value, allowed) from None
        # adjusted() is the decimal exponent: refuse 1e999999 before int() builds it
        if not exact.is_finite() or exact.adjusted() > 30 or exact != exact.to_integral_value():
            raise ConfigError(name, value, allowed)
        number = int(exact)
    if not _in_range(number, spec):
        raise ConfigError(name, value, allowed)
    return number


def _in_range(number: float, spec: Spec) -> bool:
    if spec.lo is not None and (number <= spec.lo if spec.lo_open else number < spec.lo):
        return False
    return spec.hi is None or number <= spec.hi


#: A target must stay finite and below this size on the whole sample range.
TARGET_LIMIT = 1e12  # shown as "1e+12"


def probe_points(x_min: float, x_max: float) -> np.ndarray:
    """Where a target is checked: a fine grid plus the points where poles usually sit
    (0, whole numbers, multiples of pi/2), so ``1/x`` or ``tan(x)`` on any range is caught."""
    import numpy as np

    specials: list[np.ndarray] = [np.arange(math.ceil(x_min), math.floor(x_max) + 1, dtype=np.float64)]
    half_pi = math.pi / 2
    specials.append(np.arange(math.ceil(x_min / half_pi), math.floor(x_max / half_pi) + 1) * half_pi)
    points = np.concatenate([np.linspace(x_min, x_max, 1001), *specials])
    return points[(points >= x_min) & (points <= x_max)]


def _parse_target(text: Any) -> expr.Expression:
    try:
        return expr.parse(text)
    except expr.ExpressionError as exc:
        raise ConfigError("target", text, f"{expr.ALLOWED_TEXT} ({exc})") from None


def _check_target(text: Any, x_min: float, x_max: float) -> str:
    if not isinstance(text, str):
        raise ConfigError("target", text, f"{expr.ALLOWED_TEXT} (must be text)")
    return _check_target_text(text, x_min, x_max)  # a sweep makes many configs of one target: checked once


@functools.lru_cache(maxsize=64)
def _check_target_text(text: str, x_min: float, x_max: float) -> str:
    parsed = _parse_target(text)
    _refuse_non_finite(parsed, probe_points(x_min, x_max), x_min, x_max, "")
    return parsed.text


@functools.lru_cache(maxsize=256)
def _check_target_on_data(text: str, x_min: float, x_max: float, seed: int, samples: int) -> None:
    """Refuse a target that is not finite at one of the run's own points.

    ``probe_points`` catch the usual poles on any range; a pole can still sit
    exactly on a training sample or on the evaluation grid (``1/(x-c)`` with
    ``c`` one of them), so those are checked too: the very float64 values the
    engine uses (the same functions draw them), about a millisecond for 100,000
    samples, and cached like the rest.
    """
    from quadtui.core.samples import eval_x, random_state, training_x

    parsed = _parse_target(text)
    _refuse_non_finite(
        parsed, training_x(random_state(seed), x_min, x_max, samples), x_min, x_max, "the training sample "
    )
    _refuse_non_finite(parsed, eval_x(x_min, x_max), x_min, x_max, "the evaluation grid's ")


def _refuse_non_finite(parsed: expr.Expression, x: np.ndarray, x_min: float, x_max: float, what: str) -> None:
    import numpy as np

    y = parsed(x)
    bad = ~np.isfinite(y) | (np.abs(y) > TARGET_LIMIT)
    if bad.any():
        where = int(np.argmax(bad))
        raise ConfigError(
            "target",
            parsed.text,
            f"a function finite and within ±{TARGET_LIMIT:.0e} for x in [{x_min:g}, {x_max:g}]"
            f" (it is {y[where]:.3g} at {what}x = {x[where]:.6g})",
        )


def built_once(configs: Sequence[Config], key: Callable[[Config], Hashable], build: Callable[[Config], T]) -> list[T]:
    """``build(c)`` for each config, called once per distinct ``key(c)``: equal keys share the result."""
    built: dict[Hashable, T] = {}
    for config in configs:
        if key(config) not in built:
            built[key(config)] = build(config)
    return [built[key(c)] for c in configs]


DEFAULT = Config()
