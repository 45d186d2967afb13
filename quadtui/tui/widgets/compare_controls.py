"""Comparing runs, as one component of the main screen: the runs table, earlier runs on the charts, sweeps.

:class:`CompareControls` wraps the form and the charts (so its keys work wherever the
focus is on the main screen) and holds the runs table.  It reads the run on screen
from the screen's ``last`` (``data_bind``) and keeps the charts' overlays and the
table in step with it; the session's finished runs are a
:class:`~quadtui.charts.run_store.RunStore` the screen records them into.  What it
needs from the screen it asks for with a message: :class:`CompareControls.PauseRun`
before a sweep takes the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.reactive import var

from quadtui.core import budget
from quadtui.core.config import Config, ConfigError
from quadtui.tui.screens.sweep import SweepDialog, SweepScreen, check_sweep
from quadtui.tui.widgets.form import ConfigForm
from quadtui.tui.widgets.run_charts import FitChart, LossChart
from quadtui.tui.widgets.runs_table import RunsTable

if TYPE_CHECKING:
    from quadtui.charts.run_store import RunStore
    from quadtui.core.snapshot import Snapshot


class CompareControls(Container):
    """The keys that compare runs and start sweeps, and what they act on."""

    DEFAULT_CSS = "CompareControls { height: 1fr; }"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r,ctrl+y",
            "runs",
            "Runs",
            id="runs",
            tooltip="Show or hide the table of finished runs (Enter on a row: use its settings; space: overlay it)",
        ),
        Binding(
            "o",
            "overlays",
            "Overlays",
            id="overlays",
            show=False,
            tooltip="Draw the chosen earlier runs (dashed) on the loss and fit charts, or hide them",
        ),
        Binding(
            "a",
            "all_runs",
            "All runs",
            id="all-runs",
            show=False,
            tooltip="Loss chart: widen the epoch axis to every earlier run drawn, or follow the run on screen",
        ),
        Binding(
            "v",
            "sweep",
            "Sweep",
            id="sweep",
            tooltip="Vary one setting: train one run per value (e.g. hidden = 1,2,4,8) and compare them",
        ),
    ]

    #: longer names than the footer's, for searching the palette
    PALETTE_TITLES: ClassVar[dict[str, str]] = {
        "runs": "Runs table: compare finished runs",
        "overlays": "Show / hide earlier runs on the charts",
        "all-runs": "Loss chart: epochs of every run drawn / of the run on screen",
        "sweep": "Sweep: one run per value of a setting",
    }

    @dataclass
    class PauseRun(Message):
        """A sweep is about to take the CPU: the run on screen (if any) should pause (space resumes it)."""

        controls: CompareControls

        @property
        def control(self) -> CompareControls:
            return self.controls

    #: the run on screen (bound to the screen's): overlays and table are named against it
    last: var[Snapshot | None] = var(None, always_update=True)

    def __init__(self, runs: RunStore, config: Config, threads: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs = runs  # the session's finished runs (the screen records them)
        self.config = config  # the screen's starting config: the reference before any run
        self.threads = threads

    def watch_last(self) -> None:
        if self.is_mounted:
            self.refresh_overlays()

    def refresh_overlays(self) -> None:
        """Earlier runs on the loss and fit charts and in the table, named against the run on screen."""
        last = self.last
        reference = last.config if last is not None else self.config
        loss, fit, key = self.runs.overlays(last, reference)
        self.query_one(LossChart).set_overlays(loss, key)
        self.query_one(FitChart).set_overlays(fit, key)
        self.query_one(RunsTable).show_runs(reference, self.runs.drawn(last))

    # -- the keys -----------------------------------------------------------------------------
    def action_runs(self) -> None:
        table = self.query_one(RunsTable)
        table.set_class(not table.has_class("-shown"), "-shown")
        if table.has_class("-shown"):
            table.focus()
        elif table.has_focus:
            self.query_one("#charts").focus()  # out of the table: single-letter keys control the run

    def action_overlays(self) -> None:
        shown = self.runs.toggle_shown()
        self.refresh_overlays()
        self.notify(f"earlier runs {'shown' if shown else 'hidden'} on the charts", timeout=2)

    def action_all_runs(self) -> None:
        chart = self.query_one(LossChart)
        chart.all_runs = not chart.all_runs

    @on(RunsTable.OverlaysChanged)
    def _overlays_chosen(self) -> None:
        self.refresh_overlays()

    @on(RunsTable.Restore)
    def _restore(self, message: RunsTable.Restore) -> None:
        self.use_config(message.run.config, f"run {message.run.number}")

    def use_config(self, config: Config | None, name: str = "the sweep member") -> None:
        """Put ``config`` (a run's, a sweep member's, a classmate's) in the form, saying so."""
        if config is not None:
            kept = self.query_one(ConfigForm).set_config(config)
            note = f" ({', '.join(kept)} kept by the lesson)" if kept else ""
            self.notify(f"{name}'s settings are in the form{note}: ctrl+t trains them", timeout=4)

    # -- sweeps -------------------------------------------------------------------------------
    @property
    def max_memory(self) -> int:
        """The app's memory budget for a run or a sweep (bytes)."""
        limit = getattr(self.app, "max_memory", None)
        assert isinstance(limit, int), "the app sets its memory budget"
        return limit

    def action_sweep(self) -> None:
        base = self.query_one(ConfigForm).checked_config()  # the other settings come from the form
        if base is not None:
            self.app.push_screen(SweepDialog(base), lambda asked: self._asked(base, asked))

    def _asked(self, base: Config, asked: tuple[Any, list[Any]] | None) -> None:
        if asked is not None and isinstance(asked[0], tuple):  # two settings: a grid and its heatmap
            from quadtui.tui.screens.sweep_grid import start_grid

            start_grid(self, base, list(asked[0]), asked[1])
        elif asked is not None:
            self.start_sweep(base, *asked)

    def sweep_from_spec(self, spec: str) -> None:
        """Start ``quadtui --sweep SPEC`` (e.g. ``hidden=1,2,4``) over the screen's starting config."""
        name, _, values = spec.partition("=")
        try:
            param, parsed = check_sweep(name.strip().lower().replace("-", "_"), values, self.config)
        except ConfigError as exc:
            self.notify(str(exc), title="Sweep not started", severity="error", timeout=10)
            return
        self.start_sweep(self.config, param, parsed)

    def start_sweep(self, base: Config, param: str, values: list[Any]) -> None:
        refusal, warning = budget.verdict(base, (param, values), self.max_memory)
        if refusal is not None:
            self.notify(refusal, title="Sweep not started: too big", severity="error", timeout=10)
            return
        if warning is not None:
            self.notify(warning, title="A slow sweep", severity="warning", timeout=8)
        self.post_message(self.PauseRun(self))
        self.app.push_screen(SweepScreen(base, param, values, self.runs, self.threads), self.sweep_closed)

    def sweep_closed(self, config: Config | None) -> None:
        """Back from a sweep: its members may have joined the table; Enter on one put it in the form."""
        self.refresh_overlays()
        self.use_config(config)
