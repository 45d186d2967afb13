"""A long list of one-line rows with a cursor, drawn with the line API: only the visible rows cost.

The class board lists hundreds of runs and replaces them all a few times a second
while a class posts; a DataTable measures every cell of every row each time (a
tenth of a second for 200 rows here), this draws the twenty on screen.  Rows are
plain text the caller has laid out in columns (see :func:`columns`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


def columns(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """One row: each cell cut or padded to its width (numbers right-aligned), a space between."""
    out = []
    for cell, width in zip(cells, widths):
        cell = cell if len(cell) <= abs(width) else cell[: abs(width) - 1] + "…"
        out.append(cell.rjust(-width) if width < 0 else cell.ljust(width))
    return " ".join(out)


class RunList(ScrollView, can_focus=True):
    """Rows of text; up/down/page keys move the cursor; Enter selects."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move(-1_000_000)", "First", show=False),
        Binding("end", "move(1_000_000)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    DEFAULT_CSS = """
    RunList { background: $surface; }
    RunList > .run-list--cursor { background: $block-cursor-blurred-background; }
    RunList:focus > .run-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold; }
    """
    COMPONENT_CLASSES = {"run-list--cursor"}

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass(eq=False)
    class Highlighted(Message):
        """The cursor moved to row ``index``."""

        run_list: RunList
        index: int

        @property
        def control(self) -> RunList:
            return self.run_list

    @dataclass(eq=False)
    class Selected(Message):
        """Enter (or a click) on row ``index``."""

        run_list: RunList
        index: int

        @property
        def control(self) -> RunList:
            return self.run_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[str] = []

    def set_rows(self, rows: list[str], cursor: int = 0) -> None:
        self.rows = rows
        self.virtual_size = Size(max((len(r) for r in rows), default=0), len(rows))
        self.cursor = max(0, min(cursor, len(rows) - 1))
        self.refresh()

    def set_row(self, index: int, row: str) -> None:
        if 0 <= index < len(self.rows):
            self.rows[index] = row
            self.refresh()

    def watch_cursor(self, cursor: int) -> None:
        if self.rows:
            self.scroll_to_region(Region(0, cursor, 1, 1), animate=False, immediate=True, x_axis=False)
        self.refresh()
        self.post_message(self.Highlighted(self, cursor))

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        style: Style = self.rich_style
        if index == self.cursor:
            style = style + self.get_component_rich_style("run-list--cursor")
        text = self.rows[index][scroll_x : scroll_x + width]
        return Strip([Segment(text.ljust(width), style)], width)

    def on_click(self, event: object) -> None:
        index = getattr(event, "y", -1) + self.scroll_offset.y
        if 0 <= index < len(self.rows):
            self.cursor = index
