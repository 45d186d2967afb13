"""``QuadApp``: the live app.  Thin — the work is in screens/, widgets/ and worker.py."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from quadtui.core.budget import app_budget
from quadtui.core.config import Config
from quadtui.core.lesson import Lesson
from quadtui.tui.screens.help import HelpScreen
from quadtui.tui.screens.train import TrainScreen
from quadtui.tui.class_post import ClassPoster
from quadtui.tui.session import bind_to_session

LIGHT, DARK = "textual-light", "textual-dark"


class QuadApp(App[int]):
    """Type hyperparameters, press a key, watch a small network learn y = x²."""

    CSS_PATH = "app.tcss"
    TITLE = "quadtui"
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="What every key does and what the charts show"),
        Binding("d,f3", "toggle_dark", "Light/dark", id="theme", tooltip="Switch between a dark and a light theme",
                show=False),
        Binding("b", "board", "Class board", id="board", show=False,
                tooltip="The class's posted runs, best first (quadtui --class DIR)"),
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Stop training and leave", priority=True),
    ]

    def __init__(self, config: Config | None = None, *, threads: int = 1, neuron: int = 0,
                 autorun: bool = False, lesson: Lesson | None = None, sweep: str | None = None,
                 max_memory: int | None = None, class_dir: Path | None = None, board: bool = False,
                 grid: list[str] | None = None) -> None:
        super().__init__()
        self.max_memory = app_budget(max_memory)  # bytes a run or sweep may need (quadtui.core.budget)
        self.lesson = lesson
        self.sweep_spec = sweep
        self.grid_specs = grid  # quadtui --sweep A=… --sweep B=…
        self.train_screen = TrainScreen(config or Config(), threads=threads, neuron=neuron, autorun=autorun,
                                        lesson=lesson)
        self.class_dir = class_dir  # the class folder finished runs go to (quadtui --class DIR)
        self.open_board = board
        if class_dir is not None:
            self.train_screen.runs.on_add = ClassPoster(self, class_dir, lesson.name if lesson else None)

    def get_default_screen(self) -> Screen[None]:
        return self.train_screen

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
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([*self.train_screen.BINDINGS, *self.BINDINGS]))

    def _open_grid(self, specs: list[str]) -> None:
        from quadtui.core.config import ConfigError
        from quadtui.core.sweep_grid import parse_grid_specs
        from quadtui.tui.screens.sweep_grid import start_grid

        try:  # (the command line checked them already)
            params, values = parse_grid_specs(specs, self.train_screen.config)
        except ConfigError as exc:
            self.notify(str(exc), title="Sweep not started", severity="error", timeout=10)
            return
        start_grid(self.train_screen, self.train_screen.config, params, values)

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
        self.push_screen(board, lambda config: self.train_screen._use_config(config, board.used_name))

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Light/dark theme", "Switch between a dark and a light theme", self.action_toggle_dark)
        yield SystemCommand("Help", "What every key does and what the charts show", self.action_help)
        if self.class_dir is not None:
            yield SystemCommand("Class board", "The class's posted runs, best first", self.action_board)
        for title, help_text, action in self.train_screen.commands():
            yield SystemCommand(title, help_text, lambda action=action: self.train_screen.run_action(action))
