"""The footer, responsive: at 80 columns it keeps train, pause, quit and help and drops the rest.

Textual's footer shows every binding with ``show=True`` and cuts the line at the
terminal's edge — at 80 columns that cut off quit and help.  Here each key gets a
tier class; the app's width breakpoints (``-cols-narrow`` / ``-cols-medium``) hide the
lower tiers in CSS (app.tcss), so nothing needs resize code.  Every key still works, and F1 lists all.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: actions shown only from 100 columns (tier 2) or from 120 columns (tier 3); all others always
TIERS = {
    "reset": 2, "runs": 2, "sweep": 2,
    "neuron": 3, "contribution": 3,
}

BREAKPOINTS = [(0, "-cols-narrow"), (100, "-cols-medium"), (120, "-cols-wide")]

def tier(action: str) -> int:
    return TIERS.get(action.partition("(")[0].rpartition(".")[2], 1)


class KeyFooter(Footer):
    """A :class:`Footer` whose keys carry ``-tier1``/``-tier2``/``-tier3`` classes."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.add_class(f"-tier{tier(widget.action)}")
            yield widget
