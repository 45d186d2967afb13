"""Parsing a sweep: ``"hidden=1,2,4,8"``, ``"lr=0.001:0.1:5"``, ``"activation=relu,tanh"``.

Every value goes through :class:`Config`, so a bad one is refused with the same
:class:`ConfigError` (field, value, what is allowed) as anywhere else.  No torch here.
"""

from __future__ import annotations

import math
from typing import Any

from quadtui.core.config import FIELDS, Config, ConfigError

MAX_MEMBERS = 64
SPEC_HELP = "NAME=V1,V2,... or NAME=START:STOP:COUNT (log-spaced for positive numbers), at most 64 values"


def parse_sweep_spec(spec: str, base: Config) -> tuple[str, list[Any]]:
    """``(field, values)`` for a sweep spec; each value checked as ``base.replace(field=value)``."""
    text = spec.strip()
    name, sep, rhs = text.partition("=")
    name = name.strip().lower().replace("-", "_")
    if not sep or not name or not rhs.strip():
        raise ConfigError("sweep", spec, SPEC_HELP)
    if name not in FIELDS:
        raise ConfigError("sweep", name, "a field to sweep: " + ", ".join(FIELDS))
    rhs = rhs.strip()
    raw: list[Any] = _range(name, rhs) if ":" in rhs else [p.strip() for p in rhs.split(",")]
    if any(r == "" for r in raw):
        raise ConfigError(name, rhs, "values separated by commas, none empty")
    if len(raw) > MAX_MEMBERS:
        raise ConfigError("sweep", f"{len(raw)} values", f"at most {MAX_MEMBERS} values")
    values: list[Any] = []
    for item in raw:
        config = Config.from_mapping({name: item}, base=base)  # checks the value and its neighbours
        value = getattr(config, name)
        if value in values:
            raise ConfigError(name, item, "each value once (this one is repeated)")
        values.append(value)
    return name, values


def _range(name: str, rhs: str) -> list[float]:
    kind = FIELDS[name].kind
    parts = [p.strip() for p in rhs.split(":")]
    if len(parts) != 3 or kind not in ("int", "float"):
        allowed = "START:STOP:COUNT" if kind in ("int", "float") else "values separated by commas"
        raise ConfigError(name, rhs, allowed)
    try:
        start, stop = float(parts[0]), float(parts[1])
        count = int(parts[2])
    except ValueError:
        raise ConfigError(name, rhs, "START:STOP:COUNT with numbers START, STOP and a whole COUNT") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ConfigError(name, rhs, "finite START and STOP")
    if not 2 <= count <= MAX_MEMBERS:
        raise ConfigError(name, rhs, f"a COUNT from 2 to {MAX_MEMBERS}")
    if start > 0 and stop > 0:  # log-spaced: the natural scale for rates and sizes
        ratio = math.log(stop / start) / (count - 1)
        points = [start * math.exp(ratio * i) for i in range(count)]
    else:
        points = [start + (stop - start) * i / (count - 1) for i in range(count)]
    points[0], points[-1] = start, stop
    if kind == "int":
        rounded: list[float] = []
        for p in points:
            if round(p) not in rounded:
                rounded.append(round(p))
        return rounded
    return [float(f"{p:.6g}") for p in points]
