"""The frame pacer draws as many frames as it says it does (issue 15: >= 5 a second, live).

A frame can only be drawn when a snapshot arrives (about 12 a second), so the pacer's
frames are due on a schedule, not an interval after the snapshot that was drawn last.
The clock and the UI thread's CPU time are stand-ins: the test is about which snapshots
are drawn, not about how long anything takes.
"""

from __future__ import annotations

import dataclasses
import time
import types
from typing import TYPE_CHECKING, cast

import pytest

from quadtui.core import pacing
from quadtui.core.pacing import IDLE_FLOOR_FPS, SLACK, UI_CPU_BUDGET, FramePacer
from quadtui.core.snapshot import Status

if TYPE_CHECKING:
    from quadtui.core.snapshot import Snapshot


@dataclasses.dataclass
class Moment:
    """What the pacer reads of a snapshot."""

    run_id: int = 1
    status: Status = Status.TRAINING


def snap(run_id: int = 1, status: Status = Status.TRAINING) -> Snapshot:
    return cast("Snapshot", Moment(run_id, status))


class Clock:
    """Wall time and the UI thread's CPU seconds, moved by hand."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def times(self, whole_process: bool = False) -> tuple[float, float]:
        return self.cpu, 0.0  # never waiting for a CPU: an otherwise idle machine


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(pacing, "time", types.SimpleNamespace(perf_counter=lambda: clock.wall))
    monkeypatch.setattr(pacing, "ui_thread_times", clock.times)
    return clock


def frames_per_second(clock: Clock, pacer: FramePacer, frame_cpu: float, seconds: int = 30) -> float:
    """Snapshots every 1/12 s (a little early or late), each drawn one costing ``frame_cpu``."""
    drawn = 0
    for i in range(12 * seconds):
        clock.wall = i / 12 + 0.002 * (i * 7 % 5)
        if pacer.due(snap()):
            drawn += 1
            clock.cpu += frame_cpu
    return drawn / seconds


@pytest.mark.parametrize("frame_cpu", [0.007, 0.02])
def test_frames_too_dear_for_the_budget_are_still_drawn_five_a_second(clock: Clock, frame_cpu: float) -> None:
    pacer = FramePacer()
    rate = frames_per_second(clock, pacer, frame_cpu)
    assert pacer.interval == pytest.approx(1 / IDLE_FLOOR_FPS)
    assert IDLE_FLOOR_FPS <= rate < IDLE_FLOOR_FPS + 0.2  # not 4: every third snapshot


def test_cheap_frames_are_drawn_as_often_as_the_pacer_asks(clock: Clock) -> None:
    pacer = FramePacer()
    rate = frames_per_second(clock, pacer, UI_CPU_BUDGET * 0.1)  # a tenth of the budget a frame: one every 100 ms
    assert pacer.interval == pytest.approx(0.1)
    assert rate == pytest.approx(10, abs=0.2)


def test_every_change_of_state_is_drawn_and_a_pause_does_not_bank_frames(clock: Clock) -> None:
    pacer = FramePacer()
    frames_per_second(clock, pacer, 0.02, seconds=2)
    clock.wall += 0.01
    assert pacer.due(snap(status=Status.PAUSED))  # drawn at once, between frames
    clock.wall += 60.0  # paused for a minute
    assert pacer.due(snap())  # training again: drawn
    clock.wall += 1 / 12
    assert not pacer.due(snap())  # and no burst of the frames a minute would have had
    assert pacer.due(snap(run_id=2))  # a new run: drawn at once


def test_a_snapshot_a_little_early_is_drawn_for_the_frame_due_and_the_schedule_stays(clock: Clock) -> None:
    """A training snapshot that comes up to SLACK of the interval before its frame is due is that frame
    (the trainer sends one a frame, a few ms early or late: turned away, the frame would wait most of an
    interval for the next one); the frame after it is still due an interval after this one was."""
    pacer = FramePacer()
    frames_per_second(clock, pacer, 0.02, seconds=2)  # 20 ms a frame: five a second
    interval = pacer.interval
    assert interval == pytest.approx(1 / IDLE_FLOOR_FPS)

    def drawn_at(share: float) -> bool:
        clock.wall = start + share * interval
        if pacer.due(snap()):
            clock.cpu += 0.02
            return True
        return False

    clock.wall += 1.0
    start = clock.wall
    assert pacer.due(snap(status=Status.PAUSED)) and pacer.due(snap())  # paused, training again: drawn at once
    clock.cpu += 0.04
    assert not drawn_at(1 - 2 * SLACK)  # far too early for the frame due at 1
    assert drawn_at(1 - SLACK / 2)  # a little early: drawn for it
    assert not drawn_at(1.1)  # the frame at 1 was drawn
    assert not drawn_at(2 - 1.2 * SLACK)  # the next is due at 2, not an interval after the early one came
    assert drawn_at(2 - SLACK / 2)


def paced_trainer(clock: Clock, pacer: FramePacer, frame_cpu: float, speed: float | None) -> tuple[float, float]:
    """(snapshots sent a second, frames drawn a second) of a trainer that is told the pacer's pace.

    The trainer decides at the end of each chunk of epochs, as :meth:`Engine.run` does: at
    full speed chunks of ~10 ms, at a set speed one an interval (1/12 s), now and then one
    10 ms longer (the trainer waited for a CPU); each snapshot reaches the pacer 1-5 ms later
    (a different delay each time).  A pace told back takes effect at the next chunk.
    """
    from quadtui.core.engine import Engine

    interval, seconds = 1 / 12, 30
    pace = pacer.trainer_pace(None)
    chunk = 0.01 if speed is None else interval
    sent = drawn = 0
    now, last_sent, k = 0.0, -1.0, 0
    while now < seconds:
        took = chunk * (1 + 0.05 * (k * 7 % 5))  # chunks a little uneven
        took += 0.01 if k % 11 == 0 else 0.0  # and now and then the trainer waits for a CPU
        now, k = now + took, k + 1
        if Engine._snapshot_due(now - last_sent, took, interval, pace, speed):
            sent, last_sent = sent + 1, now
            clock.wall = now + 0.001 + 0.004 * (k * 3 % 4) / 3
            if pacer.due(snap()):
                drawn += 1
                clock.cpu += frame_cpu
                pace = pacer.trainer_pace(pace)
    return sent / seconds, drawn / seconds


@pytest.mark.parametrize("speed", [None, 1000.0])
def test_a_trainer_told_the_pace_sends_about_what_is_drawn_and_every_frame_is_still_drawn(
    clock: Clock, speed: float | None
) -> None:
    """The pace reaches the trainer: it sends about one snapshot a frame, not 12 a second, and
    none comes so late that the pacer's schedule slips (which would draw 2.5 frames a second
    where it asks for 5)."""
    pacer = FramePacer()
    sent, drawn = paced_trainer(clock, pacer, 0.02, speed)  # 20 ms a frame: the idle floor, 5 a second
    assert pacer.interval == pytest.approx(1 / IDLE_FLOOR_FPS)
    assert IDLE_FLOOR_FPS <= drawn < IDLE_FLOOR_FPS + 0.2
    assert sent < 7  # not 12 (at a set speed, snapshots come at the end of chunks an interval apart)


def test_cheap_frames_told_to_the_trainer_are_drawn_as_often_as_the_pacer_asks(clock: Clock) -> None:
    pacer = FramePacer()
    sent, drawn = paced_trainer(clock, pacer, UI_CPU_BUDGET * 0.1, None)  # one frame every 100 ms
    assert pacer.interval == pytest.approx(0.1)
    assert drawn == pytest.approx(10, abs=0.2)
    assert sent < 11.5


def test_the_trainer_is_told_a_pace_no_longer_than_the_interval_and_not_anew_every_frame() -> None:
    pacer = FramePacer()
    pacer.interval = 0.2
    told = pacer.trainer_pace(None)
    assert told < 0.2
    for interval in (0.2, 0.205, told):  # within the band: the same pace, no message
        pacer.interval = interval
        assert pacer.trainer_pace(told) == told
    pacer.interval = told * 0.99  # frames due sooner than the trainer sends: told at once
    assert pacer.trainer_pace(told) < pacer.interval
    pacer.interval = 0.5  # frames much further apart: the trainer sends fewer
    assert 0.4 < pacer.trainer_pace(told) < 0.5


def test_the_budget_of_an_app_whose_run_trains_elsewhere_is_its_whole_process() -> None:
    """The budget is what a session's UI costs the server: its frames and every other thread (receiving the
    run's snapshots, writing to the terminal), not the UI thread alone; in the worker thread's case the
    process's CPU is mostly training, and the UI thread's is the budget's."""
    import threading

    def burn() -> None:  # another thread of this process, as the one receiving snapshots
        start = time.thread_time()
        while time.thread_time() - start < 0.05:
            pass

    thread_before, process_before = pacing.ui_thread_times()[0], pacing.ui_thread_times(whole_process=True)[0]
    worker = threading.Thread(target=burn)
    worker.start()
    worker.join()
    assert pacing.ui_thread_times(whole_process=True)[0] - process_before >= 0.05
    assert pacing.ui_thread_times()[0] - thread_before < 0.05
    assert FramePacer(whole_process=True).whole_process and not FramePacer().whole_process
