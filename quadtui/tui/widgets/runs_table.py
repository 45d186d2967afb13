"""The runs table: every finished run of the session, newest first.

Each row names the run by what differs from the run on screen, with its status,
epochs, final and eval loss and time.  A ◆ marks the runs drawn (dashed) on the
loss and fit charts, in the colour of its curve.  Enter asks for a run's settings in the form; space overlays
a run or stops overlaying it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from quadtui.charts.run_store import RunRecord, RunStore, time_text
from quadtui.core.config import Config
from quadtui.tui.widgets.colours import ThemedColours
from quadtui.tui.widgets.status import loss_text

MARK = "◆"
COLUMNS = (
    ("", "mark"),
    ("#", "number"),
    ("vs the run on screen", "label"),
    ("status", "status"),
    ("epochs", "epochs"),
    ("final loss", "final"),
    ("eval loss", "eval"),
    ("time", "time"),
)


class RunsTable(DataTable[Text | str]):
    """A DataTable over a :class:`RunStore`; rebuilt only when the store or the reference changed."""

    BINDINGS = [
        Binding("space", "toggle_overlay", "Overlay", tooltip="Draw this run on the charts, or stop drawing it"),
        Binding("enter", "select_cursor", "Use settings", tooltip="Put this run's settings in the form"),
    ]

    DEFAULT_CSS = """
    RunsTable {
        display: none; height: auto; max-height: 12;
        border: round $panel-lighten-2; border-title-color: $text-muted;
        &:focus { border: round $accent; border-title-color: $text; }
    }
    RunsTable.-shown { display: block; }
    """

    @dataclass(eq=False)
    class Restore(Message):
        """Enter on a row: put ``run``'s settings in the form."""

        table: RunsTable
        run: RunRecord

        @property
        def control(self) -> RunsTable:
            return self.table

    @dataclass(eq=False)
    class OverlaysChanged(Message):
        """The user chose which runs the charts overlay."""

        table: RunsTable

        @property
        def control(self) -> RunsTable:
            return self.table

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.store = store
        self._key: Hashable = None
        self._reference: Config | None = None
        self._colours: dict[int, tuple[int, int, int] | None] = {}
        self._theme = ThemedColours(self, lambda: None)  # the next show_runs() colours the marks anew

    def on_mount(self) -> None:
        self.border_title = "runs  (Enter: use its settings · space: overlay on the charts · r: hide)"
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    def show_runs(self, reference: Config, drawn: list[int] | None = None) -> None:
        """List the store's runs, labelled against ``reference`` (if anything changed).

        ``drawn``: the numbers of the runs on the charts, in drawing order; their ◆ takes
        the colour of their curve.
        """
        theme_key, theme = self._theme.get()
        drawn = list(drawn or [])
        key = (self.store.version, reference, tuple(drawn), theme_key)
        if key == self._key:
            return
        self._key, self._reference = key, reference
        self._colours = {number: theme.series(2 + i) if theme.color else None for i, number in enumerate(drawn)}
        kept = self.selected_number()
        self.clear()
        runs = list(reversed(self.store.runs))
        for run, label in zip(runs, self.store.labels(runs, reference)):
            if run.source != "run":
                label = f"{label}  ({run.source})"
            self.add_row(*self._cells(run, label), key=str(run.number))
        if kept is not None and self.store.get(kept) is not None:
            self.move_cursor(row=self.get_row_index(str(kept)), animate=False)

    def _cells(self, run: RunRecord, label: str) -> list[Text | str]:
        mark: Text | str = ""
        if self.store.is_overlaid(run.number):
            rgb = self._colours.get(run.number)
            mark = Text(MARK, style=f"bold rgb({rgb[0]},{rgb[1]},{rgb[2]})" if rgb else "bold")
        status = Text(run.status, style="bold" if run.status == "diverged" else "")
        return [
            mark,
            str(run.number),
            label,
            status,
            f"{run.epochs:,}",
            loss_text(run.final_loss),
            loss_text(run.eval_loss),
            time_text(run.seconds),
        ]

    def selected_number(self) -> int | None:
        """The run number of the row under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def action_toggle_overlay(self) -> None:
        number = self.selected_number()
        if number is None:
            return
        self.store.toggle(number)
        self.post_message(self.OverlaysChanged(self))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        run = self.store.get(int(event.row_key.value)) if event.row_key.value is not None else None
        if run is not None:
            self.post_message(self.Restore(self, run))
