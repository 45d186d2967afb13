"""Two-setting sweeps in the app: one run per pair, trained together, shown as a heatmap.

The sweep dialog's optional second setting leads here.  :class:`GridScreen` trains the
:class:`~quadtui.core.sweep.GridSweep` in a thread worker and draws the final (or, with
``e``, the eval) loss of every pair as a heatmap — colour by log loss, the number in
each cell that has room, diverged runs marked — beside the fit of the cell under the
cursor (the best cell's fit dashed behind it).  Arrow keys move over the cells, Enter
goes back with that member's settings in the form, ``a`` adds the members to the runs
table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from quadtui.charts import ChartTheme, FitOverlay
from quadtui.charts.heatmap import heatmap_chart
from quadtui.charts.run_store import RunStore, value_text
from quadtui.core import budget
from quadtui.core.config import Config, ConfigError
from quadtui.core.sweep.grid import grid_estimate, parse_grid_specs
from quadtui.tui.screens.live import LiveScreen
from quadtui.tui.screens.sweep import PROGRESS_PER_S
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.status import clock, loss_text
from quadtui.tui.widgets.sweep_charts import FitView, SweepFitChart

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot
    from quadtui.core.sweep.grid import GridResult
    from quadtui.core.sweep.results import SweepProgress
    from quadtui.tui.widgets.compare_controls import CompareControls


def check_grid(
    app: App[Any], params: tuple[str, str], texts: tuple[str, str], base: Config
) -> tuple[tuple[str, str], list[list[Any]]]:
    """``((field, field), [values, values])`` from the dialog, or ConfigError (one line) — over the budget too."""
    for name, text in zip(params, texts):
        if not text.strip():
            raise ConfigError(name, "", "values for both settings (one run per pair)")
    names, values = parse_grid_specs([f"{p}={t}" for p, t in zip(params, texts)], base)
    refusal = budget.over_budget(grid_estimate(base, names, values), app.max_memory)  # type: ignore[attr-defined]
    if refusal is not None:
        raise ConfigError("sweep", f"{len(values[0])} × {len(values[1])} runs", refusal)
    return (names[0], names[1]), values


def start_grid(controls: CompareControls, base: Config, params: list[str], values: list[list[Any]]) -> None:
    """Open a :class:`GridScreen` over the main screen (whose run, if any, is paused for it)."""
    need = grid_estimate(base, params, values)
    warning = budget.slow_warning(need)
    if warning is not None:
        controls.notify(warning, title="A slow sweep", severity="warning", timeout=8)
    controls.post_message(controls.PauseRun(controls))  # the sweep gets the CPU; space resumes the run afterwards
    controls.app.push_screen(GridScreen(base, params, values, controls.runs, controls.threads), controls.sweep_closed)


# -- the worker -------------------------------------------------------------------------------
@dataclass(eq=False)
class GridProgressed(Message):
    """How far the grid's worker is (a newer one replaces a queued one)."""

    worker: Worker[None]
    progress: SweepProgress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GridProgressed) and message.worker is self.worker


@dataclass(eq=False)
class GridFinished(Message):
    """The grid's result and each row's samples; or, if it failed, why."""

    worker: Worker[None]
    result: GridResult | None
    samples: list[tuple[np.ndarray, np.ndarray]] | None
    error: str | None = None


def run_grid(
    base: Config, params: list[str], values: list[list[Any]], threads: int, post: Callable[[Message], object]
) -> None:
    """Train the grid (:func:`~quadtui.core.sweep.jobs.grid_job`) from this worker thread, where the app
    trains (:func:`~quadtui.tui.worker.run_job`); the worker's cancel event stops it within a chunk."""
    from quadtui.core.sweep.jobs import grid_job
    from quadtui.tui.worker import run_job

    worker = get_current_worker()

    def arrived(message: tuple[Any, ...]) -> None:
        kind, *body = message
        if kind == "progress":
            post(GridProgressed(worker, body[0]))
        elif kind == "finished":
            post(GridFinished(worker, body[0], body[1]))
        else:  # shown on the screen; the app carries on
            post(GridFinished(worker, None, None, body[0]))

    run_job(grid_job, (base, params, values, threads, 1 / PROGRESS_PER_S), arrived)


def best_cell(losses: Sequence[float | None]) -> int:
    finite = [v if v is not None and math.isfinite(v) else math.inf for v in losses]
    return int(np.argmin(finite)) if finite else 0


