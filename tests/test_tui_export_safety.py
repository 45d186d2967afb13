"""Pilot tests: the app's export (ctrl+f) is checked before any work and leaves nothing half written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from quadtui.core import export_folder
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.run_charts import FitChart
from tests.conftest import SMALL, Notes, answer_path, finish, notified, screen_of


async def test_a_dangling_link_is_refused_at_once_and_the_run_stays(tmp_path: Path, monkeypatch, notes: Notes) -> None:
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone")
    started = []
    monkeypatch.setattr(export_folder, "write_file", lambda *a: started.append(a))  # must never be reached
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await finish(pilot, app)
        shown, picture = screen_of(app).last, app.query_one(FitChart).plain
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, link)
        note = await notified(pilot, notes, lambda n: n.title == "Not exported", "the refusal")
        assert "dangling" in note.message and "\n" not in note.message
        assert screen_of(app).last is shown and app.query_one(FitChart).plain == picture
    assert started == [] and os.listdir(tmp_path) == ["out"]


async def test_a_full_disk_midway_leaves_nothing_and_exporting_again_works(
    tmp_path: Path, monkeypatch, notes: Notes
) -> None:
    real = export_folder.write_file
    calls = []

    def full_after_one(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(export_folder, "write_file", full_after_one)
    folder = tmp_path / "export"
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await finish(pilot, app)
        shown = screen_of(app).last
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, folder)
        note = await notified(pilot, notes, lambda n: n.title == "Not exported", "the failure")
        assert "No space left on device" in note.message and "\n" not in note.message
        assert os.listdir(tmp_path) == []  # no config.toml, no loss.csv, no staging folder
        monkeypatch.setattr(export_folder, "write_file", real)
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, folder)
        await notified(pilot, notes, lambda n: n.title == "Exported", "the second export")
        assert screen_of(app).last is shown
    assert sorted(os.listdir(folder)) == [
        "config.toml",
        "fit.csv",
        "loss.csv",
        "model.pt",
        "screenshot.svg",
        "timeline.pt",
        "train.py",
    ]
