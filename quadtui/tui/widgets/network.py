"""The network view's widget: :func:`quadtui.charts.network.network_chart` with a selected unit.

The selection is (layer, unit): layers 1… are the hidden layers, one more is the
output.  Moving it pages through wide layers (the page is the one holding the
selected unit), so keys only ever change two numbers and the picture follows.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from quadtui.charts import ChartTheme
from quadtui.charts.network import network_chart, network_layout
from quadtui.charts.units import hidden_layers
from quadtui.tui.widgets.chart import Chart

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot


class NetworkChart(Chart):
    """Every unit of every layer, one braille tile each; a selected unit to open big."""

    TITLE = "network"

    def __init__(
        self, selection: tuple[int, int] = (1, 0), *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        #: (layer, unit): layer 1-based, ``layer_count + 1`` is the output (Textual has ``layer`` and ``layers``)
        self.selection = selection

    # -- the shape of the network on screen ------------------------------------------------
    @property
    def layer_count(self) -> int:
        """Hidden layers of the run on screen (1 before any run)."""
        return len(hidden_layers(self.snapshot)) if self.snapshot is not None else 1

    @property
    def units(self) -> int:
        snap = self.snapshot
        return int(hidden_layers(snap)[-1].shape[1]) if snap is not None else 1

    @property
    def on_output(self) -> bool:
        return self.selection[0] > self.layer_count

    @property
    def page_size(self) -> int:
        """Tiles per layer at the current size (at least 1)."""
        width, height = self.content_size
        layout = network_layout(width, height, self.layer_count, self.units)
        return layout.page if layout is not None else 1

    # -- the selection ---------------------------------------------------------------------
    def select(self, layer: int, unit: int) -> None:
        """Select hidden ``layer`` (1-based; layers + 1: the output), ``unit``; clamped to the network."""
        layer = max(1, min(self.layer_count + 1, layer))
        unit = max(0, min(self.units - 1, unit))
        if (layer, unit) != self.selection:
            self.selection = (layer, unit)
            self.changed()

    def move(self, layers: int = 0, units: int = 0) -> None:
        """Arrow keys: ``layers`` across (to the output at the right end), ``units`` down."""
        layer, unit = self.selection
        self.select(layer + layers, unit + (units if not self.on_output else 0))

    def page(self, pages: int) -> None:
        """Page up/down: the same place on the previous/next page of units."""
        layer, unit = self.selection
        self.select(layer, unit + pages * self.page_size)

    def show(self, snapshot: Snapshot | None) -> None:
        super().show(snapshot)
        if snapshot is not None:
            self.select(*self.selection)  # a new run may have fewer layers or units

    # -- drawing ---------------------------------------------------------------------------
    def title(self) -> str:
        if self.snapshot is None:
            return self.TITLE
        if self.on_output:
            return f"{self.TITLE} · output"
        layer, unit = self.selection
        return f"{self.TITLE} · layer {layer} · neuron {unit} of {self.units}"

    def mode(self) -> Hashable:
        return self.selection

    def draw(self, width: int, height: int, theme: ChartTheme) -> str:
        return network_chart(self.snapshot, width, height, theme, self.selection)
