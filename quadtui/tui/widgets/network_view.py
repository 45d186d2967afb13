"""The network view, as one component of the main screen: ``n`` (or tab 4) shows every unit of every layer.

The view is the chart tab ``network``: choosing it (with ``n``, ``4``, a click on the
tab or ``--view network``) sets :attr:`NetworkView.shown`, whose class ``-network``
lets the network chart take the whole chart area on any terminal.  While it is shown
the arrow keys move the selected unit, page up/down page through a wide layer, and
Enter opens the selected unit big in the neuron chart (the output: the fit chart; which
neuron that is, the screen learns from a :class:`NetworkView.UnitOpened` message) and ``e``
sets its weights by hand (:mod:`quadtui.tui.screens.weight_edit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.reactive import var
from textual.widgets import Tabs

from quadtui.tui.widgets.network import NetworkChart
from quadtui.tui.widgets.run_charts import NeuronChart


class NetworkView(Container):
    """The keys of the network view, and whether it is shown."""

    DEFAULT_CSS = "NetworkView { height: 1fr; }"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n",
            "network",
            "Network",
            id="network",
            tooltip="Show the whole network: every unit of every layer, the weights between them (again: back)",
        ),
        Binding("4", "network_show", "Network view", show=False, tooltip="Small terminals: show the network view"),
        Binding("up", "network_move(0, -1)", "Unit up", show=False, tooltip="Network view: select the unit above"),
        Binding("down", "network_move(0, 1)", "Unit down", show=False, tooltip="Network view: select the unit below"),
        Binding(
            "left",
            "network_move(-1, 0)",
            "Layer left",
            show=False,
            tooltip="Network view: select the same unit in the layer before",
        ),
        Binding(
            "right",
            "network_move(1, 0)",
            "Layer right",
            show=False,
            tooltip="Network view: select the same unit in the next layer (at the end: the output)",
        ),
        Binding(
            "pageup", "network_page(-1)", "Page up", show=False, tooltip="Network view: the previous page of units"
        ),
        Binding("pagedown", "network_page(1)", "Page down", show=False, tooltip="Network view: the next page of units"),
        Binding(
            "enter",
            "network_open",
            "Open unit",
            show=False,
            tooltip="Network view: open the selected unit big in the neuron chart (the output: the fit chart)",
        ),
        Binding(
            "e",
            "network_edit",
            "Set weights",
            id="network-edit",
            tooltip="Network view: set the selected unit's weights and bias by hand (a training run pauses meanwhile)",
        ),
    ]

    #: longer names than the footer's, for searching the palette
    PALETTE_TITLES: ClassVar[dict[str, str]] = {
        "network": "Network view: every unit of every layer / back to the charts",
        "network-edit": "Network view: set the selected unit's weights and bias by hand",
    }

    @dataclass(eq=False)
    class UnitOpened(Message):
        """Enter on hidden ``layer``'s ``unit`` (1-based layer): the neuron chart should show that neuron."""

        view: NetworkView
        layer: int
        unit: int

        @property
        def control(self) -> NetworkView:
            return self.view

    #: the network chart fills the chart area; the arrows, page keys and Enter act on it
    shown = var(False, toggle_class="-network", bindings=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tab_before = "loss"  # the chart tab to go back to

    @property
    def chart(self) -> NetworkChart:
        return self.query_one(NetworkChart)

    def show(self, shown: bool) -> None:
        """Switch the chart area to the network view (or back to the chart shown before)."""
        tabs = self.query_one(Tabs)
        if shown and tabs.active != "network":
            self._tab_before = tabs.active or "loss"
            tabs.active = "network"
        elif not shown and tabs.active == "network":
            tabs.active = self._tab_before

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        """The chart tab changed (a key, a click): the view follows it.  (The screen shows that chart too.)"""
        self.shown = event.tab is not None and event.tab.id == "network"

    def watch_shown(self, shown: bool) -> None:
        if shown:
            self.query_one("#charts").focus()  # so that the arrows select

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The arrow, page, Enter and edit keys act only while the network view is shown."""
        if action in ("network_move", "network_page", "network_open", "network_edit"):
            return self.shown
        return True

    # -- the keys -------------------------------------------------------------------------------
    def action_network(self) -> None:
        self.show(not self.shown)

    def action_network_show(self) -> None:
        self.show(True)

    def action_network_move(self, layers: int, units: int) -> None:
        self.chart.move(layers, units)

    def action_network_page(self, pages: int) -> None:
        self.chart.page(pages)

    def action_network_edit(self) -> None:
        """``e``: the selected unit's weights by hand, in a dialog, for the screen's run."""
        from quadtui.tui.screens.weight_edit import edit_selected_unit

        self.app.run_worker(edit_selected_unit(self.screen), group="weight-edit", exclusive=True)

    def action_network_open(self) -> None:
        """The selected unit, big: the neuron chart (any hidden layer) or the fit chart (output)."""
        chart = self.chart
        self._tab_before = "fit" if chart.on_output else "neuron"
        if not chart.on_output:
            self.open_neuron(*chart.selection)
        self.show(False)

    def open_neuron(self, layer: int, unit: int) -> None:
        """Show hidden ``layer``'s ``unit`` in the neuron chart (the last layer is kept as "the last")."""
        self.query_one(NeuronChart).hidden_layer = None if layer >= self.chart.layer_count else layer
        self.post_message(self.UnitOpened(self, layer, unit))
