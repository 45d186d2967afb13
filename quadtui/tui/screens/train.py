"""The main screen: form, three live charts, status line — and every control.

Data flows one way: form → Config → training thread → RunUpdate message → charts
and status.  The screen keeps the latest snapshot of the current run; a message
from any other (cancelled) worker is dropped on arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Static, Tab, Tabs
from textual.worker import Worker

from quadtui.charts.run_store import RunStore
from quadtui.core import budget
from quadtui.core.config import Config, ConfigError, parse_value
from quadtui.core.control import DEFAULT_SPEED, Control
from quadtui.core.lesson import Lesson
from quadtui.tui import worker as train_worker
from quadtui.tui.messages import EngineLoaded, RunFailed, RunUpdate
from quadtui.tui.screens.live import LiveScreen
from quadtui.tui.screens.train_keys import CONTROLS, next_speed
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.compare_controls import CompareControls
from quadtui.tui.widgets.footer import KeyFooter
from quadtui.tui.widgets.form import ConfigForm, field_text
from quadtui.tui.widgets.lesson import LessonPanel
from quadtui.tui.widgets.network import NetworkChart
from quadtui.tui.widgets.network_view import NetworkView
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from quadtui.tui.widgets.runs_table import RunsTable
from quadtui.tui.widgets.share_controls import ShareControls
from quadtui.tui.widgets.status import StatusBar
from quadtui.tui.widgets.time_travel import TimeTravel
from quadtui.tui.widgets.timeline import TimelineBar

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

#: below this the three charts take turns (tabs); below MIN the app says the terminal is too small
WIDE = (110, 34)
MIN = (50, 15)


class ChartPanel(Container, can_focus=True):
    """The charts, as one focus stop: letter keys control the run while it has focus."""


class TrainScreen(LiveScreen[None]):
    """Form, charts and status line, and the keys that control the run.

    The other features are components around the form and the charts, each with its own keys:
    :class:`TimeTravel`, :class:`NetworkView`, :class:`ShareControls`, :class:`CompareControls`.
    """

    AUTO_FOCUS = "#charts"  # so that space, s, [ and ] work at once; Tab goes to the form
    BINDINGS = CONTROLS  # train, pause, step, speed, lr, neuron, charts, form

    # -- state: the status bar and the neuron chart are bound to these (data_bind) --------------
    #: the latest snapshot of the current run (numpy arrays inside: never compared, each one is new)
    last: var[Snapshot | None] = var(None, always_update=True)
    #: epochs per second; None: full speed
    speed: var[float | None] = var(DEFAULT_SPEED)
    #: the current run's lr as last asked for (before any run: the form's)
    lr = var(0.0)
    #: why the current run stopped with an error, or None
    error: var[str | None] = var(None)
    #: a word the status line shows instead of the run's state ("loading torch…"), or None
    note: var[str | None] = var(None)
    #: the hidden neuron the neuron chart shows
    neuron = var(0)
    #: the neuron chart shows wᵢ·hᵢ(x), the neuron's share of the output, instead of hᵢ(x)
    contribution = var(False)
    #: the charts take turns (tabs): the keys 1-3 choose one
    narrow = var(False, toggle_class="-narrow", bindings=True)
    #: below :data:`MIN`: only a line saying so
    too_small = var(False, toggle_class="-too-small")

    def __init__(
        self,
        config: Config,
        *,
        threads: int = 1,
        neuron: int = 0,
        autorun: bool = False,
        lesson: Lesson | None = None,
        speed: float | None = DEFAULT_SPEED,
        view: str = "charts",
        neuron_layer: int | None = None,
    ) -> None:
        super().__init__()
        self.neuron_layer = neuron_layer  # the neuron chart's hidden layer (1-based); None: the last
        self.start_view = view  # "charts" or "network": what the chart area shows first
        self.config = config  # what the form started with
        self.lesson = lesson
        self.threads = threads
        self.autorun = autorun
        self.set_reactive(TrainScreen.neuron, neuron)
        self.set_reactive(TrainScreen.speed, speed)
        self.set_reactive(TrainScreen.lr, config.lr)
        self._paced: float | None = speed if speed is not None else DEFAULT_SPEED  # what f goes back to
        self.control: Control | None = None
        self.worker: Worker[None] | None = None
        self.run_config: Config | None = None
        self.engine_loaded = False
        self._pending: tuple[Config, bool, int] | None = None  # a start asked for before torch loaded
        self.runs = RunStore()  # finished runs of this session, to compare

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        lesson = self.lesson
        if lesson is not None:
            yield LessonPanel(lesson)
        # the components' keys work wherever the focus is inside them: around the form and the charts
        with (
            TimeTravel(id="time-travel"),
            NetworkView(id="network-view"),
            ShareControls(id="share-controls").data_bind(TrainScreen.last),
            CompareControls(self.runs, self.config, self.threads, id="compare").data_bind(TrainScreen.last),
        ):
            with Horizontal(id="body"):
                yield ConfigForm(
                    self.config,
                    self.neuron,
                    locked=lesson.lock if lesson else (),
                    hidden=lesson.hide if lesson else (),
                    id="form",
                )
                with ChartPanel(id="charts"):
                    tabs = Tabs(
                        Tab("1 loss", id="loss"),
                        Tab("2 fit", id="fit"),
                        Tab("3 neuron", id="neuron"),
                        Tab("4 network", id="network"),
                        id="chart-tabs",
                    )
                    tabs.can_focus = False  # chosen with 1-4 or the mouse: a focus stop here would eat keys
                    yield tabs
                    yield LossChart(id="loss-chart", classes="-shown")
                    yield FitChart(id="fit-chart")
                    yield NeuronChart(self.neuron, hidden_layer=self.neuron_layer, id="neuron-chart").data_bind(
                        TrainScreen.neuron, TrainScreen.contribution
                    )
                    yield NetworkChart((self.neuron_layer or self.config.layers, self.neuron), id="network-chart")
                    yield TimelineBar()
            yield RunsTable(self.runs, id="runs")
        yield StatusBar().data_bind(
            latest=TrainScreen.last,
            speed=TrainScreen.speed,
            lr=TrainScreen.lr,
            error=TrainScreen.error,
            note=TrainScreen.note,
        )
        yield Static("terminal too small: make it at least {}×{}".format(*MIN), id="too-small")
        yield KeyFooter()

    @property
    def form(self) -> ConfigForm:
        return self.query_one(ConfigForm)

    @property
    def compare(self) -> CompareControls:
        return self.query_one(CompareControls)

    @property
    def network_shown(self) -> bool:
        """The chart area shows the network view."""
        return self.query_one(NetworkView).shown

    @property
    def network_chart(self) -> NetworkChart:
        return self.query_one(NetworkChart)

    @property
    def time_travel(self) -> TimeTravel:
        return self.query_one(TimeTravel)

    @property
    def travel(self) -> int | None:
        """The checkpoint the charts show (an index into the run's timeline), or None: the run as it is."""
        return self.time_travel.travel

    @property
    def replaying(self) -> bool:
        return self.time_travel.replaying

    @classmethod
    def key_bindings(cls) -> list[Binding]:
        """Every key of the main screen, its components' too (for the help and a browser's stand-in keys)."""
        return [binding for _, binding in cls._bindings_by_owner()]

    @classmethod
    def _bindings_by_owner(cls) -> list[tuple[type[Widget] | None, Binding]]:
        """(the component whose action it is, or None: the screen's; binding), as the help and palette list them."""
        owned: list[tuple[type[Widget] | None, list[BindingType]]] = [
            (None, cls.BINDINGS),
            (CompareControls, CompareControls.BINDINGS),
            (ShareControls, ShareControls.BINDINGS),
            (NetworkView, NetworkView.BINDINGS),
            (TimeTravel, TimeTravel.BINDINGS),
        ]
        return [(owner, binding) for owner, bindings in owned for binding in bindings if isinstance(binding, Binding)]

    @property
    def charts(self) -> list[Chart]:
        """The screen's charts (composed once, never remounted)."""
        return self.time_travel.charts

    @property
    def neuron_chart(self) -> NeuronChart:
        return self.query_one(NeuronChart)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        if self.autorun:
            self.note = "loading torch…"
        self._fit_size()
        self.query_one(NetworkView).show(self.start_view == "network")
        self.call_after_refresh(self._load_engine)  # torch loads after the first paint

    def on_resize(self) -> None:
        self._fit_size()

    def _fit_size(self) -> None:
        width, height = self.app.size  # also when a modal is on top (then this screen's size may lag)
        self.too_small = width < MIN[0] or height < MIN[1]
        self.narrow = width < WIDE[0] or height < WIDE[1]  # two axes at once: not breakpoints (one axis each)

    def watch_too_small(self, too_small: bool) -> None:
        if not too_small:
            self.call_after_refresh(self._keep_a_focus)  # the charts were hidden: their focus was lost

    def watch_focused(self, focused: Widget | None) -> None:
        if focused is None:
            self.call_after_refresh(self._keep_a_focus)

    def _keep_a_focus(self) -> None:
        """Focus the charts if nothing has focus: without one only the screen's own keys would work, not
        its components' (Textual's bindings follow the focused widget up to the screen)."""
        if self.focused is None and self.is_active and not self.too_small:
            self.query_one(ChartPanel).focus()

    # -- loading torch -----------------------------------------------------------------------
    @work(thread=True, group="load", exit_on_error=False)
    def _load_engine(self) -> None:
        train_worker.load_engine(self.post_message)

    def on_engine_loaded(self, message: EngineLoaded) -> None:
        if message.error is not None:
            self._fail(f"torch could not be loaded: {message.error}")
            return
        self.engine_loaded = True
        pending, self._pending = self._pending, None
        if pending is not None:
            self._launch(*pending)
        elif self.autorun:
            self.action_train()

    # -- runs --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A run is alive (training or paused), so controls go to it."""
        return self.worker is not None and not self.worker.is_finished and not self.worker.is_cancelled

    def _form_config(self) -> Config | None:
        return self.form.checked_config()

    def _start(self, config: Config, paused: bool = False, steps: int = 0) -> None:
        """Start ``config`` unless it is over the memory budget; say so first if its epochs will be slow."""
        refusal, warning = budget.verdict(config, None, self.app.max_memory)  # type: ignore[attr-defined]
        if refusal is not None:
            self.notify(refusal, title="Not started: too big", severity="error", timeout=10)
            return
        if warning is not None:
            self.notify(warning, title="A slow run", severity="warning", timeout=8)
        self._launch(config, paused, steps)

    def _launch(self, config: Config, paused: bool = False, steps: int = 0) -> None:
        if not self.engine_loaded:
            self._pending = (config, paused, steps)
            self.note = "loading torch…"
            return
        self.control = Control(paused=paused, speed=self.speed)
        if steps:
            self.control.step(steps)
        self.run_config = config
        self.lr = config.lr
        self.error = None
        self.note = "starting…"  # until the new run's first snapshot (a long first epoch is not "ready")
        self.worker = self._train(config, self.control)  # exclusive: cancels the previous run

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, config: Config, control: Control) -> None:
        train_worker.train(config, control, self.threads, self.post_message)

    def on_run_update(self, message: RunUpdate) -> None:
        recorded = self.runs.record(message.snapshot)  # finished (a run stopped by a newer one too): kept
        if message.worker is self.worker:
            self._show(message.snapshot)  # the components follow `last`: the table and overlays too
        elif recorded:  # the last words of a cancelled run: it joins the table
            self.compare.refresh_overlays()

    @on(CompareControls.PauseRun)
    def _pause_for_sweep(self) -> None:
        if self.running and self.control is not None:
            self.control.pause()  # the sweep gets the CPU; space resumes the run afterwards

    def sweep_from_spec(self, spec: str) -> None:
        """Start ``quadtui --sweep SPEC`` (e.g. ``hidden=1,2,4``) over the starting config."""
        self.compare.sweep_from_spec(spec)

    def on_screen_resume(self) -> None:
        if self.last is not None:  # what trained while a dialog covered the charts
            self.time_travel.show_charts(self.last)

    def _show(self, snap: Snapshot) -> None:
        self.last = snap  # the status line follows
        self.note = None
        self.form.set_units(snap.units)
        if self.neuron >= snap.units:
            self.neuron = snap.units - 1
        if self.is_active:  # under a dialog (dimmed, if seen at all) the charts wait: drawn on the way back
            self.time_travel.show_charts(snap)  # each chart: this state, or the checkpoint the timeline's cursor is on

    def on_run_failed(self, message: RunFailed) -> None:
        if message.worker is self.worker:
            if message.snapshot is not None:
                self._show(message.snapshot)
            self._fail(message.error)

    def _fail(self, error: str) -> None:
        self.error = error
        self.note = None
        self.notify(error, title="Training stopped with an error", severity="error", timeout=10)

    # -- actions -----------------------------------------------------------------------------
    def action_train(self) -> None:
        config = self._form_config()
        if config is not None:
            self._start(config)

    def action_reset(self) -> None:
        config = self._form_config()
        if config is not None:
            self._start(config, paused=True)

    def action_pause(self) -> None:
        if not self.running or self.control is None:
            if self.last is None or self.last.epoch == 0:
                self.action_train()
            else:
                self.notify("This run has finished: press ctrl+t to train again.", timeout=3)
            return
        if self.control.paused:
            self.control.resume()
        else:
            self.control.pause()

    def action_step(self, epochs: int) -> None:
        if self.running and self.control is not None:
            self.control.step(epochs)
        elif self.last is None:
            config = self._form_config()
            if config is not None:
                self._start(config, paused=True, steps=epochs)
        else:
            self.notify("This run has finished: press ctrl+r to reset, then step.", timeout=3)

    def action_speed(self, delta: int) -> None:
        self._set_speed(next_speed(self.speed, delta))

    def action_full_speed(self) -> None:
        self._set_speed(None if self.speed is not None else self._paced)

    def _set_speed(self, speed: float | None) -> None:
        self.speed = speed

    def watch_speed(self, speed: float | None) -> None:
        if speed is not None:
            self._paced = speed
        if self.control is not None:
            self.control.set_speed(speed)

    def action_lr(self, factor: float) -> None:
        current = self.lr if self.running else None
        if current is None:
            try:
                current = parse_value("lr", self.form.raw_values()["lr"])
            except ConfigError as exc:
                self.notify(str(exc), severity="error")
                return
        self._use_lr(current * factor)

    def action_apply_lr(self) -> None:
        try:
            lr = parse_value("lr", self.form.raw_values()["lr"])
        except ConfigError as exc:
            self.notify(str(exc), title="lr not changed", severity="error")
            return
        self._use_lr(lr)

    def _use_lr(self, lr: float) -> None:
        if not self.form.editable("lr"):
            self.notify("the learning rate is locked by the lesson", timeout=3)
            return
        try:
            lr = parse_value("lr", lr)
        except ConfigError as exc:
            self.notify(str(exc), title="lr not changed", severity="error")
            return
        self.form.set_value("lr", field_text(Config(lr=lr), "lr"))
        if self.running and self.control is not None:
            self.lr = lr  # asked for; the engine takes it at its next epoch
            self.control.set_lr(lr)
            self.notify(f"learning rate {lr:g} from the next epoch on", timeout=2)
        else:
            self.notify(f"learning rate {lr:g} for the next run", timeout=2)

    def action_neuron(self, delta: int) -> None:
        units = self.last.units if self.last is not None else self.config.hidden
        self.neuron = max(0, min(units - 1, self.neuron + delta))

    def watch_neuron(self, neuron: int) -> None:
        if self.is_mounted:
            self.form.set_neuron(neuron)

    @on(ConfigForm.NeuronChanged)
    def _neuron_picked(self, message: ConfigForm.NeuronChanged) -> None:
        self.neuron = message.neuron

    @on(NetworkView.UnitOpened)
    def _unit_opened(self, message: NetworkView.UnitOpened) -> None:
        self.neuron = message.unit

    @on(ConfigForm.Submitted)
    def _form_submitted(self) -> None:
        self.action_train()

    def action_contribution(self) -> None:
        self.contribution = not self.contribution

    def action_log_x(self) -> None:
        chart = self.query_one(LossChart)
        chart.log_x = not chart.log_x

    def action_toggle_form(self) -> None:
        form = self.form
        inside = self.focused is not None and (self.focused is form or form in self.focused.ancestors)
        form.display = not form.display
        if not form.display and (inside or self.focused is None):
            self.call_after_refresh(self.action_leave_field)

    def action_leave_field(self) -> None:
        self.query_one(ChartPanel).focus()

    def action_chart(self, name: str) -> None:
        self.query_one(Tabs).active = name

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        shown = event.tab.id if event.tab is not None else "loss"
        for chart in self.charts:
            chart.set_class(chart.id == f"{shown}-chart", "-shown")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "chart":
            return self.narrow
        return True

    # -- for the command palette ---------------------------------------------------------------
    #: longer names than the footer's, for searching the palette
    PALETTE_TITLES = {
        "pause": "Pause / resume",
        "neuron-prev": "Previous neuron",
        "neuron-next": "Next neuron",
        "contribution": "Neuron chart: activation / contribution",
        "log-x": "Loss chart: log / linear epoch axis",
        "slower": "Slower (fewer epochs per second)",
        "faster": "Faster (more epochs per second)",
        "lr-down": "Halve the learning rate",
        "lr-up": "Double the learning rate",
        "lr-apply": "Apply the lr field to the running run",
        "form": "Hide / show the form",
        "full-speed": "Full speed / back to the pace before",
        "chart-loss": "Show the loss chart (tab 1)",
        "chart-fit": "Show the fit chart (tab 2)",
        "chart-neuron": "Show the neuron chart (tab 3)",
        **CompareControls.PALETTE_TITLES,
        **ShareControls.PALETTE_TITLES,
        **NetworkView.PALETTE_TITLES,
        **TimeTravel.PALETTE_TITLES,
    }

    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, run it) for every control that has an id and applies now, as the palette offers them."""
        out: list[tuple[str, str, Callable[[], object]]] = []
        for owner, binding in self._bindings_by_owner():
            if binding.id == "lesson" and self.lesson is None:
                continue
            if binding.id and binding.id.startswith("chart-") and not self.narrow:
                continue  # all three charts are on screen
            node: TrainScreen | Widget = self if owner is None else self.query_one(owner)
            if node.check_action(binding.action.partition("(")[0], ()) is False:
                continue  # e.g. a network-view key, the view not shown
            if binding.id:
                title = self.PALETTE_TITLES.get(binding.id, binding.description)
                out.append((title, binding.tooltip, partial(node.run_action, binding.action)))
        return out
