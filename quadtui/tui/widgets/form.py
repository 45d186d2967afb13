"""The hyperparameter form: one input per :data:`FIELDS` entry, checked as the CLI checks flags.

Every value goes through :func:`parse_value` and :class:`Config`, so a bad value
shows the same rule text as ``quadtui --lr 0`` would, under the field it is
about — cross-field rules (batch size > samples, x_min >= x_max) included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Select, Static

from quadtui.core.config import FIELDS, Config, ConfigError, parse_value, shown
from quadtui.core.expr import ALLOWED_TEXT, PRESETS

CUSTOM = "custom"
_SECTIONS = {
    "lr": "training",
    "hidden": "network",
    "samples": "data",
    "view_min": "view",
}
LOCKED_TIP = "locked by the lesson"


def field_text(config: Config, name: str) -> str:
    """How a config value is written in the form (and on the command line)."""
    value = getattr(config, name)
    if name == "batch_size" and value is None:
        return "full"
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?")


def field_message(exc: ConfigError, raw: Any) -> str:
    """The form's line for a refused value: the reason first, in few words.

    A formula's message names what is wrong with it (the whole grammar is in the
    field's tooltip and in F1); ``0,02`` in a number field gets "use a dot: 0.02".
    """
    text = raw.strip() if isinstance(raw, str) else raw
    if exc.field == "target" and exc.allowed.startswith(ALLOWED_TEXT):
        reason = exc.allowed[len(ALLOWED_TEXT) :].strip().removeprefix("(").removesuffix(")")
        if not text:
            return "f(x) is empty: type a formula in x, e.g. x**2 - 3*x"
        return f"f(x) = {shown(text, 32)}: {reason or 'not a formula'}"
    if (
        isinstance(text, str)
        and FIELDS.get(exc.field) is not None
        and FIELDS[exc.field].kind == "float"
        and _DECIMAL_COMMA.fullmatch(text)
    ):
        return f"{exc.field} = {shown(text, 32)}: use a dot: {text.replace(',', '.')}"
    return str(exc)


class FieldValidator(Validator):
    """Checks one field with the core's own rule, so the message matches the CLI's."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_value(self.name, value)
        except ConfigError as exc:
            return self.failure(str(exc), value)
        return self.success()


