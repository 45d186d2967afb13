"""Screens that redraw while a run trains, and the compositor that paints only what changed.

Textual's compositor paints a partial update (a chart's rows that a new epoch changed,
the status line's numbers) in a crop: the rectangle around every changed region.  It then
asks each widget whose *clip* (its container's region) meets that crop for every one of its
lines, and keeps only the changed ones.  On the train screen at 120×40 that is thirteen
widgets for a frame that changed one chart: the form, the neuron chart, the footer, the
status line and the containers behind them all hand over all their rows, a third of a
frame's cost (issue 15: a class on two cores).

:class:`RowsCompositor` asks only the widgets whose visible region meets the crop, and
only for the rows inside it.  What reaches the terminal is the same: Textual writes only
the changed spans, which lie inside the crop, and a widget's rows are the same whether it
is asked for all of them or for some (its crop is how Textual itself asks a widget that
is scrolled part out of view).  ``tests/test_tui_compositor.py`` compares the two
compositors' output for the same updates.

This overrides one private method of Textual's compositor.  Should a Textual release
change its shape, :data:`RowsCompositor.usable` is False and the screens keep Textual's.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual._compositor import Compositor
from textual.geometry import Region
from textual.screen import Screen, ScreenResultType

if TYPE_CHECKING:
    from textual.strip import Strip


def _textual_renders_as_expected() -> bool:
    """Whether this Textual's compositor has the method overridden, taking what it is given here."""
    method = getattr(Compositor, "_get_renders", None)
    if method is None or not hasattr(Compositor, "visible_widgets"):
        return False
    return list(inspect.signature(method).parameters) == ["self", "crop"]


class RowsCompositor(Compositor):
    """A compositor whose partial updates ask only the widgets they show, for only the rows they show."""

    #: this Textual's compositor is the one this was written for
    usable = _textual_renders_as_expected()

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """(region, clip, rows) for each widget seen in ``crop``, front to back, as Textual's own.

        The clip given back is the part of the widget that is asked for: Textual's
        ``_render_chops`` pairs the rows with the lines of ``region ∩ clip``, and divides them
        at the cuts of the widget's whole width (only rows are left out, never columns: a
        narrower part would not start on a cut).  A widget wholly behind those in front of it
        (a container behind its children) is not asked at all: the front one's rows win every
        cut (``_render_chops`` keeps the first strip for a cut), so its rows would be thrown away.
        """
        if crop is None:
            yield from super()._get_renders(crop)
            return
        top, bottom = crop.y, crop.bottom
        front: list[Region] = []
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            if not shown.overlaps(crop):
                continue
            y1, y2 = max(shown.y, top), min(shown.bottom, bottom)
            asked = Region(shown.x, y1, shown.width, y2 - y1)
            if _covered(asked.intersection(crop), front):  # only the crop's columns are written
                continue
            front.append(asked)
            yield region, asked, widget.render_lines(Region(asked.x - region.x, y1 - region.y, asked.width, y2 - y1))


def _covered(part: Region, front: list[Region]) -> bool:
    """Whether every cell of ``part`` lies in one of the regions ``front``."""
    x1, x2 = part.x, part.right
    for y in part.line_range:
        reach = x1
        for left, right in sorted((r.x, r.right) for r in front if r.y <= y < r.bottom and r.right > x1 and r.x < x2):
            if left > reach:
                break
            reach = max(reach, right)
        if reach < x2:
            return False
    return True


class LiveScreen(Screen[ScreenResultType]):
    """A screen that redraws while something trains: painted by :class:`RowsCompositor`."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if RowsCompositor.usable:
            self._compositor = RowsCompositor()
