"""The timeline bar: which moment of the run the charts show, while travelling back in time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot

HINT = "  , . step · home end · p replay"


class TimelineBar(Widget):
    """One line: ``◆ back in time · epoch 120 of 5,000 · checkpoint 121/1,024``, a track with the
    cursor (●) and the run's own epoch (┃) on it, and the keys, as the bar's width allows."""

    DEFAULT_CSS = """
    TimelineBar { height: 1; width: 1fr; dock: bottom; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._moment: tuple[Snapshot | None, int | None, bool] = (None, None, False)

    def show_moment(self, snap: Snapshot | None, index: int | None, replaying: bool) -> None:
        """The cursor at the timeline's ``index``-th checkpoint of ``snap`` (None: the live state)."""
        self._moment = (snap, index, replaying)
        if self.display:  # hidden (not travelling) it draws nothing; shown again, it draws the moment then
            self.refresh()

    @property
    def text(self) -> str:
        snap, index, replaying = self._moment
        if snap is None or snap.timeline is None or index is None or index >= len(snap.timeline):
            return ""
        timeline = snap.timeline
        epoch, total = int(timeline.epochs[index]), max(1, snap.config.epochs)
        label = (
            f"{'▶ replay' if replaying else '◆ back in time'} · epoch {epoch:,} of {total:,}"
            f" · checkpoint {index + 1:,}/{len(timeline):,} "
        )
        hint = HINT if self.size.width - len(label) - len(HINT) > 16 else ""
        room = self.size.width - len(label) - len(hint) - 1
        if room < 8:
            return label
        cells = ["─"] * room
        cells[min(room - 1, round(snap.epoch / total * (room - 1)))] = "┃"  # where the run is
        cells[min(room - 1, round(epoch / total * (room - 1)))] = "●"
        return label + "".join(cells) + hint

    def render(self) -> str:
        return self.text
