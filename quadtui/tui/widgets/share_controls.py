"""Taking a run away, as one component of the main screen: code, share, load, export, the view, the lesson.

:class:`ShareControls` wraps the form and the charts (so its keys work wherever the
focus is on the main screen).  It reads the form it wraps and the run on screen
(the screen's ``last``, bound with ``data_bind``); the dialogs it opens are screens
of their own (:mod:`quadtui.tui.screens.share`, :mod:`quadtui.tui.screens.code`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.reactive import var

from quadtui.tui.screens.share import ShareScreen, load_config
from quadtui.tui.widgets.form import ConfigForm

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot


class ShareControls(Container):
    """The keys that show, share, save, load or export the form's settings and the run on screen."""

    DEFAULT_CSS = "ShareControls { height: 1fr; }"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+g,f9",
            "code",
            "Code",
            id="code",
            show=False,
            tooltip="Show the PyTorch script that trains the form's settings (save it with ctrl+s there)",
        ),
        Binding(
            "ctrl+s,f10",
            "share",
            "Share",
            id="share",
            show=False,
            tooltip="Show the command line that reproduces the form's settings; save or load a config file",
        ),
        Binding(
            "ctrl+o", "load_config", "Load", id="load", show=False, tooltip="Fill the form from a TOML config file"
        ),
        Binding(
            "ctrl+f,f4",
            "export",
            "Export",
            id="export",
            show=False,
            tooltip="Export the run on screen to a folder: config, losses, fit, weights, script, screenshot",
        ),
        Binding(
            "w",
            "widen_view",
            "Widen view",
            id="widen",
            show=False,
            tooltip="Set the view to twice the sample range, to see the net extrapolate (again: back)",
        ),
        Binding(
            "ctrl+n,f12", "lesson", "Lesson", id="lesson", show=False, tooltip="Fold or unfold the lesson's explanation"
        ),
    ]

    #: longer names than the footer's, for searching the palette
    PALETTE_TITLES: ClassVar[dict[str, str]] = {
        "code": "Show the code (PyTorch script)",
        "share": "Share: command line, save config",
        "load": "Load a config file into the form",
        "export": "Export the run to a folder",
        "widen": "Widen the view (extrapolation) / back to the sample range",
        "lesson": "Lesson: fold / unfold the explanation",
    }

    #: the run on screen (bound to the screen's): what export writes and the code view's lr changes
    last: var[Snapshot | None] = var(None, always_update=True)

    @property
    def form(self) -> ConfigForm:
        return self.query_one(ConfigForm)

    def action_code(self) -> None:
        from quadtui.tui.screens.code import CodeScreen

        config = self.form.checked_config()
        if config is not None:
            last = self.last  # the run on screen, if the form still describes it: with its lr changes
            if last is not None and last.config == config:  # and its weights set by hand
                self.app.push_screen(CodeScreen(config, last.lr_schedule, last.weight_edits))
            else:
                self.app.push_screen(CodeScreen(config))

    def action_share(self) -> None:
        config = self.form.checked_config()
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
        config = form.checked_config()
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

        panels = self.screen.query(LessonPanel)  # above this component, on the screen
        if not panels:
            self.notify("No lesson: start one with quadtui --lesson NAME.", timeout=4)
            return
        panels.first().toggle()
