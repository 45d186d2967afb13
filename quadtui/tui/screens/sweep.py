"""Sweeps in the app: one run per value of a setting, trained together, compared on one screen.

:class:`SweepDialog` asks for the setting and its values (checked by the same
parser as ``quadtui --sweep``); :class:`SweepScreen` trains the sweep in a thread
worker — live, each member's status, epochs and latest loss, and the fits of the
members that have finished — then shows final loss against the value, every
member's fit, and a table.  Enter on a member puts its settings in the form;
``a`` adds the members to the runs table.  The charts: widgets/sweep_charts.py.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, get_current_worker

from quadtui.charts import FitOverlay
from quadtui.charts.fit import MAX_OVERLAYS
from quadtui.charts.run_store import RunStore, value_text
from quadtui.core import budget
from quadtui.core.config import FIELDS, Config, ConfigError
from quadtui.core.sweep.jobs import best_finished, best_index
from quadtui.core.sweep.spec import MAX_MEMBERS, parse_sweep_spec
from quadtui.tui.screens.live import LiveScreen
from quadtui.tui.widgets.footer import MODAL_BINDINGS, KeyFooter
from quadtui.tui.widgets.status import clock, loss_text, plural
from quadtui.tui.widgets.sweep_charts import FitView, SweepChart, SweepFitChart

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot
    from quadtui.core.sweep.results import SweepProgress, SweepResult

#: settings worth sweeping (the view only changes what is drawn; a formula may hold commas)
SWEEPABLE = [name for name in FIELDS if name not in ("target", "view_min", "view_max")]
PROGRESS_PER_S = 10


def values_hint(name: str) -> str:
    """What the values box takes for ``name``: an example and the field's rule."""
    spec = FIELDS[name]
    if spec.kind == "choice":
        example = ",".join(spec.choices[:3])
    elif spec.kind == "int":
        example = "1,2,4,8 or START:STOP:COUNT"
    elif spec.kind == "float":
        example = "0.005,0.01,0.02 or START:STOP:COUNT"
    else:
        example = "comma-separated values"
    return f"{example} · each {spec.allowed} · at most {MAX_MEMBERS}"


def check_sweep(param: str, text: str, base: Config) -> tuple[str, list[Any]]:
    """``(field, values)``, or ConfigError with one line naming what is allowed."""
    if not text.strip() and param in FIELDS:
        raise ConfigError(param, "", "values: " + values_hint(param))
    return parse_sweep_spec(f"{param}={text}", base)


