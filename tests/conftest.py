from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def notebook_losses() -> np.ndarray:
    from tests.notebook import notebook_loss_log

    return np.asarray(notebook_loss_log(), dtype=np.float64)
