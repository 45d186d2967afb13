"""The notebook's training loop, verbatim (matplotlib and tqdm left out), as a reference."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from torch.optim import SGD


def notebook_loss_log(epochs: int = 5000) -> list[float]:
    torch.manual_seed(19)
    np.random.seed(19)

    x_plot = np.linspace(-5, 5, 100)  # noqa: F841 - as in the notebook
    x = np.random.uniform(-5, 5, 100)
    y = x * x

    N_HIDDEN = 8
    model = nn.Sequential(nn.Linear(1, N_HIDDEN), nn.ReLU(), nn.Linear(N_HIDDEN, 1))
    LEARNING_RATE = 0.02
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)
    EPOCHS = epochs
    criterion = nn.MSELoss()
    x_train = torch.from_numpy(x).reshape(-1, 1).float()
    y_train = torch.from_numpy(y).reshape(-1, 1).float()

    loss_log = []
    for i in range(EPOCHS):  # noqa: B007  (as in the notebook)
        y_hat = model(x_train)
        loss = criterion(y_hat, y_train)
        loss.backward()
        loss_log.append(loss.item())
        optimizer.step()
        optimizer.zero_grad()
    return loss_log