# -- the dialog ---------------------------------------------------------------------------
class SweepDialog(ModalScreen["tuple[str | tuple[str, str], list[Any]] | None"]):
    """Pick a setting, type its values; Enter starts the sweep, Esc cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), *MODAL_BINDINGS]

    DEFAULT_CSS = """
    SweepDialog { align: center middle; }
    #sweep-dialog {
        width: 90%; max-width: 76; height: auto; max-height: 100%; overflow-y: auto; padding: 0 1;
        border: round $accent; border-title-color: $text; background: $surface;
    }
    #sweep-dialog .row { height: 1; margin-top: 1; }
    #sweep-dialog .name { width: 9; color: $text-muted; }
    #sweep-dialog Select, #sweep-dialog Input { width: 1fr; }
    #sweep-hint { color: $text-muted; margin-top: 1; }
    #sweep-error { display: none; color: $error; text-style: bold; }
    #sweep-error.-shown { display: block; }
    #sweep-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, base: Config, param: str = "hidden") -> None:
        super().__init__()
        self.base = base
        self.param = param if param in SWEEPABLE else SWEEPABLE[0]

    def compose(self) -> ComposeResult:
        with Vertical(id="sweep-dialog") as box:
            box.border_title = "sweep: one run per value"
            with Horizontal(classes="row"):
                yield Label("setting", classes="name")
                yield Select(
                    [(n.replace("_", " "), n) for n in SWEEPABLE],
                    value=self.param,
                    allow_blank=False,
                    compact=True,
                    id="sweep-param",
                )
            with Horizontal(classes="row"):
                yield Label("values", classes="name")
                yield Input(placeholder=values_hint(self.param).split(" · ")[0], compact=True, id="sweep-values")
            yield Static(values_hint(self.param), id="sweep-hint")
            # an optional second setting: one run per pair, drawn as a heatmap (screens/sweep_grid.py)
            with Horizontal(classes="row"):
                yield Label("and", classes="name")
                yield Select(
                    [(n.replace("_", " "), n) for n in SWEEPABLE],
                    prompt="(optional) a second setting",
                    compact=True,
                    id="sweep-param2",
                )
            with Horizontal(classes="row", id="sweep-row2"):
                yield Label("values", classes="name")
                yield Input(placeholder="its values: one run per pair, a heatmap", compact=True, id="sweep-values2")
            yield Static("", id="sweep-error")
            yield Static("Enter: run the sweep (other settings from the form) · Esc: cancel", id="sweep-keys")

    def on_mount(self) -> None:
        self.query_one("#sweep-values", Input).focus()

    @on(Select.Changed, "#sweep-param")
    def _param_changed(self, event: Select.Changed) -> None:
        self.param = str(event.value)
        hint = values_hint(self.param)
        self.query_one("#sweep-hint", Static).update(hint)
        self.query_one("#sweep-values", Input).placeholder = hint.split(" · ")[0]
        self._error("")

    @on(Input.Changed, "#sweep-values")
    @on(Input.Changed, "#sweep-values2")
    @on(Select.Changed, "#sweep-param2")
    def _typed(self) -> None:
        self._error("")

    @on(Input.Submitted, "#sweep-values")
    @on(Input.Submitted, "#sweep-values2")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        second = self.query_one("#sweep-param2", Select).value
        if isinstance(second, str):  # two settings: a grid
            from quadtui.tui.screens.sweep_grid import check_grid

            values = self.query_one("#sweep-values", Input).value
            values2 = self.query_one("#sweep-values2", Input).value
            try:
                self.dismiss(check_grid(self.app, (self.param, second), (values, values2), self.base))
            except ConfigError as exc:
                self._error(str(exc))
            return
        try:
            request = check_sweep(self.param, self.query_one("#sweep-values", Input).value, self.base)
        except ConfigError as exc:
            self._error(str(exc))
            return
        refusal, _ = budget.verdict(self.base, request, self.app.max_memory)  # type: ignore[attr-defined]
        if refusal is not None:
            self._error(refusal)
            return
        self.dismiss(request)

    def _error(self, text: str) -> None:
        error = self.query_one("#sweep-error", Static)
        error.update(text)
        error.set_class(bool(text), "-shown")


# -- the worker ---------------------------------------------------------------------------
@dataclass(eq=False)
class SweepProgressed(Message):
    """Live progress; ``data``: of the best member finished so far, its samples x and y (drawn under the
    fits), the view grid and the true curve on it."""

    worker: Worker[None]
    progress: SweepProgress
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SweepProgressed) and message.worker is self.worker


@dataclass(eq=False)
class SweepFinished(Message):
    """The sweep's result and its samples; or, if it failed, why."""

    worker: Worker[None]
    result: SweepResult | None
    samples: tuple[np.ndarray, np.ndarray] | None
    error: str | None = None


def run_sweep(base: Config, param: str, values: list[Any], threads: int, post: Callable[[Message], object]) -> None:
    """Train the sweep (:func:`~quadtui.core.sweep.jobs.sweep_job`) from this worker thread: in a process
    forked from the fork server in a real terminal, here under tests; the worker's cancel event stops it."""
    from quadtui.core.sweep.jobs import sweep_job
    from quadtui.tui.worker import run_job

    worker = get_current_worker()

    def arrived(message: tuple[Any, ...]) -> None:
        kind, *body = message
        if kind == "progress":
            post(SweepProgressed(worker, body[0], body[1]))
        elif kind == "finished":
            post(SweepFinished(worker, body[0], body[1]))
        else:
            post(SweepFinished(worker, None, None, body[0]))

    run_job(sweep_job, (base, param, values, threads, 1 / PROGRESS_PER_S), arrived)


