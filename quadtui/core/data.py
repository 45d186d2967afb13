"""Training samples and the evaluation grid, drawn exactly as the notebook draws them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from quadtui.core import expr
from quadtui.core.config import Config, ConfigError, built_once
from quadtui.core.samples import GRID_POINTS, eval_x, random_state, training_x


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray  # float64 samples, shape (samples,)
    y: np.ndarray  # float64 targets (with noise, if any)
    x_train: torch.Tensor  # float32, shape (samples, 1)
    y_train: torch.Tensor
    grid: np.ndarray  # float64 view grid, shape (GRID_POINTS,)
    grid_target: np.ndarray  # the true function on the view grid
    x_eval: torch.Tensor  # float32 training-range grid (the notebook's x_plot), shape (GRID_POINTS, 1)
    y_eval: torch.Tensor


def make_dataset(config: Config) -> Dataset:
    target = expr.parse(config.target)
    rng = random_state(config.seed)
    x = training_x(rng, config.x_min, config.x_max, config.samples)
    y = target(x)
    if config.noise > 0:
        y = y + rng.normal(0.0, config.noise, config.samples)
    if not np.all(np.isfinite(y)):  # Config checked the target on these samples: a last guard
        raise ConfigError(
            "target",
            config.target,
            f"a function that is finite at every sample in [{config.x_min:g}, {config.x_max:g}]",
        )
    x_plot = eval_x(config.x_min, config.x_max)
    grid = np.linspace(*config.view, GRID_POINTS)
    with np.errstate(all="ignore"):
        grid_target = target(grid)
    return Dataset(
        x=x,
        y=y,
        x_train=_column(x),
        y_train=_column(y),
        grid=grid,
        grid_target=grid_target,
        x_eval=_column(x_plot),
        y_eval=_column(target(x_plot)),
    )


def make_datasets(configs: Sequence[Config]) -> list[Dataset]:
    """``make_dataset`` of each config, built once for configs that draw the same data (and shared: read only)."""
    return built_once(configs, _data_key, make_dataset)


def _data_key(config: Config) -> tuple[object, ...]:
    """Every field :func:`make_dataset` reads."""
    return (config.seed, config.samples, config.x_min, config.x_max, config.target, config.noise, config.view)


def _column(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(values).reshape(-1, 1).float()
