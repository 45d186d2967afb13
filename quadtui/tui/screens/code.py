"""Show the code: the standalone PyTorch script for the form's config, highlighted and saveable.

The script is :func:`quadtui.core.codegen.script_for` of the config — the same
run, step for step, so running it prints the same ``final loss`` as the app.  While
the form still describes the run on screen, learning-rate changes made during that
run are in the script too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from quadtui.core.codegen import script_for
from quadtui.core.config import Config
from quadtui.core.files import atomic_write
from quadtui.core.hand_edit import WeightEdit
from quadtui.tui.screens.files import save_with
from quadtui.tui.widgets.footer import MODAL_BINDINGS, KeyFooter

DEFAULT_NAME = "quadtui_run.py"


class CodeScreen(ModalScreen[None]):
    """The script, scrollable; ctrl+s saves it, y copies it, Escape closes."""

    BINDINGS = [
        Binding("escape,q,f9,ctrl+g", "dismiss", "Close"),
        Binding("ctrl+s,f2", "save", "Save as…", tooltip="Write the script to a file"),
        Binding("y", "copy", "Copy", tooltip="Copy the script to the clipboard (terminals with OSC 52)"),
        *MODAL_BINDINGS,
    ]
    DEFAULT_CSS = """
    CodeScreen { align: center middle; }
    CodeScreen > VerticalScroll {
        width: 95%; max-width: 110; height: 1fr; margin: 1 0 0 0;
        overflow-x: auto;  /* long lines scroll sideways (left/right), not cut */
        border: round $accent; border-title-color: $text;
        background: $surface;
    }
    CodeScreen #code { width: auto; }
    """

    def __init__(
        self, config: Config, lr_schedule: Sequence[tuple[int, float]] = (), edits: Sequence[WeightEdit] = ()
    ) -> None:
        super().__init__()
        self.config = config
        self.script = script_for(config, lr_schedule, edits=edits)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "the PyTorch script for this run"
            yield Static(self._syntax(), id="code")
        yield KeyFooter()

    def _syntax(self) -> Syntax:
        theme = "monokai" if self.app.current_theme.dark else "default"
        return Syntax(
            self.script, "python", theme=theme, line_numbers=True, word_wrap=False, background_color="default"
        )

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_save(self) -> None:
        self.run_worker(
            save_with(self.app, "Save the script as", DEFAULT_NAME, self._write, noun="script"),
            group="save-code",
            exclusive=True,
        )

    def _write(self, path: str, overwrite: bool) -> Path:
        return atomic_write(path, self.script, overwrite=overwrite)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.script)
        self.notify("script copied (if your terminal allows programs to set the clipboard)", timeout=3)
