"""Small modals for files: ask for a path, ask before overwriting — and the save flow that uses both.

``await save_with(app, title, default, write)`` asks for a path (prefilled with
``default``), asks again before replacing an existing file, writes, and says how
it went in one notification.  Nothing on the screen underneath changes; Escape
at any question cancels.  It awaits screens, so it runs inside a worker
(``app.run_worker(save_with(...))``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from quadtui.core.files import FileWriteError
from quadtui.tui.session_files import confined, deliver
from quadtui.tui.widgets.footer import MODAL_BINDINGS

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 90; height: auto; max-height: 100%; overflow-y: auto;
    border: round $accent; border-title-color: $text; background: $surface; padding: 0 1;
}}
{name} .hint, {name} .question {{ width: 1fr; }}
{name} .hint {{ color: $text-muted; }}
{name} Horizontal {{ height: auto; align-horizontal: right; }}
{name} Button {{ margin-left: 1; min-width: 10; }}
"""


class PathScreen(ModalScreen["str | None"]):
    """One line to type a file or folder name; Enter gives it, Escape gives None."""

    DEFAULT_CSS = MODAL_CSS.format(name="PathScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel"), *MODAL_BINDINGS]

    def __init__(self, title: str, default: str, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Input(self.default, placeholder="a file name", id="path")
            yield Static(
                self.hint or "Enter: OK   Esc: cancel   (relative to the folder quadtui started in)", classes="hint"
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y or Enter on Yes says yes; n or Escape says no."""

    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No"), *MODAL_BINDINGS]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Are you sure?"
            yield Static(self.question, classes="question", markup=False)  # wraps: a long path keeps its question
            with Horizontal():
                yield Button("No (n)", id="no")
                yield Button("Yes (y)", id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


async def ask_path(app: App[Any], title: str, default: str, hint: str = "", kind: str = "") -> str | None:
    """Ask for a path; with a ``kind`` ("script", "config"), offer the last one given for that kind.

    Served to a browser, a path outside the session's folder is refused (one line) and gives None.
    """
    recent: dict[str, str] | None = getattr(app, "recent_paths", None)
    if kind and recent is not None:
        default = recent.get(kind, default)
    path = confined(app, await app.push_screen_wait(PathScreen(title, default, hint)))
    if path is not None and kind and recent is not None:
        recent[kind] = path
    return path


async def confirm(app: App[Any], question: str) -> bool:
    answer = await app.push_screen_wait(ConfirmScreen(question))
    return bool(answer)


async def save_with(
    app: App[Any], title: str, default: str, write: Callable[[str, bool], Path], noun: str = "file"
) -> Path | None:
    """Ask for a path, confirm an overwrite, call ``write(path, overwrite)``; one notification either way."""
    path = await ask_path(app, title, default, kind=noun)
    if path is None:
        return None
    overwrite = False
    if os.path.lexists(Path(path).expanduser()):
        if not await confirm(app, f"{path} exists. Replace it?"):
            app.notify(f"{path} kept as it was: {noun} not saved", timeout=3, markup=False)
            return None
        overwrite = True
    try:
        written = write(path, overwrite)
    except FileWriteError as exc:
        app.notify(str(exc), title=f"{noun.capitalize()} not saved", severity="error", timeout=8, markup=False)
        return None
    sent = deliver(app, written)  # served: the file also comes to the browser as a download
    app.notify(f"{noun.capitalize()} saved to {written}" + (" (downloading)" if sent else ""), timeout=4, markup=False)
    return written
