"""Two-setting sweeps: one run per pair of values (``lr`` × ``hidden``), trained as one sweep.

The notebook asks about the learning rate and the hidden units one at a time; the
interesting answer is how they interact.  :class:`GridSweep` is a
:class:`~quadtui.core.sweep.Sweep` whose members are the grid's pairs, so the same
batching applies (an lr × hidden grid of the default run is one wide batched model)
and every member is bit for bit its single run.  The grid has at most
:data:`~quadtui.core.sweep.spec.MAX_MEMBERS` members (8 × 8).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quadtui.core.config import Config, ConfigError, json_value
from quadtui.core.sweep.spec import MAX_MEMBERS, parse_sweep_spec

GRID_HELP = f"two different settings, at most {MAX_MEMBERS} runs in all (e.g. 8 × 8)"


def parse_grid_specs(specs: Sequence[str], base: Config) -> tuple[list[str], list[list[Any]]]:
    """``([field, field], [values, values])`` for two sweep specs; ConfigError naming what is wrong."""
    if len(specs) != 2:
        raise ConfigError("sweep", f"{len(specs)} sweeps", "one or two --sweep")
    parsed = [parse_sweep_spec(spec, base) for spec in specs]
    params = [p for p, _ in parsed]
    if params[0] == params[1]:
        raise ConfigError("sweep", f"{params[0]} twice", GRID_HELP)
    values = [v for _, v in parsed]
    count = len(values[0]) * len(values[1])
    if count > MAX_MEMBERS:
        raise ConfigError("sweep", f"{len(values[0])} × {len(values[1])} = {count} runs", GRID_HELP)
    pairs = grid_pairs(values)
    for pair in pairs:  # each pair must make a valid config together (e.g. batch_size <= samples)
        Config.from_mapping(dict(zip(params, pair)), base=base)
    return params, values


def grid_pairs(values: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The grid row by row: the first setting's values down, the second's across."""
    return list(itertools.product(*values))


def grid_configs(base: Config, params: Sequence[str], values: Sequence[Sequence[Any]]) -> list[Config]:
    return [base.replace(**dict(zip(params, pair))) for pair in grid_pairs(values)]


def grid_estimate(base: Config, params: Sequence[str], values: Sequence[Sequence[Any]]) -> Any:
    """The memory and time the grid needs (quadtui.core.budget's estimate of its configs)."""
    from quadtui.core import budget

    configs = grid_configs(base, params, values)
    return budget.Estimate(
        budget.sweep_bytes(configs),
        sum(map(budget.seconds_per_epoch, configs)),
        max(c.epochs for c in configs),
        runs=len(configs),
    )


@dataclass
class GridResult:
    """A trained grid: ``members`` row by row (``members[i * columns + j]`` has values[0][i], values[1][j])."""

    params: list[str]
    values: list[list[Any]]
    members: list[Any]  # SweepMember, .value the pair
    grid: Any
    grid_target: Any
    seconds: float
    groups: list[list[int]]

    @property
    def all_done(self) -> bool:
        return all(m.status == "done" for m in self.members)

    def cell(self, i: int, j: int) -> Any:
        return self.members[i * len(self.values[1]) + j]

    def to_dict(self) -> dict[str, Any]:
        results = []
        for member in self.members:
            summary = member.summary()
            del summary["value"]
            values = [json_value(p, v) for p, v in zip(self.params, member.value)]
            results.append({"values": values, **summary})
        return {"params": list(self.params), "results": results}


def make_grid_sweep(base: Config, params: Sequence[str], values: Sequence[Sequence[Any]]) -> Any:
    """A :class:`~quadtui.core.sweep.Sweep` over the grid's pairs (imports torch)."""
    from quadtui.core.sweep.runner import GridSweep

    return GridSweep(base, list(params), [list(v) for v in values])
