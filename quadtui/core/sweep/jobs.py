"""An in-app sweep's whole job (one setting, or a grid of two), reporting as it goes through ``send``.

In a real terminal the app runs it in a process forked from the fork server
(:func:`quadtui.core.streamed.stream`): the UI process never imports torch, which
a sweep needs (~140 MB a session for the rest of the session, and its GIL shared
with the UI's drawing).  Under ``App.run_test`` the worker thread runs it as it is.
Either way the app gets the same messages, in order:

- ``("progress", SweepProgress, data)``: ``data`` is, of the best member finished so
  far, (x, y, grid, grid_target): its samples (drawn under the fits), the view grid and
  the true curve on it; None before one has (a grid's progress has none);
- then ``("finished", result, samples)`` — the best member's (x, y), or for a grid
  every member's — or ``("failed", "one line")``.

No textual here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from quadtui.core.config import Config
    from quadtui.core.snapshot import CancelFlag
    from quadtui.core.sweep.results import SweepProgress, SweepResult

Send = Callable[[tuple[Any, ...]], object]


def sweep_job(
    send: Send, cancel: CancelFlag, base: Config, param: str, values: list[Any], threads: int, interval: float
) -> None:
    """Train one setting's sweep; its progress, then its result (or why it failed), to ``send``."""
    try:
        from quadtui.core.data import make_dataset
        from quadtui.core.sweep.runner import Sweep

        sweep = Sweep(base, param, values)
        _ready(threads, sweep.configs)
        leaders: dict[int, tuple[np.ndarray, ...]] = {}  # made once per member that leads

        def progressed(progress: SweepProgress) -> None:
            best = best_finished(progress)
            if best is not None and best not in leaders:
                data = make_dataset(sweep.configs[best])
                leaders[best] = (data.x, data.y, data.grid, data.grid_target)
            send(("progress", progress, None if best is None else leaders[best]))

        result = sweep.run(cancel=cancel, on_progress=progressed, interval=interval)
        data = make_dataset(result.members[best_index(result)].config)  # its samples, under the fits
        send(("finished", result, (data.x, data.y)))
    except Exception as exc:  # shown on the sweep screen; the app carries on
        send(("failed", f"{type(exc).__name__}: {exc}"))


def grid_job(
    send: Send,
    cancel: CancelFlag,
    base: Config,
    params: list[str],
    values: list[list[Any]],
    threads: int,
    interval: float,
) -> None:
    """Train a grid of two settings; its progress, then its result and every member's samples, to ``send``."""
    try:
        from quadtui.core.data import make_datasets
        from quadtui.core.sweep.runner import GridSweep

        sweep = GridSweep(base, params, values)
        _ready(threads, sweep.configs)
        result = sweep.run_grid(
            cancel=cancel, on_progress=lambda progress: send(("progress", progress, None)), interval=interval
        )
        send(("finished", result, [(d.x, d.y) for d in make_datasets(sweep.configs)]))  # under each member's fit
    except Exception as exc:
        send(("failed", f"{type(exc).__name__}: {exc}"))


def _ready(threads: int, configs: list[Config]) -> None:
    """Torch's threads; and for a class server's stranger, the sweep held to the server's budget and
    cores (the app checked them for its user; a stranger's request comes unchecked)."""
    from quadtui.core.forkserver import restricted
    from quadtui.core.threads import set_threads

    if restricted.for_stranger:
        from quadtui.core.budget import Estimate, held_here, sweep_bytes

        need = Estimate(sweep_bytes(configs), 0.0, max(c.epochs for c in configs), runs=len(configs))
        threads = held_here(need, threads)
    set_threads(threads)


def best_finished(progress: SweepProgress) -> int | None:
    """The finished member with a fit and the lowest finite loss so far, or None while none has finished."""
    ranked = [
        (loss if loss is not None and math.isfinite(loss) else math.inf, i)
        for i, (loss, fit) in enumerate(zip(progress.losses, progress.predictions))
        if fit is not None
    ]
    return min(ranked)[1] if ranked else None


def best_index(result: SweepResult) -> int:
    """The member with the lowest finite final loss (the first one if none has one)."""
    losses = [
        m.final_loss if m.final_loss is not None and math.isfinite(m.final_loss) else math.inf for m in result.members
    ]
    return int(np.argmin(losses))