# -- the screen -------------------------------------------------------------------------------
class HeatmapChart(Chart):
    """The grid's losses: the first setting down, the second across."""

    def __init__(self, params: list[str], values: list[list[Any]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.params, self.values = params, values
        self.columns = len(values[1])
        self.losses: list[float | None] = [None] * (len(values[0]) * self.columns)
        self.diverged = [False] * len(self.losses)
        self.cursor = 0
        self.what = "final"
        self.note = ""  # the line above the grid
        self.version = 0

    def title(self) -> str:
        return f"{self.what} loss · {self.params[0]} ↓ · {self.params[1]} →"

    def set_cells(self, losses: Sequence[float | None], diverged: Sequence[bool]) -> None:
        self.losses, self.diverged, self.version = list(losses), list(diverged), self.version + 1
        self.refresh()

    def mode(self) -> Hashable:
        return (self.version, self.cursor, self.what, self.note)

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        cols = self.columns
        grid = [self.losses[i * cols : (i + 1) * cols] for i in range(len(self.values[0]))]
        bad = [self.diverged[i * cols : (i + 1) * cols] for i in range(len(self.values[0]))]
        return heatmap_chart(
            [value_text(self.params[0], v) for v in self.values[0]],
            [value_text(self.params[1], v) for v in self.values[1]],
            grid,
            bad,
            width,
            height,
            theme,
            cursor=divmod(self.cursor, cols),
            title=self.note,
        )


class GridScreen(LiveScreen["Config | None"]):
    """Trains one two-setting sweep and shows it; dismissed with a member's config, or None."""

    BINDINGS = [
        Binding("escape", "close", "Stop / close", tooltip="Stop the sweep; once it has ended, go back"),
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("enter", "use", "Use settings", tooltip="Go back with this cell's settings in the form"),
        Binding("e", "eval", "Final/eval", tooltip="Colour the cells by final loss or by eval loss"),
        Binding("a", "add_runs", "Add to runs", tooltip="Add every member to the runs table, to compare"),
    ]

    DEFAULT_CSS = """
    #grid-title { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    #grid-progress { height: 1; background: $panel; }
    #grid-state { width: auto; padding: 0 1; }
    #grid-progress ProgressBar { width: 24; }
    #grid-charts { height: 1fr; }
    #grid-heatmap { width: 3fr; height: 1fr; }
    #grid-fit { width: 2fr; height: 1fr; }
    #grid-cell { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(
        self, base: Config, params: list[str], values: list[list[Any]], runs: RunStore, threads: int = 1
    ) -> None:
        super().__init__()
        self.base, self.params, self.values = base, list(params), [list(v) for v in values]
        self.runs, self.threads = runs, threads
        self.result: GridResult | None = None
        self.samples: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.worker: Worker[None] | None = None
        self.added = False

    def compose(self) -> ComposeResult:
        rows, cols = len(self.values[0]), len(self.values[1])
        yield Static(
            f"sweep {self.params[0]} × {self.params[1]}: {rows} × {cols} = {rows * cols} runs", id="grid-title"
        )
        with Horizontal(id="grid-progress"):
            yield Static("starting…", id="grid-state")
            yield ProgressBar(total=1, show_eta=False)
        with Horizontal(id="grid-charts"):
            yield HeatmapChart(self.params, self.values, id="grid-heatmap")
            yield SweepFitChart(id="grid-fit")
        yield Static("", id="grid-cell")
        yield Footer()

    @property
    def heatmap(self) -> HeatmapChart:
        return self.query_one(HeatmapChart)

    def on_mount(self) -> None:
        self.worker = self._sweep()
        self._show_cell()

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.is_finished

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _sweep(self) -> None:
        run_grid(self.base, self.params, self.values, self.threads, self.post_message)

    def on_grid_progressed(self, message: GridProgressed) -> None:
        if message.worker is not self.worker:
            return
        progress = message.progress
        self.query_one(ProgressBar).update(total=progress.total, progress=progress.completed)
        self.query_one("#grid-state", Static).update(
            f"training · {progress.completed:,} of {progress.total:,} epochs (all runs)"
        )
        self.heatmap.set_cells(progress.losses, [False] * len(progress.losses))

    def on_grid_finished(self, message: GridFinished) -> None:
        if message.worker is not self.worker:
            return
        state = self.query_one("#grid-state", Static)
        if message.result is None:
            state.update(f"error: {message.error}")
            self.notify(str(message.error), title="The sweep stopped with an error", severity="error", timeout=10)
            return
        self.result, self.samples = message.result, message.samples
        stopped = sum(m.status == "stopped" for m in self.result.members)
        count = len(self.result.members)
        what = f"stopped ({stopped} of {count} runs unfinished)" if stopped else "done"
        state.update(f"{what} · {count} runs in {clock(self.result.seconds)} · Esc: back")
        self.query_one(ProgressBar).update(total=1, progress=1)
        self._colour()
        self.heatmap.cursor = self.best()
        self._show_cell()

    def _losses(self) -> list[float | None]:
        assert self.result is not None
        eval_loss = self.heatmap.what == "eval"
        return [m.eval_loss if eval_loss else m.final_loss for m in self.result.members]

    def _colour(self) -> None:
        if self.result is not None:
            top = self.result.members[self.best()]
            loss = top.eval_loss if self.heatmap.what == "eval" else top.final_loss
            self.heatmap.note = f"best: {_pair(self.params, top.value)} ({self.heatmap.what} loss {loss_text(loss)})"
            self.heatmap.set_cells(self._losses(), [m.status == "diverged" for m in self.result.members])

    def best(self) -> int:
        return best_cell(self._losses()) if self.result is not None else 0

    def _show_cell(self) -> None:
        """The cell under the cursor: its settings and numbers in a line, its fit beside the heatmap."""
        heatmap, k = self.heatmap, self.heatmap.cursor
        i, j = divmod(k, heatmap.columns)
        pair = (
            f"{self.params[0]}={value_text(self.params[0], self.values[0][i])}, "
            f"{self.params[1]}={value_text(self.params[1], self.values[1][j])}"
        )
        if self.result is None:
            self.query_one("#grid-cell", Static).update(f"{pair} · arrows: move · Enter: use its settings")
            return
        member = self.result.members[k]
        status = f"diverged at {member.diverged_at}" if member.status == "diverged" else member.status
        best = " (best)" if k == self.best() else ""
        self.query_one("#grid-cell", Static).update(
            f"{pair}{best} · {status} · final {loss_text(member.final_loss)} · eval {loss_text(member.eval_loss)}"
            " · Enter: use"
        )
        chart = self.query_one(SweepFitChart)
        if member.prediction is None or self.samples is None:
            return
        x, y = self.samples[k]
        result = self.result
        view = FitView(
            -1 - k,
            member.config,
            member.status,
            member.epochs_run,
            result.grid,
            result.grid_target,
            member.prediction,
            x,
            y,
        )
        chart.show(cast("Snapshot", view))  # a FitView has every field the fit chart reads
        top = self.best()
        overlays = []
        if top != k and result.members[top].prediction is not None:
            overlays = [
                FitOverlay(
                    f"best: {_pair(self.params, result.members[top].value)}",
                    result.grid,
                    result.members[top].prediction,
                )
            ]
        chart.set_overlays(overlays, ("grid", id(result), k, top))
        chart.set_heading(f"fit: {pair}" + (" · best dashed" if overlays else ""))

    # -- keys ---------------------------------------------------------------------------------
    def action_move(self, rows: int, cols: int) -> None:
        heatmap = self.heatmap
        i, j = divmod(heatmap.cursor, heatmap.columns)
        i = max(0, min(len(self.values[0]) - 1, i + rows))
        j = max(0, min(heatmap.columns - 1, j + cols))
        heatmap.cursor = i * heatmap.columns + j
        heatmap.refresh()
        self._show_cell()

    def action_eval(self) -> None:
        heatmap = self.heatmap
        heatmap.what = "eval" if heatmap.what == "final" else "final"
        heatmap.border_title = heatmap.title()
        self._colour()
        heatmap.refresh()
        self._show_cell()

    def action_close(self) -> None:
        if self.running and self.worker is not None:
            self.worker.cancel()  # the members still training stop; their results are shown
            self.query_one("#grid-state", Static).update("stopping…")
        else:
            self.dismiss(None)

    def action_use(self) -> None:
        if self.result is not None:
            self.dismiss(self.result.members[self.heatmap.cursor].config)

    def action_add_runs(self) -> None:
        if self.result is None:
            self.notify("The sweep has not finished yet.", timeout=3)
            return
        if self.added:
            self.notify("These runs are in the runs table already.", timeout=3)
            return
        name = " × ".join(self.params)
        added = [self.runs.add_member(m, self.result.grid, name) for m in self.result.members]
        self.added = True
        count = sum(run is not None for run in added)
        self.notify(f"{count} runs added to the runs table (r on the main screen)", timeout=4)


def _pair(params: list[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{p}={value_text(p, v)}" for p, v in zip(params, values))