class ConfigForm(VerticalScroll, can_focus=False):
    """The settings of the next run.  ``check()`` gives a Config or per-field messages."""

    @dataclass(eq=False)
    class Submitted(Message):
        """Enter was pressed in a field."""

        form: ConfigForm

        @property
        def control(self) -> ConfigForm:
            return self.form

    @dataclass(eq=False)
    class NeuronChanged(Message):
        """The neuron picker chose hidden neuron ``neuron``."""

        form: ConfigForm
        neuron: int

        @property
        def control(self) -> ConfigForm:
            return self.form

    def __init__(
        self,
        config: Config,
        neuron: int = 0,
        *,
        locked: tuple[str, ...] = (),
        hidden: tuple[str, ...] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.config = config
        self.locked = frozenset(locked)  # shown, not editable (a lesson's lock)
        self.hidden = frozenset(hidden)  # not shown, not editable; the config's value is used
        self._neuron = neuron
        self._units = config.hidden
        self.errors: dict[str, str] = {}
        self._shown: dict[str, str] = {}  # the message each field shows now
        self._quiet: set[str] = set()  # fields just emptied for the learner to fill: no red until typed in

    # -- building -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        config = self.config
        shown_in = _shown_sections(self.hidden)
        for name, spec in FIELDS.items():
            if name in shown_in:
                yield Static(_SECTIONS[name], classes="section")
            tip = f"{spec.help}; {spec.allowed}"
            locked = name in self.locked
            with Vertical(classes="field", id=f"field-{name}") as box:
                box.tooltip = f"{LOCKED_TIP} ({tip})" if locked else tip
                box.display = name not in self.hidden
                box.set_class(locked, "-locked")
                with Horizontal(classes="row"):
                    yield Label(name.replace("_", " "), classes="name")
                    if spec.kind == "choice":
                        options = [(c, c) for c in spec.choices]
                        yield Select(
                            options,
                            value=getattr(config, name),
                            allow_blank=False,
                            compact=True,
                            id=name,
                            disabled=locked,
                        )
                    elif name == "target":
                        yield self._target_select(config.target, locked)
                    else:
                        placeholder = "sample range" if spec.optional and name != "batch_size" else ""
                        yield Input(
                            field_text(config, name),
                            placeholder=placeholder,
                            validators=[FieldValidator(name)],
                            validate_on=["changed", "submitted"],
                            compact=True,
                            id=name,
                            disabled=locked,
                        )
                if name == "target":
                    with Horizontal(classes="row custom", id="custom-row"):
                        yield Label("f(x) =", classes="name")
                        yield Input(
                            config.target if config.target not in PRESETS.values() else "",
                            placeholder="e.g. x**2 - 3*x",
                            validators=[FieldValidator("target")],
                            compact=True,
                            id="target-custom",
                            disabled=locked,
                        )
                yield Static("", classes="error", id=f"error-{name}")
        with Vertical(classes="field", id="field-neuron") as box:
            box.tooltip = "the hidden neuron the neuron chart shows ([ and ] change it)"
            with Horizontal(classes="row"):
                yield Label("neuron", classes="name")
                yield Select(self._neuron_options(), value=self._neuron, allow_blank=False, compact=True, id="neuron")

    @staticmethod
    def _target_select(target: str, locked: bool = False) -> Select[str]:
        presets = [(name if name == text else f"{name}  {text}", text) for name, text in PRESETS.items()]
        value = target if target in PRESETS.values() else CUSTOM
        return Select(
            [*presets, ("custom…", CUSTOM)], value=value, allow_blank=False, compact=True, id="target", disabled=locked
        )

    def _neuron_options(self) -> list[tuple[str, int]]:
        return [(str(i), i) for i in range(self._units)]

    def on_mount(self) -> None:
        self.border_title = "settings"
        self._show_custom()
        self.refresh_errors()

    # -- reading ---------------------------------------------------------------------------
    def raw_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in FIELDS:
            widget = cast("Input | Select[Any]", self.query_one(f"#{name}"))  # the form's fields are these
            value = widget.value
            if name == "target" and value == CUSTOM:
                value = self.query_one("#target-custom", Input).value
            values[name] = value
        return values

    def check(self) -> tuple[Config | None, dict[str, str]]:
        """The form's Config, or a message for each field that is not allowed."""
        errors: dict[str, str] = {}
        parsed: dict[str, Any] = {}
        for name, raw in self.raw_values().items():
            try:
                parsed[name] = parse_value(name, raw)
            except ConfigError as exc:
                errors[name] = field_message(exc, raw)
        try:  # rules between fields (the good ones; a bad one keeps its starting value here)
            config = self.config.replace(**parsed)
        except ConfigError as exc:  # shown on the field the rule names
            errors.setdefault(exc.field, str(exc))
            return None, errors
        return (None, errors) if errors else (config, {})

    def refresh_errors(self, *, all_errors: bool = False) -> dict[str, str]:
        """Show each field's message (a field being filled in for the first time: only if ``all_errors``)."""
        if all_errors:
            self._quiet.clear()
        config, self.errors = self.check()
        for name in FIELDS:
            message = "" if name in self._quiet else self.errors.get(name, "")
            if message != self._shown.get(name, ""):  # touch only what changed: no needless layout
                self._shown[name] = message
                error = self.query_one(f"#error-{name}", Static)
                error.update(message)
                error.set_class(bool(message), "-shown")
                self.query_one(f"#field-{name}").set_class(bool(message), "-invalid")
        return self.errors

    def checked_config(self) -> Config | None:
        """The form's config, or None after showing why not (inline, and as a notification)."""
        errors = self.refresh_errors(all_errors=True)
        config, _ = self.check()
        if config is None:
            name, message = next(iter(errors.items()))
            self.notify(message, title="Not started: fix the form", severity="error")
            self.focus_field(name, self.screen.focused)
        return config

    def focus_field(self, name: str, focused: object = None) -> None:
        """Focus where ``name`` is typed (f(x) for a custom target), unless ``focused`` already is it."""
        widget = self.query_one(f"#{name}")
        if name == "target" and self.query_one("#custom-row").display:
            widget = self.query_one("#target-custom", Input)
        if focused is not widget:
            widget.focus()

    # -- writing ---------------------------------------------------------------------------
    def editable(self, name: str) -> bool:
        """May the learner change this field (a lesson may lock or hide it)?"""
        return name not in self.locked and name not in self.hidden

    def set_value(self, name: str, text: str) -> bool:
        """Put ``text`` in a text field; a locked or hidden field keeps its value (returns False)."""
        if not self.editable(name):
            return False
        self.query_one(f"#{name}", Input).value = text
        return True

    def set_config(self, config: Config) -> list[str]:
        """Show ``config``'s values; the fields a lesson locks or hides keep theirs.

        Returns the fields that kept a value different from ``config``'s.
        """
        kept = []
        for name in FIELDS:
            if not self.editable(name):  # its value is still the one the form started with
                if getattr(config, name) != getattr(self.config, name):
                    kept.append(name)
                continue
            widget = cast("Input | Select[Any]", self.query_one(f"#{name}"))
            if name == "target":
                preset = config.target in PRESETS.values()
                widget.value = config.target if preset else CUSTOM
                if not preset:
                    self.query_one("#target-custom", Input).value = config.target
            elif isinstance(widget, Select):
                widget.value = getattr(config, name)
            else:
                widget.value = field_text(config, name)
        self._show_custom()
        self.refresh_errors()
        return kept

    def set_units(self, units: int) -> None:
        """The current run has ``units`` hidden neurons: offer exactly those."""
        if units == self._units:
            return
        self._units = units
        self._neuron = min(self._neuron, units - 1)
        select = self.query_one("#neuron", Select)
        with self.prevent(Select.Changed):
            select.set_options(self._neuron_options())
            select.value = self._neuron

    def set_neuron(self, neuron: int) -> None:
        self._neuron = neuron
        select = self.query_one("#neuron", Select)
        if select.value != neuron:
            with self.prevent(Select.Changed):
                select.value = neuron

    # -- events ----------------------------------------------------------------------------
    def _show_custom(self) -> None:
        custom = self.query_one("#target", Select).value == CUSTOM
        self.query_one("#custom-row").display = custom and "target" not in self.hidden

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "target-custom":
            self._quiet.discard("target")
        self.refresh_errors()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "neuron":
            if isinstance(event.value, int):
                self._neuron = event.value
                self.post_message(self.NeuronChanged(self, event.value))
            return
        if event.select.id == "target":
            self._show_custom()
            if event.value == CUSTOM and event.select.has_focus_within:  # picked now, not set at start
                custom = self.query_one("#target-custom", Input)
                if not custom.value.strip():
                    self._quiet.add("target")  # an empty f(x) to fill in is not an error yet
                custom.focus()
            else:
                self._quiet.discard("target")
        self.refresh_errors()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(self))


def _shown_sections(hidden: frozenset[str]) -> set[str]:
    """The fields that start a section with at least one field left to show."""
    names = list(FIELDS)
    starts = [names.index(first) for first in _SECTIONS] + [len(names)]
    return {
        names[start] for start, end in zip(starts, starts[1:]) if any(name not in hidden for name in names[start:end])
    }
