"""Screens that redraw while a run trains, and the compositor that paints only what changed.

Textual's compositor paints a partial update (a chart's rows that a new epoch changed,
the status line's numbers) in a crop: the rectangle around every changed region.  It then
asks each widget whose *clip* (its container's region) meets that crop for every one of its
lines, and keeps only the changed ones.  On the train screen at 120×40 that is thirteen
widgets for a frame that changed one chart: the form, the neuron chart, the footer, the
status line and the containers behind them all hand over all their rows, a third of a
frame's cost (issue 15: a class on two cores).  And a frame that changed a chart (top
right) and the status line (bottom) has the whole screen for a crop.

:class:`RowsCompositor` asks only the widgets that a changed region meets, for only the
rows from the first to the last changed one, and none that is wholly behind the widgets
in front of it.  What reaches the terminal is the same: Textual writes only the changed
spans, and a widget's rows are the same whether it is asked for all of them or some (its
crop is how Textual itself asks a widget scrolled part out of view).
``tests/test_tui_compositor.py`` compares the two compositors' output for the same updates.

This overrides two private methods of Textual's compositor.  Should a Textual release
change their shape, :data:`RowsCompositor.usable` is False and the screens keep Textual's.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen, ScreenResultType

if TYPE_CHECKING:
    from textual.strip import Strip
    from textual.widget import Widget


def _textual_renders_as_expected() -> bool:
    """Whether this Textual's compositor has the methods overridden, taking what they are given here."""
    gather, partial = getattr(Compositor, "_get_renders", None), getattr(Compositor, "render_partial_update", None)
    if gather is None or partial is None or not hasattr(Compositor, "visible_widgets"):
        return False
    return list(inspect.signature(gather).parameters) == ["self", "crop"] and list(
        inspect.signature(partial).parameters
    ) == ["self"]


class RowsCompositor(Compositor):
    """A compositor whose updates ask only the widgets they change, for only the rows they change."""

    #: this Textual's compositor is the one this was written for
    usable = _textual_renders_as_expected()

    def __init__(self) -> None:
        super().__init__()
        self._changed: list[Region] = []  # the regions of the partial update being painted
        self._shown_for: dict[Widget, tuple[Region, Region]] | None = None  # the visible widgets of _shown_parts
        self._shown_parts: list[tuple[Widget, Region, int, int, int, int]] = []

    def render_partial_update(self) -> ChopsUpdate | None:
        self._changed = _merged(self._dirty_regions)
        try:
            return super().render_partial_update()
        finally:
            self._changed = []

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """(region, clip, rows) for each widget a changed region meets (in a full update: each
        widget in ``crop``), front to back, as Textual's own.

        The clip given back is the part of the widget that is asked for: Textual's
        ``_render_chops`` pairs the rows with the lines of ``region ∩ clip``, and divides them
        at the cuts of the widget's whole width (only rows are left out, never columns: a
        narrower part would not start on a cut).  A widget whose changed part is wholly behind
        those in front of it (a container behind its children) is not asked at all: the front
        one's rows win every cut (``_render_chops`` keeps the first strip for a cut).
        """
        if crop is None:
            yield from super()._get_renders(crop)
            return
        crop = crop.intersection(self.size.region)
        left, top, right, bottom = crop.x, crop.y, crop.right, crop.bottom
        changed = [
            (part.x, part.y, part.right, part.bottom)
            for part in (region.intersection(crop) for region in self._changed or [crop])
            if part.area
        ]
        front: list[Region] = []
        for widget, region, x1, y1, x2, y2 in self._shown():
            if x2 <= left or x1 >= right or y2 <= top or y1 >= bottom:  # not in the crop (most widgets)
                continue
            parts = [
                Region(max(x1, a), max(y1, b), min(x2, c) - max(x1, a), min(y2, d) - max(y1, b))
                for a, b, c, d in changed
                if a < x2 and c > x1 and b < y2 and d > y1
            ]
            if not parts or all(_covered(part, front) for part in parts):
                continue
            first, last = min(part.y for part in parts), max(part.bottom for part in parts)
            asked = Region(x1, first, x2 - x1, last - first)
            front.append(asked)
            yield region, asked, widget.render_lines(Region(x1 - region.x, first - region.y, x2 - x1, last - first))

    def _shown(self) -> list[tuple[Widget, Region, int, int, int, int]]:
        """Each visible widget, its region and the edges of the part of it shown (its region in its
        clip), front to back: worked out once a layout (Textual makes a new ``visible_widgets`` then),
        not for every widget at every update."""
        visible = self.visible_widgets
        if self._shown_for is not visible:
            self._shown_for = visible
            self._shown_parts = [
                (widget, region, shown.x, shown.y, shown.right, shown.bottom)
                for widget, (region, clip) in visible.items()
                if (shown := region.intersection(clip)).area
            ]
        return self._shown_parts


def _merged(regions: Iterable[Region]) -> list[Region]:
    """``regions``, each run of them one under the other over the same columns as one (a chart's
    changed rows come one a row: the widgets are checked against each)."""
    merged: list[Region] = []
    for region in sorted(regions, key=lambda r: (r.x, r.width, r.y)):
        last = merged[-1] if merged else None
        if last is not None and (last.x, last.width) == (region.x, region.width) and region.y <= last.bottom:
            merged[-1] = Region(last.x, last.y, last.width, max(last.bottom, region.bottom) - last.y)
        else:
            merged.append(region)
    return merged


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
