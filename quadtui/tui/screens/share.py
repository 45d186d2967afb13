"""Share a run: the ``quadtui ...`` command line that reproduces it, and config files to save and load.

The command line is :func:`quadtui.core.tomlio.command_line` of the form's
config (only the flags that differ from the defaults).  ``y`` copies it with
OSC 52, which many terminals (and tmux with ``set-clipboard on``) pass to the
system clipboard; it can also be selected with the mouse.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from quadtui.core.config import Config
from quadtui.core.tomlio import ConfigFileError, command_line, load_config_file, save_config_file
from quadtui.tui.screens.files import ask_path, save_with
from quadtui.tui.widgets.footer import MODAL_BINDINGS, KeyFooter

if TYPE_CHECKING:
    from quadtui.tui.widgets.form import ConfigForm

CONFIG_NAME = "quadtui.toml"


class ShareScreen(ModalScreen[None]):
    """The command line for the form's config; save the config as TOML, or load one."""

    BINDINGS = [
        Binding("escape,q,f10", "dismiss", "Close"),
        Binding("y", "copy", "Copy", tooltip="Copy the command line to the clipboard (OSC 52)"),
        Binding("ctrl+s", "save", "Save…", tooltip="Write the settings to a TOML config file"),
        Binding("ctrl+o", "load", "Load…", tooltip="Fill the form from a TOML config file"),
        *MODAL_BINDINGS,
    ]
    DEFAULT_CSS = """
    ShareScreen { align: center middle; }
    ShareScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; border-title-color: $text; background: $surface; padding: 0 1;
    }
    ShareScreen #command { padding: 1 0; text-style: bold; }
    ShareScreen .hint { color: $text-muted; }
    """

    def __init__(self, config: Config, form: ConfigForm) -> None:
        super().__init__()
        self.config = config
        self.form = form
        self.command = command_line(config)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "share the form's settings"
            yield Static(
                "This command trains the settings in the form (add --headless for numbers only):", classes="hint"
            )
            yield Static(self.command, id="command", markup=False)
            yield Static(
                "y copies it (in terminals that allow it; else select it with the mouse) · "
                "ctrl+s saves the settings as a TOML file · ctrl+o loads one into the form",
                classes="hint",
            )
        yield KeyFooter()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.command)
        self.notify("command copied (if your terminal allows programs to set the clipboard)", timeout=3)

    def action_save(self) -> None:
        self.run_worker(save_config(self.app, self.config), group="share", exclusive=True)

    def action_load(self) -> None:
        self.dismiss()
        self.app.run_worker(load_config(self.app, self.form), group="share", exclusive=True)


async def save_config(app: App[Any], config: Config) -> Path | None:
    def write(path: str, overwrite: bool) -> Path:
        return save_config_file(config, path, overwrite=overwrite)

    return await save_with(app, "Save the settings as", CONFIG_NAME, write, noun="config")


async def load_config(app: App[Any], form: ConfigForm) -> Config | None:
    """Ask for a TOML file and put its values into the form (fields a lesson locks keep theirs)."""
    path = await ask_path(app, "Load settings from", CONFIG_NAME, kind="config")
    if path is None:
        return None
    base, _ = form.check()
    try:  # in a thread: a slow or stuck file system must not freeze the screen (or ctrl+q)
        config = await asyncio.to_thread(load_config_file, path, base=base or form.config)
    except ConfigFileError as exc:  # one line, naming the file and the line or the key
        app.notify(str(exc), title="Config not loaded", severity="error", timeout=10, markup=False)
        return None
    kept = form.set_config(config)
    note = f" ({', '.join(kept)} set by the lesson: kept)" if kept else ""
    app.notify(f"loaded {path}{note}: ctrl+t trains with it", timeout=5, markup=False)
    return config