# -- the result screen ----------------------------------------------------------------------
class SweepScreen(LiveScreen["Config | None"]):
    """Trains one sweep and shows it; dismissed with a member's config to put in the form, or None."""

    BINDINGS = [
        Binding("escape", "close", "Stop / close", tooltip="Stop the sweep; once it has ended, go back"),
        Binding("a", "add_runs", "Add to runs", tooltip="Add every member to the runs table, to compare"),
        Binding("enter", "use", "Use settings", show=False, tooltip="Go back with this member's settings in the form"),
    ]

    DEFAULT_CSS = """
    #sweep-title { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    #sweep-progress { height: 1; background: $panel; }
    #sweep-state { width: auto; padding: 0 1; }
    #sweep-progress ProgressBar { width: 24; }
    #sweep-charts { height: 1fr; }
    #sweep-charts Chart { width: 1fr; height: 1fr; }
    #sweep-table { height: auto; max-height: 40%; border: round $panel-lighten-2; border-title-color: $text-muted; }
    #sweep-table:focus { border: round $accent; }
    """

    def __init__(self, base: Config, param: str, values: list[Any], runs: RunStore, threads: int = 1) -> None:
        super().__init__()
        self.base, self.param, self.values = base, param, list(values)
        self.runs, self.threads = runs, threads
        self.result: SweepResult | None = None
        self.worker: Worker[None] | None = None
        self.error: str | None = None
        self.added = False

    def compose(self) -> ComposeResult:
        shown = ", ".join(value_text(self.param, v) for v in self.values)
        yield Static(f"sweep {self.param} = {shown}", id="sweep-title")
        with Horizontal(id="sweep-progress"):
            yield Static("starting…", id="sweep-state")
            yield ProgressBar(total=1, show_eta=False)
        with Horizontal(id="sweep-charts"):
            yield SweepChart(self.param, self.values, id="sweep-chart")
            yield SweepFitChart(id="sweep-fit")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="sweep-table")
        yield KeyFooter()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#sweep-table", DataTable)

    def on_mount(self) -> None:
        table = self.table
        table.border_title = "members  (Enter: use its settings · a: add all to the runs table)"
        for label, key in (
            (self.param.replace("_", " "), "value"),
            ("status", "status"),
            ("epochs", "epochs"),
            ("loss", "final"),
            ("eval loss", "eval"),
            ("", "best"),
        ):
            table.add_column(label, key=key)
        for i, value in enumerate(self.values):
            table.add_row(value_text(self.param, value), "waiting", "0", "-", "-", "", key=str(i))
        table.focus()
        self.worker = self._sweep()

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.is_finished

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _sweep(self) -> None:
        run_sweep(self.base, self.param, self.values, self.threads, self.post_message)

    def on_sweep_progressed(self, message: SweepProgressed) -> None:
        if message.worker is not self.worker:
            return
        progress = message.progress
        self.query_one(ProgressBar).update(total=progress.total, progress=progress.completed)
        self.query_one("#sweep-state", Static).update(
            f"training · {progress.finished} of {plural(len(self.values), 'run')} done · "
            f"{progress.completed:,} of {progress.total:,} epochs"
        )
        self.query_one(SweepChart).set_losses(progress.losses, progress.finished)
        for i, (loss, epochs, status) in enumerate(zip(progress.losses, progress.epochs, progress.statuses)):
            shown = {"ready": "waiting", "diverged": f"diverged at {epochs + 1}"}.get(status, status)
            for column, text in (
                ("status", shown),
                ("epochs", f"{epochs:,}"),
                ("final", loss_text(loss) if loss is not None else "-"),
            ):
                self.table.update_cell(str(i), column, text, update_width=True)
        best = best_finished(progress)
        if best is not None and message.data is not None:
            x, y, grid, grid_target = message.data
            fits = [(m, fit) for m, fit in enumerate(progress.predictions) if fit is not None]
            self._draw_fits(
                best,
                [(self.values[m], fit) for m, fit in fits],
                grid,
                grid_target,
                (x, y),
                progress.epochs[best],
                ("live", best, len(fits)),
            )

    def on_sweep_finished(self, message: SweepFinished) -> None:
        if message.worker is not self.worker:
            return
        state = self.query_one("#sweep-state", Static)
        if message.result is None:
            self.error = message.error
            state.update(f"error: {message.error}")
            self.notify(str(message.error), title="The sweep stopped with an error", severity="error", timeout=10)
            return
        result = self.result = message.result
        best = best_index(result)
        stopped = sum(m.status == "stopped" for m in result.members)
        what = f"stopped ({stopped} of {plural(len(result.members), 'run')} unfinished)" if stopped else "done"
        state.update(f"{what} · {plural(len(result.members), 'run')} in {clock(result.seconds)} · Esc: back")
        self.query_one(ProgressBar).update(total=1, progress=1)
        self.query_one(SweepChart).set_losses([m.final_loss for m in result.members])
        for i, member in enumerate(result.members):
            status = f"diverged at {member.diverged_at}" if member.status == "diverged" else member.status
            for column, text in (
                ("status", status),
                ("epochs", f"{member.epochs_run:,}"),
                ("final", loss_text(member.final_loss)),
                ("eval", loss_text(member.eval_loss)),
                ("best", "best" if i == best else ""),
            ):
                self.table.update_cell(str(i), column, text, update_width=True)
        self._show_fits(result, best, message.samples)

    def _show_fits(self, result: SweepResult, best: int, samples: tuple[np.ndarray, np.ndarray] | None) -> None:
        fits = [(m.value, m.prediction) for m in result.members if m.prediction is not None]
        top = result.members[best]
        if top.prediction is None or samples is None:
            return
        where = [i for i, m in enumerate(result.members) if m.prediction is not None].index(best)
        self._draw_fits(where, fits, result.grid, result.grid_target, samples, top.epochs_run, ("sweep", id(result)))

    def _draw_fits(
        self,
        best: int,
        fits: list[tuple[Any, np.ndarray]],
        grid: np.ndarray,
        grid_target: np.ndarray,
        samples: tuple[np.ndarray, np.ndarray],
        epoch: int,
        key: Hashable,
    ) -> None:
        """``fits[best]`` solid (with its samples), an even spread of the others dashed."""
        value, prediction = fits[best]
        x, y = samples
        config = self.base.replace(**{self.param: value})
        view = FitView(-1, config, "done", epoch, grid, grid_target, prediction, x, y)
        others = [fit for i, fit in enumerate(fits) if i != best]
        if len(others) > MAX_OVERLAYS:  # the chart draws this many: an even spread over the values
            others = [others[round(i * (len(others) - 1) / (MAX_OVERLAYS - 1))] for i in range(MAX_OVERLAYS)]
        chart = self.query_one(SweepFitChart)
        overlays = [FitOverlay(f"{self.param}={value_text(self.param, v)}", grid, fit) for v, fit in others]
        chart.set_overlays(overlays, key)
        chart.show(cast("Snapshot", view))  # a FitView has every field the fit chart reads
        chart.set_heading(
            f"fits: best {self.param}={value_text(self.param, value)}" + (", others dashed" if others else "")
        )

    # -- keys ---------------------------------------------------------------------------
    def action_close(self) -> None:
        if self.running and self.worker is not None:
            self.worker.cancel()  # the members still training stop; their results are shown
            self.query_one("#sweep-state", Static).update("stopping…")
        else:
            self.dismiss(None)

    def action_add_runs(self) -> None:
        if self.result is None:
            self.notify("The sweep has not finished yet.", timeout=3)
            return
        if self.added:
            self.notify("These runs are in the runs table already.", timeout=3)
            return
        added = [self.runs.add_member(m, self.result.grid, self.param) for m in self.result.members]
        self.added = True
        count = sum(run is not None for run in added)
        self.notify(f"{plural(count, 'run')} added to the runs table (r on the main screen)", timeout=4)

    def action_use(self) -> None:
        if self.result is None:
            return
        row = self.table.cursor_row
        if 0 <= row < len(self.result.members):
            self.dismiss(self.result.members[row].config)

    @on(DataTable.RowSelected, "#sweep-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_use()
