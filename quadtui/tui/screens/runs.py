"""The main screen's compare-and-sweep controls: the runs table, overlays on the charts, sweeps.

:class:`CompareActions` is mixed into :class:`~quadtui.tui.screens.train.TrainScreen`
(which owns ``runs``, a :class:`~quadtui.tui.runs.RunStore`, records each finished run
into it and calls :meth:`CompareActions._compare` whenever it shows a snapshot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from quadtui.core import budget
from quadtui.core.config import Config, ConfigError
from quadtui.tui.screens.sweep import SweepDialog, SweepScreen, check_sweep
from quadtui.tui.widgets.chart import FitChart, LossChart
from quadtui.tui.widgets.runs_table import RunsTable

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot
    from quadtui.tui.runs import RunStore
    from quadtui.tui.widgets.form import ConfigForm

BINDINGS = [
    Binding("r,ctrl+y", "runs", "Runs", id="runs",
            tooltip="Show or hide the table of finished runs (Enter on a row: use its settings; space: overlay it)"),
    Binding("o", "overlays", "Overlays", id="overlays", show=False,
            tooltip="Draw the chosen earlier runs (dashed) on the loss and fit charts, or hide them"),
    Binding("a", "all_runs", "All runs", id="all-runs", show=False,
            tooltip="Loss chart: widen the epoch axis to every earlier run drawn, or follow the run on screen"),
    Binding("v", "sweep", "Sweep", id="sweep",
            tooltip="Vary one setting: train one run per value (e.g. hidden = 1,2,4,8) and compare them"),
]

PALETTE_TITLES = {
    "runs": "Runs table: compare finished runs",
    "overlays": "Show / hide earlier runs on the charts",
    "all-runs": "Loss chart: epochs of every run drawn / of the run on screen",
    "sweep": "Sweep: one run per value of a setting",
}


class CompareActions:
    """Actions for the keys above; the screen provides the attributes named here."""

    runs: RunStore
    last: Snapshot | None
    config: Config
    threads: int
    control: Any
    if TYPE_CHECKING:  # the screen's properties

        @property
        def form(self) -> ConfigForm: ...

        @property
        def running(self) -> bool: ...

    def _compare(self) -> None:
        """Earlier runs on the loss and fit charts and in the table, named against the run on screen."""
        reference = self.last.config if self.last is not None else self.config
        loss, fit, key = self.runs.overlays(self.last, reference)
        self.query_one(LossChart).set_overlays(loss, key)  # type: ignore[attr-defined]
        self.query_one(FitChart).set_overlays(fit, key)  # type: ignore[attr-defined]
        self.query_one(RunsTable).show_runs(reference, self.runs.drawn(self.last))  # type: ignore[attr-defined]

    def action_runs(self) -> None:
        table = self.query_one(RunsTable)  # type: ignore[attr-defined]
        table.set_class(not table.has_class("-shown"), "-shown")
        if table.has_class("-shown"):
            table.focus()
        elif self.focused is table:  # type: ignore[attr-defined]
            self.action_leave_field()  # type: ignore[attr-defined]

    def action_overlays(self) -> None:
        shown = self.runs.toggle_shown()
        self._compare()
        self.notify(f"earlier runs {'shown' if shown else 'hidden'} on the charts", timeout=2)  # type: ignore[attr-defined]

    def action_all_runs(self) -> None:
        chart = self.query_one(LossChart)  # type: ignore[attr-defined]
        chart.all_runs = not chart.all_runs
        chart.changed()

    # (handlers by name: a mixin's @on handlers would not be collected)
    def on_runs_table_overlays_changed(self) -> None:
        self._compare()

    def on_runs_table_restore(self, message: RunsTable.Restore) -> None:
        self._use_config(message.run.config, f"run {message.run.number}")

    def _use_config(self, config: Config | None, name: str = "the sweep member") -> None:
        if config is not None:
            kept = self.form.set_config(config)
            note = f" ({', '.join(kept)} kept by the lesson)" if kept else ""
            self.notify(f"{name}'s settings are in the form{note}: ctrl+t trains them", timeout=4)  # type: ignore[attr-defined]

    # -- sweeps --------------------------------------------------------------------------
    def action_sweep(self) -> None:
        base = self._form_config()  # type: ignore[attr-defined]  # the other settings come from the form
        if base is not None:
            self.app.push_screen(SweepDialog(base), lambda asked: self._asked(base, asked))  # type: ignore[attr-defined]

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
            self.notify(str(exc), title="Sweep not started", severity="error", timeout=10)  # type: ignore[attr-defined]
            return
        self.start_sweep(self.config, param, parsed)

    def start_sweep(self, base: Config, param: str, values: list[Any]) -> None:
        refusal, warning = budget.verdict(base, (param, values), self.app.max_memory)  # type: ignore[attr-defined]
        if refusal is not None:
            self.notify(refusal, title="Sweep not started: too big", severity="error", timeout=10)  # type: ignore[attr-defined]
            return
        if warning is not None:
            self.notify(warning, title="A slow sweep", severity="warning", timeout=8)  # type: ignore[attr-defined]
        if self.running and self.control is not None:
            self.control.pause()  # the sweep gets the CPU; space resumes the run afterwards
        screen = SweepScreen(base, param, values, self.runs, self.threads)
        self.app.push_screen(screen, self._sweep_closed)  # type: ignore[attr-defined]

    def _sweep_closed(self, config: Config | None) -> None:
        self._compare()  # its members may have joined the runs table
        self._use_config(config)
