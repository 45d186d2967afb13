"""``QuadApp``: the live app.  Thin — the work is in screens/, widgets/ and worker.py."""

from __future__ import annotations

import gc
from typing import Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from quadtui.core.config import Config
from quadtui.core.lesson import Lesson
from quadtui.served import in_browser
from quadtui.tui import browser as browser_keys
from quadtui.tui.screens.help import CHARTS, HelpScreen
from quadtui.tui.screens.train import TrainScreen

LIGHT, DARK = "textual-light", "textual-dark"


class QuadApp(App[int]):
    """Type hyperparameters, press a key, watch a small network learn y = x²."""

    CSS_PATH = "app.tcss"
    TITLE = "quadtui"
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="What every key does and what the charts show"),
        Binding("d,f3", "toggle_dark", "Light/dark", id="theme", tooltip="Switch between a dark and a light theme",
                show=False),
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Stop training and leave", priority=True),
    ]

    def __init__(self, config: Config | None = None, *, threads: int = 1, neuron: int = 0,
                 autorun: bool = False, lesson: Lesson | None = None, sweep: str | None = None,
                 browser: bool | None = None) -> None:
        super().__init__()
        #: drawn in a browser (``quadtui --serve``): show keys a browser lets through (see tui/browser.py)
        self.browser = in_browser() if browser is None else browser
        self.lesson = lesson
        self.sweep_spec = sweep
        self.train_screen = TrainScreen(config or Config(), threads=threads, neuron=neuron, autorun=autorun,
                                        lesson=lesson)

    def get_default_screen(self) -> Screen[None]:
        return self.train_screen

    def on_mount(self) -> None:
        if self.sweep_spec:  # quadtui --sweep SPEC: open that sweep at once
            self.call_after_refresh(self.train_screen.sweep_from_spec, self.sweep_spec)

    async def action_quit(self) -> None:
        self.workers.cancel_all()  # stop training first: the shutdown then has the CPU to itself
        gc.freeze()  # nothing left to collect that matters: spare the interpreter's exit the walk
        await super().action_quit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            bindings = [*self.train_screen.BINDINGS, *self.BINDINGS]
            if self.browser:
                self.push_screen(HelpScreen(browser_keys.browser_bindings(bindings), self.for_browser(CHARTS)))
            else:
                self.push_screen(HelpScreen(bindings))

    # -- in a browser: the keys it lets through --------------------------------------------------
    def for_browser(self, text: str) -> str:
        """``text`` as this app shows it: in a browser, keys the browser takes are named by their stand-ins."""
        if not self.browser:
            return text
        return browser_keys.for_browser(text, browser_keys.alternatives([*self.train_screen.BINDINGS,
                                                                         *self.BINDINGS]))

    def on_app_focus(self, event: events.AppFocus) -> None:
        if self.browser:  # maybe a reloaded page, blank until drawn: draw the whole screen (one frame)
            self.refresh()

    def get_key_display(self, binding: Binding) -> str:
        if self.browser and binding.key in browser_keys.BROWSER_TAKEN:
            other = browser_keys.alternatives([*self.train_screen.BINDINGS, *self.BINDINGS]).get(binding.key)
            if other is None:  # quitting: the footer's button, clicked
                return browser_keys.QUIT_BUTTON_LABEL
            return browser_keys.key_name(other)  # F5, as the help writes it
        return super().get_key_display(binding)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        super().notify(self.for_browser(message), title=self.for_browser(title), severity=severity,
                       timeout=timeout, markup=markup)

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Light/dark theme", "Switch between a dark and a light theme", self.action_toggle_dark)
        yield SystemCommand("Help", "What every key does and what the charts show", self.action_help)
        for title, help_text, action in self.train_screen.commands():
            yield SystemCommand(title, help_text, lambda action=action: self.train_screen.run_action(action))
