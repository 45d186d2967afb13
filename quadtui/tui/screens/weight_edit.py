"""A weight by hand: ``e`` in the network view opens the selected unit's parameters in a small dialog.

The dialog lists the unit's incoming weights, its bias and its outgoing weights
(:func:`quadtui.core.hand_edit.unit_parameters`), one compact line each, prefilled with
their values now.  Enter checks every field (a bad one gets one line naming it and what
is allowed, and the focus) and gives the changed ones; Escape gives nothing.

:func:`edit_selected_unit` is the flow around it, run as a worker: a run that is training
is paused first (a teacher expects the network to hold still while a weight is typed)
and goes on once the dialog closes; a finished run is refused in one line; the charts
go back to now if they were looking at a checkpoint.  The changes go to the run through
its :class:`~quadtui.core.control.Control` (to a child process: its ``"edit"`` message),
which sets them before its next epoch and records them for the export.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from quadtui.core.config import ConfigError
from quadtui.core.hand_edit import ALLOWED, Change, UnitParameter, parameter_of, parse_weight, unit_parameters
from quadtui.tui.widgets.footer import MODAL_BINDINGS

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

#: how long to wait for a training run to report that it paused (s)
PAUSE_WAIT = 10.0
#: the dialog lists at most this many of a unit's incoming (and of its outgoing) weights: the largest
GROUP_MOST = 16
#: the dialog's rows besides its fields: borders, hint, a message and the keys (wrapped) with their margins
CHROME_ROWS = 9  # (and a line per note)


def shown_value(value: float) -> str:
    """A float32 parameter as the shortest text that reads back to it."""
    return str(np.float32(value))


def unit_title(layer: int, unit: int, layers: int) -> str:
    return "output" if layer > layers else f"layer {layer} · neuron {unit}"


def listed(
    params: Sequence[UnitParameter], values: Sequence[float], most: int = GROUP_MOST
) -> tuple[list[int], list[str]]:
    """Which of a unit's ``params`` the dialog lists (positions, in order) and a note per group cut short:
    every one, but of a unit's incoming or outgoing weights when there are more than ``most``,
    the ``most`` largest (the ones that matter most to it; a dialog of hundreds of fields would be
    slow to open and no help)."""
    groups: dict[str, list[int]] = {}
    for i, param in enumerate(params):
        if param.name.endswith(".weight"):
            groups.setdefault(param.name, []).append(i)
    dropped: set[int] = set()
    notes = []
    for members in groups.values():
        if len(members) > most:
            ranked = sorted(members, key=lambda i: -abs(values[i]))
            dropped.update(ranked[most:])
            way = "incoming" if params[members[0]].label.startswith("weight from") else "outgoing"
            notes.append(f"The {most} largest of its {len(members)} {way} weights are listed.")
    return [i for i in range(len(params)) if i not in dropped], notes


class WeightEditScreen(ModalScreen["list[Change] | None"]):
    """A unit's parameters, one field each; Enter gives the changed ones, Escape None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        # priority: before the scrolling list of fields takes the arrows to scroll
        Binding("down", "app.focus_next", "Next field", show=False, priority=True),
        Binding("up", "app.focus_previous", "Previous field", show=False, priority=True),
        *MODAL_BINDINGS,
    ]

    DEFAULT_CSS = """
    WeightEditScreen { align: center middle; }
    #weight-dialog {
        width: 90%; max-width: 76; height: auto; max-height: 100%; padding: 0 1;
        border: round $accent; border-title-color: $text; background: $surface;
    }
    #weight-dialog .hint { color: $text-muted; }
    #weight-rows {
        layout: grid; grid-size: 3; grid-columns: 19 1fr 17; grid-rows: 1; height: auto; margin-top: 1;
    }
    #weight-rows .name { color: $text-muted; }
    #weight-rows Input.-invalid { color: $error; text-style: bold; }
    #weight-rows .param { padding-left: 1; color: $text-muted; }
    #weight-error { display: none; color: $error; text-style: bold; margin-top: 1; }
    #weight-error.-shown { display: block; }
    #weight-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, snap: Snapshot, layer: int, unit: int) -> None:
        super().__init__()
        self.snap = snap
        self.unit_layer, self.unit = layer, unit  # (``layer`` is taken by Textual)
        shapes = [tuple(w.shape) for w in snap.weights]
        params = unit_parameters(shapes, layer, unit)
        values = [float(parameter_of(snap.weights, p.name, p.index)[p.index]) for p in params]
        kept, self.notes = listed(params, values)
        self.params: list[UnitParameter] = [params[i] for i in kept]
        self.old = [values[i] for i in kept]
        self.texts = [shown_value(value) for value in self.old]

    def compose(self) -> ComposeResult:
        layers = len(self.snap.weights) // 2 - 1
        with Vertical(id="weight-dialog") as box:
            where = unit_title(self.unit_layer, self.unit, layers)
            box.border_title = f"set by hand · {where} · epoch {self.snap.epoch:,}"
            yield Static("Type new values: the run goes on from them.", classes="hint")
            for note in self.notes:
                yield Static(note, classes="hint")
            with ScrollableContainer(id="weight-rows", can_focus=False):  # a grid: name, value, name in train.py
                for i, (param, text) in enumerate(zip(self.params, self.texts)):
                    yield Label(param.label, classes="name")
                    yield Input(text, compact=True, id=f"weight-{i}")
                    yield Label(f"{param.name}[{', '.join(map(str, param.index))}]", classes="param")
            yield Static("", id="weight-error")
            yield Static(f"Enter: set · Esc: cancel · ↑↓: field · {ALLOWED}", id="weight-keys")

    def on_mount(self) -> None:
        self._fit_rows()
        self.query_one("#weight-0", Input).focus()

    def on_resize(self) -> None:
        self._fit_rows()

    def _fit_rows(self) -> None:
        """The fields scroll within what the terminal leaves them: the title, hint, message and keys stay."""
        rows = self.app.size.height - CHROME_ROWS - len(self.notes)
        self.query_one("#weight-rows").styles.max_height = max(3, rows)

    @property
    def inputs(self) -> list[Input]:
        return [self.query_one(f"#weight-{i}", Input) for i in range(len(self.params))]

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.input.remove_class("-invalid")
        self._error("")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        changes: list[Change] = []
        for box, param, old, before in zip(self.inputs, self.params, self.old, self.texts):
            text = box.value.strip()
            if text == before:
                continue
            try:
                value = parse_weight(param.label, text)
            except ConfigError as exc:
                box.add_class("-invalid")
                box.focus()
                self._error(str(exc))
                return
            if np.float32(value) != np.float32(old):
                changes.append((param.name, param.index, value))
        self.dismiss(changes)

    def _error(self, text: str) -> None:
        error = self.query_one("#weight-error", Static)
        error.update(text)
        error.set_class(bool(text), "-shown")


# -- the flow ----------------------------------------------------------------------------------
async def edit_selected_unit(screen: Any) -> None:
    """Pause the run on ``screen`` if it trains, ask for the selected unit's values, hand the changes
    to the run, and let it go on as it was (runs as a worker: it awaits the dialog)."""
    snap: Snapshot | None = screen.last
    if snap is None:
        screen.notify("No run yet: train first (ctrl+t), then set a weight by hand.", timeout=4)
        return
    if not screen.running or screen.control is None or snap.finished:
        screen.notify(
            "This run has finished: set weights by hand while a run is paused or training (ctrl+r: a new run, paused).",
            timeout=5,
        )
        return
    control, run_id = screen.control, snap.run_id
    was_training = not control.paused
    if was_training:
        control.pause()
    try:
        snap = await _paused_state(screen, run_id)
        if snap is None:
            screen.notify("The run did not pause: no weight was set.", severity="warning", timeout=4)
            return
        if getattr(screen, "travel", None) is not None:
            screen.time_travel.action_travel_to("end")  # the edit is to the run as it is now: show it so
        layer, unit = screen.network_chart.selection
        changes = await screen.app.push_screen_wait(WeightEditScreen(snap, layer, unit))
        if not changes:
            return
        if screen.control is not control or not screen.running:
            screen.notify("The run ended meanwhile: no weight was set.", severity="warning", timeout=4)
            return
        control.set_weights(changes)
        screen.notify(_said(snap, layer, unit, changes), title="Set by hand", timeout=4, markup=False)
    finally:
        if was_training and screen.control is control:
            control.resume()


async def _paused_state(screen: Any, run_id: int) -> Snapshot | None:
    """The run's snapshot once it says it is paused (None: it ended, or was replaced, or took too long)."""
    from quadtui.core.snapshot import Status

    deadline = time.monotonic() + PAUSE_WAIT
    while time.monotonic() < deadline:
        snap: Snapshot | None = screen.last
        if snap is None or snap.run_id != run_id or snap.finished:
            return None
        if snap.status in (Status.PAUSED, Status.READY) and screen.control is not None and screen.control.paused:
            return snap
        await asyncio.sleep(0.02)
    return None


def _said(snap: Snapshot, layer: int, unit: int, changes: Sequence[Change]) -> str:
    """``layer 1 · neuron 3: weight from x = 0.5 (and 1 more) from epoch 101 on``."""
    labels = {(p.name, p.index): p.label for p in unit_parameters([w.shape for w in snap.weights], layer, unit)}
    name, index, value = changes[0]
    more = f" (and {len(changes) - 1} more)" if len(changes) > 1 else ""
    where = unit_title(layer, unit, len(snap.weights) // 2 - 1)
    return f"{where}: {labels[name, index]} = {value:g}{more} from epoch {snap.epoch + 1:,} on"
