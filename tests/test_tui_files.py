"""Pilot tests: show the code, share (command line, config files), export a run, widen the view.

Every file goes to pytest's tmp_path; waits are bounded loops on a condition.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import torch
from rich.syntax import Syntax
from textual.widgets import Input, Static

from quadtui.core import tomlio
from quadtui.core.codegen import script_for
from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status
from quadtui.core.tomlio import command_line, load_config_file
from quadtui.tui import export as tui_export
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.code import CodeScreen
from quadtui.tui.screens.files import ConfirmScreen
from quadtui.tui.screens.share import ShareScreen
from quadtui.tui.widgets.run_charts import FitChart
from quadtui.tui.widgets.status import loss_text
from tests.conftest import SMALL, Notes, answer_path, finish, notified, screen_of, status_text, type_into, until


async def test_code_screen_shows_the_script_for_the_form_and_saves_it(tmp_path: Path, notes: Notes) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await type_into(pilot, app, "lr", "0.05")
        config = screen_of(app).form.check()[0]
        assert config == SMALL.replace(lr=0.05)
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, CodeScreen)
        expected = script_for(config)
        assert app.screen.script == expected and "final loss" in expected
        shown = app.screen.query_one("#code", Static).content
        assert isinstance(shown, Syntax) and shown.code == expected
        target = tmp_path / "run.py"
        await pilot.press("ctrl+s")
        await answer_path(pilot, app, target)
        await until(pilot, target.exists, "the script file")
        assert target.read_text() == expected
        assert any(str(target) in m for m in notes.messages())
        assert isinstance(app.screen, CodeScreen)  # the code stays on screen
        await pilot.press("escape")
        assert app.screen is screen_of(app)


async def test_saving_over_an_existing_file_asks_first(tmp_path: Path) -> None:
    target = tmp_path / "quadtui_run.py"
    target.write_text("mine\n")
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+g", "ctrl+s")
        await answer_path(pilot, app, target)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the overwrite question")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, CodeScreen), "back to the code")
        assert target.read_text() == "mine\n"
        await pilot.press("ctrl+s")
        await answer_path(pilot, app, target)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the overwrite question")
        await pilot.press("y")
        await until(pilot, lambda: target.read_text() != "mine\n", "the file to be replaced")
        assert target.read_text() == script_for(SMALL)


async def test_share_shows_the_command_line_and_a_saved_config_loads_back(tmp_path: Path) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_into(pilot, app, "hidden", "6")
        await type_into(pilot, app, "x_min", "-3")
        wanted = SMALL.replace(hidden=6, x_min=-3.0)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ShareScreen)
        command = command_line(wanted)
        assert "--hidden 6" in command and "--x-min=-3" in command  # derived independently of the screen
        assert str(app.screen.query_one("#command", Static).render()) == command
        saved = tmp_path / "mine.toml"
        await pilot.press("ctrl+s")
        await answer_path(pilot, app, saved)
        await until(pilot, saved.exists, "the config file")
        assert load_config_file(saved) == wanted
        await pilot.press("escape")
        await type_into(pilot, app, "hidden", "2")
        await type_into(pilot, app, "seed", "7")
        assert screen_of(app).form.check()[0] != wanted
        await pilot.press("ctrl+o")
        await answer_path(pilot, app, saved)
        await until(pilot, lambda: screen_of(app).form.check()[0] == wanted, "the form to show the file")
        assert app.query_one("#hidden", Input).value == "6"


async def test_loading_a_bad_config_names_the_line_and_keeps_the_form(tmp_path: Path, notes: Notes) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = 0.1\nhidden = = 3\n")
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await pilot.press("ctrl+o")
        await answer_path(pilot, app, bad)
        message = (await notified(pilot, notes, lambda n: "line 2" in n.message, "the error")).message
        assert "\n" not in message and str(bad) in message
        assert screen_of(app).form.check()[0] == SMALL


async def test_loading_a_fifo_deep_nesting_or_a_device_is_one_line_and_the_app_goes_on(
    tmp_path: Path, notes: Notes
) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # no writer: reading it would wait forever (before, it froze the app)
    unblock = threading.Timer(10, _open_for_writing, [fifo])  # so a blocked reader fails the test, not hangs it
    unblock.start()
    deep = tmp_path / "deep.toml"
    deep.write_text("lr = " + "[" * 100_000 + "]" * 100_000 + "\n")  # before: a RecursionError ended the app
    app = QuadApp(SMALL)
    try:
        async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
            for path, needle in [
                (fifo, "named pipe"),
                (deep, "nested too deeply"),
                (tmp_path, "folder"),
                (Path("/dev/zero"), "device"),
            ]:
                notes.clear()
                await pilot.press("ctrl+o")
                await answer_path(pilot, app, path)
                note = await notified(pilot, notes, lambda n: needle in n.message, f"the refusal of {path.name}")
                assert "\n" not in note.message and str(path) in note.message and note.severity == "error"
                assert screen_of(app).form.check()[0] == SMALL
            await type_into(pilot, app, "hidden", "5")  # and the app still does what keys say
            assert screen_of(app).form.check()[0] == SMALL.replace(hidden=5)
    finally:
        unblock.cancel()


def _open_for_writing(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # nobody is reading: nothing to unblock
        pass


async def test_a_slow_file_system_does_not_freeze_the_app_while_a_config_loads(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "slow.toml"
    path.write_text("hidden = 6\n")
    reading, release, answered = threading.Event(), threading.Event(), []
    real_read = tomlio.read_text

    def slow_read(*args, **kwargs):  # a hung network file system: the read waits until the test says
        reading.set()
        answered.append(release.wait(10))  # False if the app could not run meanwhile (the read blocked it)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(tomlio, "read_text", slow_read)
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await answer_path(pilot, app, path)
        await until(pilot, reading.is_set, "the read to start")
        await type_into(pilot, app, "epochs", "77")  # while the file system hangs, keys still work
        assert app.query_one("#epochs", Input).value == "77"
        release.set()
        await until(pilot, lambda: app.query_one("#hidden", Input).value == "6", "the file's values")
        assert answered == [True]


async def test_export_writes_every_file_of_the_run(tmp_path: Path, notes: Notes) -> None:
    app = QuadApp(SMALL, autorun=True)
    folder = tmp_path / "export"
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await finish(pilot, app)
        shown = screen_of(app).last
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, folder)
        await until(pilot, lambda: "Exported" in notes.titles(), "the export", seconds=40)
        assert screen_of(app).last is shown
    names = {"config.toml", "loss.csv", "fit.csv", "model.pt", "timeline.pt", "train.py", "screenshot.svg"}
    assert names <= {p.name for p in folder.iterdir()}
    assert load_config_file(folder / "config.toml") == SMALL
    assert (folder / "screenshot.svg").read_text().lstrip().startswith("<svg")
    engine = Engine(SMALL)
    engine.run()
    expected = engine.trained_model().state_dict()
    weights = torch.load(folder / "model.pt")
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[k], expected[k]) for k in expected)
    rows = (folder / "loss.csv").read_text().splitlines()
    assert len(rows) == 1 + SMALL.epochs
    assert np.float32(rows[-1].split(",")[1]) == shown.train_loss[-1]


async def test_export_to_an_unwritable_place_says_why_in_one_line_and_keeps_the_run(
    tmp_path: Path, notes: Notes
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await finish(pilot, app)
        shown, picture = screen_of(app).last, app.query_one(FitChart).plain
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, blocker / "export")
        message = (await notified(pilot, notes, lambda n: n.title == "Not exported", "the error")).message
        assert "\n" not in message and "a-file" in message
        assert screen_of(app).last is shown and app.query_one(FitChart).plain == picture
        assert app.screen is screen_of(app)


async def test_quitting_during_an_export_does_not_wait_for_it(tmp_path: Path, monkeypatch) -> None:
    started, stopped = threading.Event(), threading.Event()

    def slow_export(snap, folder, svg, overwrite, cancel, in_child=False):  # ends only when told to
        started.set()
        cancel.wait(10)
        stopped.set()
        raise tui_export.ExportCancelled

    monkeypatch.setattr(tui_export, "export_files", slow_export)
    folder = tmp_path / "export"
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, folder)
        await until(pilot, started.is_set, "the export thread")
        asked = time.perf_counter()
        await pilot.press("ctrl+q")
    left = time.perf_counter() - asked
    assert left < 0.5, f"quitting took {left:.2f} s"
    assert stopped.wait(2), "the export thread was not told to stop"
    assert not folder.exists()  # nothing written


async def test_widen_view_extrapolates_even_where_the_target_is_undefined() -> None:
    config = Config(target="sqrt(x)", x_min=0, x_max=4, epochs=200, hidden=4)
    app = QuadApp(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("w")  # the charts have focus at start (a custom target does not take it)
        assert app.query_one("#view_min", Input).value == "-2"  # [0, 4] is 4 wide: 8 wide around 2
        assert app.query_one("#view_max", Input).value == "6"
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        snap = screen_of(app).last
        assert snap.status is Status.DONE
        assert snap.grid[0] == -2 and snap.grid[-1] == 6
        assert np.isnan(snap.grid_target[snap.grid < 0]).all()  # sqrt: no true curve left of 0
        assert np.isfinite(snap.prediction).all()  # the net extrapolates everywhere
        *_, axis, ticks = app.query_one(FitChart).plain.rstrip("\n").splitlines()
        left, zero = axis.index("└"), ticks.index("0")  # the x axis spans the view: 0 a quarter along
        assert abs((zero - left) / (len(axis.rstrip()) - left) - 0.25) < 0.05
        assert screen_of(app).error is None
        await pilot.press("w")
        assert app.query_one("#view_min", Input).value == "" == app.query_one("#view_max", Input).value


async def test_export_holds_the_weights_on_screen_even_after_a_live_lr_change(tmp_path: Path, notes: Notes) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.engine_loaded, "torch")
        await pilot.press("S")  # 100 epochs, then paused
        await until(pilot, lambda: screen.last is not None and screen.last.epoch == 100, "100 epochs")
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, tmp_path / "at-100")
        await until(pilot, lambda: "Exported" in notes.titles(), "the export")
        engine = Engine(SMALL)
        engine.advance(100)
        expected = engine.trained_model().state_dict()
        weights = torch.load(tmp_path / "at-100" / "model.pt")
        assert all(torch.equal(weights[k], expected[k]) for k in expected)
        await pilot.press("greater_than_sign", "S")  # lr × 2 from epoch 101 on
        await until(pilot, lambda: screen.last.epoch == 200, "200 epochs")
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, tmp_path / "at-200")
        await until(pilot, lambda: notes.titles().count("Exported") == 2, "the second export")
        engine.set_lr(SMALL.lr * 2)
        engine.advance(100)
        expected = engine.trained_model().state_dict()
        weights = torch.load(tmp_path / "at-200" / "model.pt")
        assert all(torch.equal(weights[k], expected[k]) for k in expected)
        # the script and the config say how the run went: the first rate, then the change
        assert screen.last.lr_schedule == ((0, SMALL.lr), (100, SMALL.lr * 2))
        assert f"LR_CHANGES = {{100: {SMALL.lr * 2!r}}}" in (tmp_path / "at-200" / "train.py").read_text()
        assert load_config_file(tmp_path / "at-200" / "config.toml").lr == SMALL.lr
        await pilot.press("ctrl+g")  # show the code: the run on screen, with its change
        await until(pilot, lambda: isinstance(app.screen, CodeScreen), "the code")
        assert f"LR_CHANGES = {{100: {SMALL.lr * 2!r}}}" in app.screen.script
        await pilot.press("escape")
        app.query_one("#hidden", Input).value = "5"  # the form no longer describes that run
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, CodeScreen), "the code again")
        assert "LR_CHANGES" not in app.screen.script and "N_HIDDEN = 5" in app.screen.script


async def test_a_mid_run_export_has_the_epochs_run_and_the_eval_on_screen(tmp_path: Path, notes: Notes) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.engine_loaded, "torch")
        await pilot.press("S")  # 100 of the 300 epochs, then paused
        await until(pilot, lambda: screen.last is not None and screen.last.epoch == 100, "100 epochs")
        await until(pilot, lambda: f"eval {loss_text(screen.last.eval_now)}" in status_text(app), "the eval shown")
        shown = status_text(app)
        await pilot.press("ctrl+f")
        await answer_path(pilot, app, tmp_path / "mid")
        await until(pilot, lambda: "Exported" in notes.titles(), "the export")
    folder = tmp_path / "mid"
    assert load_config_file(folder / "config.toml") == SMALL.replace(epochs=100)
    assert "Exported after 100 of the run's 300 epochs" in (folder / "config.toml").read_text()
    assert "EPOCHS = 100" in (folder / "train.py").read_text()
    last = (folder / "loss.csv").read_text().splitlines()[-1].split(",")
    assert last[0] == "100" and f"eval {loss_text(float(last[2]))}" in shown


async def test_the_palette_offers_code_share_load_export_widen_and_lesson() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in (
            "Show the code (PyTorch script)",
            "Share: command line, save config",
            "Load a config file into the form",
            "Export the run to a folder",
            "Widen the view (extrapolation) / back to the sample range",
        ):
            assert title in commands
        assert "Lesson: fold / unfold the explanation" not in commands  # no lesson open
        await commands["Share: command line, save config"].callback()
        await until(pilot, lambda: isinstance(app.screen, ShareScreen), "the share screen")
