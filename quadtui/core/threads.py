"""CPU threads for torch: one by default — the model is tiny and teaching servers are shared."""

from __future__ import annotations


def set_threads(threads: int = 1) -> None:
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
