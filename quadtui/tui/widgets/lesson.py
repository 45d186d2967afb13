"""The lesson panel: the lesson's title on one line, its explanation below (folds away with a key)."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import var
from textual.widgets import Static

from quadtui.core.lesson import Lesson


class LessonPanel(Vertical):
    """Open at start so the learner reads the task; ``toggle()`` folds it to its title line."""

    DEFAULT_CSS = """
    LessonPanel {
        height: auto; max-height: 45%;
        border: round $secondary; border-title-color: $text; border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    LessonPanel #lesson-title { text-style: bold; }
    LessonPanel #lesson-text { height: auto; max-height: 100%; scrollbar-size-vertical: 1; }
    LessonPanel #lesson-text:focus { background: $boost; }
    LessonPanel.-folded { border: none; padding: 0 1; background: $boost; }
    LessonPanel.-folded #lesson-text { display: none; }
    """

    #: folded to its title line (ctrl+n); the class hides the explanation
    folded = var(False, toggle_class="-folded")

    def __init__(self, lesson: Lesson, *, id: str | None = "lesson") -> None:
        super().__init__(id=id)
        self.lesson = lesson

    def compose(self) -> ComposeResult:
        yield Static(self.lesson.title, id="lesson-title", markup=False)
        with VerticalScroll(id="lesson-text", can_focus=False):  # no focus stop that eats typed digits
            yield Static(reflow(self.lesson.explanation) or "(no explanation)", markup=False)

    def on_mount(self) -> None:
        self.border_title = "lesson"
        self._subtitle()

    def toggle(self) -> None:
        self.folded = not self.folded

    def watch_folded(self) -> None:
        if self.is_mounted:
            self._subtitle()

    def _subtitle(self) -> None:
        shown = getattr(self.app, "for_browser", str)  # in a browser: the key it lets through
        self.border_subtitle = shown("ctrl+n: show" if self.folded else "ctrl+n: fold")
        title = self.query_one("#lesson-title", Static)
        title.update(shown(f"lesson: {self.lesson.title}   (ctrl+n: read)") if self.folded else self.lesson.title)


_ITEM = re.compile(r"\s*(\d+[.)]|[-*•])\s")


def reflow(text: str) -> str:
    """Join the lines of each paragraph and list item, so the text wraps to any width.

    Lesson files are written with line breaks at about 78 columns; kept as they
    are, they would break again at 80 columns, mid-sentence.
    """
    out: list[str] = []
    for line in text.splitlines():
        words = line.strip()
        if not words:
            out.append("")
        elif out and out[-1] and not _ITEM.match(line):
            out[-1] += " " + words
        else:
            out.append(line.rstrip())
    return "\n".join(out)
