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
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from quadtui.core.config import Config
from quadtui.core.tomlio import ConfigFileError, command_line, load_config_file, save_config_file
from quadtui.tui.screens.files import ask_path, save_with
from quadtui.tui.widgets.footer import MODAL_BINDINGS, KeyFooter

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot
    from quadtui.tui.widgets.form import ConfigForm

    _Screen = Screen[None]  # what the actions below are mixed into
else:
    _Screen = object

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
            yield Static("This command trains the settings in the form (add --headless for numbers only):",
                         classes="hint")
            yield Static(self.command, id="command", markup=False)
            yield Static("y copies it (in terminals that allow it; else select it with the mouse) · "
                         "ctrl+s saves the settings as a TOML file · ctrl+o loads one into the form",
                         classes="hint")
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


#: the keys of this module's actions, added to the training screen's own
BINDINGS = [
    Binding("ctrl+g,f9", "code", "Code", id="code", show=False,
            tooltip="Show the PyTorch script that trains the form's settings (save it with ctrl+s there)"),
    Binding("ctrl+s,f10", "share", "Share", id="share", show=False,
            tooltip="Show the command line that reproduces the form's settings; save or load a config file"),
    Binding("ctrl+o", "load_config", "Load", id="load", show=False,
            tooltip="Fill the form from a TOML config file"),
    Binding("ctrl+f,f4", "export", "Export", id="export", show=False,
            tooltip="Export the run on screen to a folder: config, losses, fit, weights, script, screenshot"),
    Binding("w", "widen_view", "Widen view", id="widen", show=False,
            tooltip="Set the view to twice the sample range, to see the net extrapolate (again: back)"),
    Binding("ctrl+n,f12", "lesson", "Lesson", id="lesson", show=False,
            tooltip="Fold or unfold the lesson's explanation"),
]

PALETTE_TITLES = {
    "code": "Show the code (PyTorch script)",
    "share": "Share: command line, save config",
    "load": "Load a config file into the form",
    "export": "Export the run to a folder",
    "widen": "Widen the view (extrapolation) / back to the sample range",
    "lesson": "Lesson: fold / unfold the explanation",
}


class ShareActions(_Screen):
    """The training screen's actions for code, sharing, export, the view and the lesson.

    Mixed into :class:`~quadtui.tui.screens.train.TrainScreen`, which provides
    ``form``, ``last`` and ``_form_config()``.
    """

    last: Snapshot | None
    if TYPE_CHECKING:  # the screen's

        @property
        def form(self) -> ConfigForm: ...

        def _form_config(self) -> Config | None: ...

    def action_code(self) -> None:
        from quadtui.tui.screens.code import CodeScreen

        config = self._form_config()
        if config is not None:
            last = self.last  # the run on screen, if the form still describes it: with its lr changes
            if last is not None and last.config == config:  # and its weights set by hand
                self.app.push_screen(CodeScreen(config, last.lr_schedule, last.weight_edits))
            else:
                self.app.push_screen(CodeScreen(config))

    def action_share(self) -> None:
        config = self._form_config()
        if config is not None:
            self.app.push_screen(ShareScreen(config, self.form))

    def action_load_config(self) -> None:
        self.app.run_worker(load_config(self.app, self.form), group="share", exclusive=True)

    def action_export(self) -> None:
        from quadtui.tui.export import export_flow

        snap = self.last
        if snap is None or snap.epoch == 0:
            self.notify("No run to export yet: press ctrl+t to train first.", timeout=4)
            return
        svg = self.app.export_screenshot()  # the screen as it is now, before any question covers it
        self.app.run_worker(export_flow(self.app, snap, svg), group="export", exclusive=True)

    def action_widen_view(self) -> None:
        form = self.form
        if not (form.editable("view_min") and form.editable("view_max")):
            self.notify("the view is set by the lesson", timeout=3)
            return
        config = self._form_config()
        if config is None:
            return
        if config.view_min is None and config.view_max is None:
            mid, width = (config.x_min + config.x_max) / 2, config.x_max - config.x_min
            low, high = mid - width, mid + width
            form.set_value("view_min", f"{low:.12g}")
            form.set_value("view_max", f"{high:.12g}")
            self.notify(f"view {low:g} … {high:g}, twice the sample range: ctrl+t trains with it", timeout=4)
        else:
            form.set_value("view_min", "")
            form.set_value("view_max", "")
            self.notify("view: the sample range again (ctrl+t trains with it)", timeout=4)

    def action_lesson(self) -> None:
        from quadtui.tui.widgets.lesson import LessonPanel

        panels = self.query(LessonPanel)
        if not panels:
            self.notify("No lesson: start one with quadtui --lesson NAME.", timeout=4)
            return
        panels.first().toggle()
