"""``QuadApp``: the live app.  Thin — the work is in screens/, widgets/ and worker.py."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.filter import LineFilter
from textual.notifications import Notify, SeverityLevel
from textual.screen import Screen

from quadtui.core.budget import app_budget
from quadtui.core.config import Config
from quadtui.core.lesson import Lesson
from quadtui.served import in_browser
from quadtui.tui import browser as browser_keys
from quadtui.tui.class_post import ClassPoster
from quadtui.tui.screens.train import DEFAULT_SPEED, TrainScreen
from quadtui.tui.session import bind_to_session
from quadtui.tui.terminal_caps import AsciiFilter, few_colours, unicode_ok
from quadtui.tui.widgets.footer import BREAKPOINTS

LIGHT, DARK = "textual-light", "textual-dark"
#: for 16-colour terminals: the terminal's own palette, not blends rounded to harsh ANSI colours
ANSI_LIGHT, ANSI_DARK = "ansi-light", "ansi-dark"


class QuadApp(App[int]):
    """Type hyperparameters, press a key, watch a small network learn y = x²."""

    CSS_PATH = "app.tcss"
    TITLE = "quadtui"
    HORIZONTAL_BREAKPOINTS = BREAKPOINTS  # every screen gets -cols-narrow / -cols-medium / -cols-wide
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="What every key does and what the charts show"),
        Binding(
            "d,f3",
            "toggle_dark",
            "Light/dark",
            id="theme",
            tooltip="Switch between a dark and a light theme",
            show=False,
        ),
        Binding(
            "b",
            "board",
            "Class board",
            id="board",
            show=False,
            tooltip="The class's posted runs, best first (quadtui --class DIR)",
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Stop training and leave", priority=True),
    ]

    def __init__(
        self,
        config: Config | None = None,
        *,
        threads: int = 1,
        neuron: int = 0,
        autorun: bool = False,
        lesson: Lesson | None = None,
        sweep: str | None = None,
        speed: float | None = DEFAULT_SPEED,
        max_memory: int | None = None,
        browser: bool | None = None,
        view: str = "charts",
        neuron_layer: int | None = None,
        class_dir: Path | None = None,
        board: bool = False,
        grid: list[str] | None = None,
    ) -> None:
        super().__init__()
        #: drawn in a browser (``quadtui --serve``): show keys a browser lets through (see tui/browser.py)
        self.browser = in_browser() if browser is None else browser
        self.max_memory = app_budget(max_memory)  # bytes a run or sweep may need (quadtui.core.budget)
        self.lesson = lesson
        self.sweep_spec = sweep
        self.recent_paths: dict[str, str] = {}  # the last path given for each kind of file, offered next time
        self.ascii = not unicode_ok()
        self._ascii_filter = AsciiFilter()
        self.grid_specs = grid  # quadtui --sweep A=… --sweep B=…
        self.train_screen = TrainScreen(
            config or Config(),
            threads=threads,
            neuron=neuron,
            autorun=autorun,
            lesson=lesson,
            speed=speed,
            view=view,
            neuron_layer=neuron_layer,
        )
        self.class_dir = class_dir  # the class folder finished runs go to (quadtui --class DIR)
        self.open_board = board
        if class_dir is not None:
            self.train_screen.runs.on_add = ClassPoster(self, class_dir, lesson.name if lesson else None)
        if few_colours(self.console.color_system):
            self.theme = ANSI_DARK

    def get_default_screen(self) -> Screen[None]:
        return self.train_screen

    def get_line_filters(self) -> list[LineFilter]:
        filters = list(super().get_line_filters())
        if self.ascii:  # no UTF-8 locale: boxes, bars and braille as ASCII
            filters.append(self._ascii_filter)
        return filters

    def on_resize(self, event: events.Resize) -> None:
        """The screens under a modal lay themselves out for the new size too (Textual tells only the top one)."""
        for screen in self.screen_stack[:-1]:
            screen.post_message(events.Resize(event.size, event.virtual_size))

    def on_mount(self) -> None:
        bind_to_session(self)
        if self.sweep_spec:  # quadtui --sweep SPEC: open that sweep at once
            self.call_after_refresh(self.train_screen.sweep_from_spec, self.sweep_spec)
        if self.grid_specs:
            self.call_after_refresh(self._open_grid, self.grid_specs)
        if self.open_board:  # quadtui --class DIR --board
            self._open_board()

    async def action_quit(self) -> None:
        self.workers.cancel_all()  # stop training first: the shutdown then has the CPU to itself
        poster = self.train_screen.runs.on_add
        if isinstance(poster, ClassPoster):
            poster.flush(timeout=3.0)  # a run being posted to the class is not lost (a post takes milliseconds)
        gc.freeze()  # nothing left to collect that matters: spare the interpreter's exit the walk
        await super().action_quit()

    def action_help(self) -> None:
        from quadtui.tui.screens.help import HelpScreen  # here, not at start-up: Markdown costs the first frame ~60 ms

        if not isinstance(self.screen, HelpScreen):
            sections = self.help_sections()
            if self.browser:  # the keys a browser lets through, and the text naming them
                sections = [(title, browser_keys.browser_bindings(bindings)) for title, bindings in sections]
                self.push_screen(HelpScreen(sections, self.for_browser))
            else:
                self.push_screen(HelpScreen(sections))

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        """Every screen's keys, from the bindings themselves (F1 lists exactly what works)."""
        from quadtui.tui.screens.code import CodeScreen
        from quadtui.tui.screens.help import HelpScreen
        from quadtui.tui.screens.share import ShareScreen
        from quadtui.tui.screens.sweep import SweepScreen
        from quadtui.tui.widgets.runs_table import RunsTable

        palette = Binding(
            self.COMMAND_PALETTE_BINDING,
            "command_palette",
            "Command palette",
            tooltip="Search every command by name (also the ones without a key of their own)",
        )

        def own(bindings: Iterable[BindingType]) -> list[Binding]:  # a screen's own keys (help and quit listed once)
            return [b for b in _bindings(bindings) if not b.action.startswith("app.")]

        return [
            ("Main screen", [*own(self.train_screen.key_bindings()), *_bindings(self.BINDINGS), palette]),
            ("Runs table (r)", own(RunsTable.BINDINGS)),
            ("Code view (ctrl+g)", own(CodeScreen.BINDINGS)),
            ("Share (ctrl+s)", own(ShareScreen.BINDINGS)),
            ("Sweep screen (v)", own(SweepScreen.BINDINGS)),
            ("This help", own(HelpScreen.BINDINGS)),
        ]

    # -- in a browser: the keys it lets through --------------------------------------------------
    def for_browser(self, text: str) -> str:
        """``text`` as this app shows it: in a browser, keys the browser takes are named by their stand-ins."""
        if not self.browser:
            return text
        return browser_keys.for_browser(
            text, browser_keys.alternatives([*self.train_screen.key_bindings(), *_bindings(self.BINDINGS)])
        )

    def on_app_focus(self, event: events.AppFocus) -> None:
        if self.browser:  # maybe a reloaded page, blank until drawn: draw the whole screen (one frame)
            self.refresh()

    def action_command_palette(self) -> None:
        if not self.browser:
            super().action_command_palette()
        elif self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]  # (App[object]: stubs too narrow)  # as Textual's, with a plain glyph
            self.push_screen(browser_keys.BrowserCommandPalette(id="--command-palette"))

    def get_key_display(self, binding: Binding) -> str:
        if self.browser and binding.key in browser_keys.BROWSER_TAKEN:
            stand_ins = browser_keys.alternatives([*self.train_screen.key_bindings(), *_bindings(self.BINDINGS)])
            other = stand_ins.get(binding.key)
            if other is None:  # quitting: the footer's button, clicked
                return browser_keys.QUIT_BUTTON_LABEL
            return browser_keys.key_name(other)  # F5, as the help writes it
        return super().get_key_display(binding)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        super().notify(
            self.for_browser(message), title=self.for_browser(title), severity=severity, timeout=timeout, markup=markup
        )

    def on_notify(self, event: Notify) -> None:
        """One notification at a time: a new one replaces the one shown.

        Stacked toasts (three are four lines each) cover most of the charts at 80×24, and
        the newest says what the student just did.  Runs before ``App._on_notify`` (handlers
        of a subclass come first), which then shows ``event``'s notification alone.
        """
        self.clear_notifications()

    def _open_grid(self, specs: list[str]) -> None:
        from quadtui.core.config import ConfigError
        from quadtui.core.sweep.grid import parse_grid_specs
        from quadtui.tui.screens.sweep_grid import start_grid

        try:  # (the command line checked them already)
            params, values = parse_grid_specs(specs, self.train_screen.config)
        except ConfigError as exc:
            self.notify(str(exc), title="Sweep not started", severity="error", timeout=10)
            return
        start_grid(self.train_screen.compare, self.train_screen.config, params, values)

    def action_board(self) -> None:
        if self.screen is not self.train_screen:  # not over a sweep, a dialog or the board itself
            return
        if self.class_dir is None:
            self.notify("No class folder: start quadtui with --class DIR (or set $QUADTUI_CLASS).", timeout=5)
            return
        self._open_board()

    def _open_board(self) -> None:
        from quadtui.tui.screens.board import BoardScreen

        board = BoardScreen(self.class_dir)  # type: ignore[arg-type]
        self.push_screen(board, lambda config: self.train_screen.compare.use_config(config, board.used_name))

    def action_toggle_dark(self) -> None:
        if self.theme in (ANSI_DARK, ANSI_LIGHT):
            self.theme = ANSI_LIGHT if self.current_theme.dark else ANSI_DARK
        else:
            self.theme = LIGHT if self.current_theme.dark else DARK

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Light/dark theme", "Switch between a dark and a light theme", self.action_toggle_dark)
        yield SystemCommand("Help", "What every key does and what the charts show", self.action_help)
        if self.class_dir is not None:
            yield SystemCommand("Class board", "The class's posted runs, best first", self.action_board)
        for title, help_text, run in self.train_screen.commands():
            yield SystemCommand(title, help_text, run)


def _bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    """``bindings`` as Binding objects (the app and its screens declare no other kind)."""
    return [b for b in bindings if isinstance(b, Binding)]
