"""The footer, responsive: at 80 columns it keeps train, pause, quit and help and drops the rest.

Textual's footer shows every binding with ``show=True`` in binding order and cuts the
line at the terminal's edge — at 80 columns that cut off quit and help.  Here the
essential keys come first, and each key gets a tier class; the app's width
breakpoints (``-cols-narrow`` / ``-cols-medium``) hide the lower tiers in CSS
(app.tcss), so nothing needs resize code.  Every key still works, and F1 lists all.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: always shown, first: what a learner needs to start, stop, leave and find the rest (and, in the
#: network view only, the key that sets a weight by hand: else the wide footer's tail hides it)
ESSENTIAL = ("train", "pause", "quit", "help", "network_edit")
#: shown only from 100 columns (tier 2) or from 120 columns (tier 3); every other key always
TIERS = {
    "step": 2,
    "reset": 2,
    "toggle_form": 2,
    "runs": 2,
    "sweep": 2,
    "neuron": 3,
    "contribution": 3,
}

#: for modal screens: Textual hides the app's own keys under a modal, so help and quit are repeated there
MODAL_BINDINGS = [
    Binding("f1", "app.help", "Help", tooltip="What every key does and what the charts show"),
    Binding("ctrl+q", "app.quit", "Quit", tooltip="Stop training and leave"),
]

BREAKPOINTS = [(0, "-cols-narrow"), (100, "-cols-medium"), (120, "-cols-wide")]


def action_name(action: str) -> str:
    """``app.step(1)`` -> ``step``."""
    return action.partition("(")[0].rpartition(".")[2]


def tier(action: str) -> int:
    return TIERS.get(action_name(action), 1)


class KeyFooter(Footer):
    """A :class:`Footer` with the essential keys first and ``-tier1``/``-tier2``/``-tier3`` classes."""

    def compose(self) -> ComposeResult:
        widgets: list[Widget] = list(super().compose())
        keys = [widget for widget in widgets if isinstance(widget, FooterKey)]
        if len(keys) != len(widgets):  # binding groups (none here): keep Textual's order
            yield from widgets
            return
        for key in keys:
            key.add_class(f"-tier{tier(key.action)}")

        # then the focused widget's own keys (as Textual orders them), then the screen's in the order it
        # lists them (its own first, then its components', whatever the focus), the palette last
        listed = getattr(self.screen, "key_bindings", None)
        order = [binding.action for binding in listed()] if callable(listed) else []

        def rank(key: FooterKey) -> tuple[int, int]:
            name = action_name(key.action)
            if name in ESSENTIAL:
                return 0, ESSENTIAL.index(name)
            if name == "command_palette":
                return 2, 0
            return 1, order.index(key.action) if key.action in order else -1

        yield from sorted(keys, key=rank)  # stable: the focused widget's keys keep their order

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Rebuilt only while it can be seen: not under a full screen (the class board, a sweep).

        Textual rebuilds every key whenever its screen's bindings may have changed — pushing
        another screen over it is such a moment, and opening the class board paid ~15 ms of CPU
        for a footer no one saw.  Its screen's resume brings it up to date (Textual refreshes the
        bindings then).
        """
        stack = self.app.screen_stack
        if self.is_attached and stack and stack[-1] is not self.screen and not isinstance(stack[-1], ModalScreen):
            self._bindings_ready = True
            return
        super().bindings_changed(screen)
