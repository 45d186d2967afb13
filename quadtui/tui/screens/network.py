"""The main screen's network view: ``n`` (or tab 4) shows every unit of every layer in the chart area.

:class:`NetworkActions` is mixed into :class:`~quadtui.tui.screens.train.TrainScreen`.
The view is the chart tab ``network``: choosing it (with ``n``, ``4``, a click on the
tab or ``--view network``) gives the screen the ``-network`` class, under which the
network chart takes the whole chart area on any terminal.  While it is shown the
arrow keys move the selected unit, page up/down page through a wide layer,
Enter opens the selected unit big in the neuron chart (the output: the fit chart) and
``e`` sets its weights by hand (:mod:`quadtui.tui.screens.weight_edit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets import Tabs

from quadtui.tui.widgets.network import NetworkChart

if TYPE_CHECKING:
    from quadtui.tui.widgets.chart import NeuronChart

BINDINGS = [
    Binding("n", "network", "Network", id="network",
            tooltip="Show the whole network: every unit of every layer, the weights between them (again: back)"),
    Binding("4", "chart('network')", "Network view", show=False, tooltip="Small terminals: show the network view"),
    Binding("up", "network_move(0, -1)", "Unit up", show=False, tooltip="Network view: select the unit above"),
    Binding("down", "network_move(0, 1)", "Unit down", show=False, tooltip="Network view: select the unit below"),
    Binding("left", "network_move(-1, 0)", "Layer left", show=False,
            tooltip="Network view: select the same unit in the layer before"),
    Binding("right", "network_move(1, 0)", "Layer right", show=False,
            tooltip="Network view: select the same unit in the next layer (at the end: the output)"),
    Binding("pageup", "network_page(-1)", "Page up", show=False, tooltip="Network view: the previous page of units"),
    Binding("pagedown", "network_page(1)", "Page down", show=False, tooltip="Network view: the next page of units"),
    Binding("enter", "network_open", "Open unit", show=False,
            tooltip="Network view: open the selected unit big in the neuron chart (the output: the fit chart)"),
    Binding("e", "network_edit", "Set weights", id="network-edit",
            tooltip="Network view: set the selected unit's weights and bias by hand (a training run pauses meanwhile)"),
]

PALETTE_TITLES = {"network": "Network view: every unit of every layer / back to the charts",
                  "network-edit": "Network view: set the selected unit's weights and bias by hand"}


class NetworkActions:
    """Actions for the keys above; the screen provides the chart tabs and the neuron chart."""

    _tab_before_network = "loss"

    @property
    def network_chart(self) -> NetworkChart:
        return self.query_one(NetworkChart)  # type: ignore[attr-defined]

    @property
    def network_shown(self) -> bool:
        return self.has_class("-network")  # type: ignore[attr-defined]

    def show_network(self, shown: bool) -> None:
        """Switch the chart area to the network view (or back to the chart shown before)."""
        tabs = self.query_one(Tabs)  # type: ignore[attr-defined]
        if shown and tabs.active != "network":
            self._tab_before_network = tabs.active or "loss"
            tabs.active = "network"
        elif not shown and tabs.active == "network":
            tabs.active = self._tab_before_network

    def network_tab(self, active: str | None) -> None:
        """The chart tab changed (the screen's handler calls this): the view follows it."""
        shown = active == "network"
        if shown != self.network_shown:
            self.set_class(shown, "-network")  # type: ignore[attr-defined]
            self.refresh_bindings()  # type: ignore[attr-defined]
            if shown:
                self.query_one("#charts").focus()  # type: ignore[attr-defined]  # so that the arrows select

    def action_network(self) -> None:
        self.show_network(not self.network_shown)

    def action_network_move(self, layers: int, units: int) -> None:
        self.network_chart.move(layers, units)

    def action_network_page(self, pages: int) -> None:
        self.network_chart.page(pages)

    def action_network_open(self) -> None:
        """The selected unit, big: the neuron chart (last hidden layer) or the fit chart (output)."""
        chart = self.network_chart
        self._tab_before_network = "fit" if chart.on_output else "neuron"
        if not chart.on_output:
            self.open_neuron(*chart.selection)
        self.show_network(False)

    def open_neuron(self, layer: int, unit: int) -> None:
        """Show hidden ``layer``'s ``unit`` in the neuron chart (the last layer is kept as "the last")."""
        neuron: NeuronChart = self.neuron_chart  # type: ignore[attr-defined]
        neuron.hidden_layer = None if layer >= self.network_chart.layer_count else layer
        self._set_neuron(unit)  # type: ignore[attr-defined]
        neuron.changed()

    def action_network_edit(self) -> None:
        """``e``: the selected unit's weights by hand, in a dialog (quadtui.tui.screens.weight_edit)."""
        from quadtui.tui.screens.weight_edit import edit_selected_unit

        self.app.run_worker(edit_selected_unit(self), group="weight-edit", exclusive=True)  # type: ignore[attr-defined]

    def network_action_allowed(self, action: str) -> bool | None:
        """The arrow, page, Enter and edit keys act only while the network view is shown."""
        if action in ("network_move", "network_page", "network_open", "network_edit"):
            return self.network_shown
        return True
