"""Where a run looks at its target: the training samples and the evaluation grid.

numpy only (no torch), so a config can check its target on exactly these points
before anything is built: :mod:`quadtui.core.data` draws the samples with these
functions, and :class:`~quadtui.core.config.Config` checks the target with them,
so the two can never disagree by a bit.
"""

from __future__ import annotations

import numpy as np

GRID_POINTS = 100  # the notebook's x_plot = np.linspace(-5, 5, 100)


def random_state(seed: int) -> np.random.RandomState:
    """The generator the samples (and then the noise) are drawn from."""
    if seed < 2**32:  # the legacy seeding the notebook's np.random.seed(19) uses
        return np.random.RandomState(seed)
    return np.random.RandomState(np.random.MT19937(np.random.SeedSequence(seed)))


def training_x(rng: np.random.RandomState, x_min: float, x_max: float, samples: int) -> np.ndarray:
    """The float64 training inputs, the first draw from ``rng``."""
    return rng.uniform(x_min, x_max, samples)


def eval_x(x_min: float, x_max: float) -> np.ndarray:
    """The float64 evaluation grid over the sample range (the notebook's ``x_plot``)."""
    return np.linspace(x_min, x_max, GRID_POINTS)
