"""The class folder in the app: finished runs are posted, and the class board."""

from __future__ import annotations

import sqlite3
import time

from textual.widgets import Input

from quadtui.core.classroom import ClassWriter
from quadtui.core.config import Config
from quadtui.core.lesson import load_lesson
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.board import REFRESH_S, WIDTHS, BoardFitChart, BoardScreen
from tests.conftest import Notes, a_post, finish, notified, screen_of, until

SMALL = Config(epochs=300, hidden=4)


async def test_a_finished_run_of_the_app_is_posted_to_the_class_from_a_worker(tmp_path) -> None:
    lesson = load_lesson("class-best-learning-rate")
    app = QuadApp(lesson.apply(), class_dir=tmp_path, lesson=lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        poster = screen_of(app).runs.on_add
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        await until(pilot, lambda: poster.posted == 1, "the run to be posted")
        con = sqlite3.connect(poster.writer.database)
        (row,) = con.execute("SELECT status, epochs_run, final_loss, eval_loss, lesson FROM runs").fetchall()
        con.close()
        last = screen_of(app).last
        assert last.config.hidden == 4 and last.config.epochs == 5000
        assert row == ("done", 5000, last.train_now, last.eval_now, "class-best-learning-rate")


# -- the board ----------------------------------------------------------------------------------------------------
def post(folder, config: Config, eval_loss: float, lesson: str | None = None) -> None:
    ClassWriter(folder).post(a_post(config, eval_loss=eval_loss, lesson=lesson))


def board_of(app: QuadApp) -> BoardScreen:
    assert isinstance(app.screen, BoardScreen)
    return app.screen


COLUMN = {"mark": 0, "user": 1, "settings": 2, "status": 3, "final": 4, "eval": 5, "when": 6}


def cells(board: BoardScreen, column: str) -> list[str]:
    """One column of the rows the board shows, as shown."""
    k = COLUMN[column]
    start = sum(abs(w) + 1 for w in WIDTHS[:k])
    return [row[start : start + abs(WIDTHS[k])].strip() or row[start : start + 1] for row in board.table.rows]


async def test_board_lists_runs_best_first_and_shows_a_new_run_within_a_second_at_80x24(tmp_path) -> None:
    post(tmp_path, Config(lr=0.05), 0.3)
    post(tmp_path, Config(hidden=4), 0.1, lesson="best-rate")
    post(tmp_path, Config(), 0.2)
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "runs.sqlite").write_text("garbage")
    app = QuadApp(SMALL, class_dir=tmp_path, board=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.loads, "the board")
        board = board_of(app)
        assert cells(board, "eval") == ["0.1", "0.2", "0.3"]
        assert cells(board, "settings") == ["hidden=4", "defaults", "lr=0.05"]
        assert set(cells(board, "user")) == {ClassWriter(tmp_path).user}
        status = str(board.query_one("#board-status").render())
        assert "3 runs by 1 user" in status and "skipped 1: mallory: damaged or not a database" in status
        assert board.table.region.height >= 5 and board.query_one("#board-fit").region.height >= 5
        await until(pilot, lambda: board.query_one(BoardFitChart).draws > 0, "the best run's fit")

        post(tmp_path, Config(hidden=16), 0.05)
        posted = time.monotonic()
        await until(pilot, lambda: len(board.table.rows) == 4, "the new run on the board", seconds=10)
        print(f"new run on the board after {time.monotonic() - posted:.2f} s")
        assert cells(board, "settings")[0] == "hidden=16"
        assert REFRESH_S <= 0.5  # the poll that bounds it


async def test_board_filters_overlays_fits_and_enter_fills_the_form(tmp_path, notes: Notes) -> None:
    post(tmp_path, Config(lr=0.05), 0.3)
    post(tmp_path, Config(hidden=4, lr=0.01), 0.1, lesson="best-rate")
    post(tmp_path, Config(), 0.2, lesson="best-rate")
    app = QuadApp(SMALL)
    app.class_dir = tmp_path
    async with app.run_test(size=(130, 40), message_hook=notes) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.loads, "the board")
        board = board_of(app)
        await pilot.press("slash", *"lesson=best")
        await until(pilot, lambda: len(board.table.rows) == 2, "the lesson filter")
        assert "2 of 3 runs match" in str(board.query_one("#board-status").render())
        filter_box = board.query_one("#board-filter", Input)
        filter_box.value = "lr"  # runs whose lr differs from the default
        await until(pilot, lambda: cells(board, "settings") == ["lr=0.01, hidden=4", "lr=0.05"], "lr filter")
        filter_box.value = "hidden=4"
        await until(pilot, lambda: cells(board, "settings") == ["lr=0.01, hidden=4"], "a value filter")
        await pilot.press("escape")  # out of the filter, to the table
        assert board.focused is board.table
        filter_box.value = ""
        await until(pilot, lambda: len(board.table.rows) == 3, "every run again")

        chart = board.query_one(BoardFitChart)
        await pilot.press("space", "down", "space", "down")  # the two best drawn dashed, the third solid
        await until(pilot, lambda: len(chart.overlays) == 2, "two overlays")
        assert cells(board, "mark") == ["●", "●", " "]
        assert chart.snapshot is not None and "lr=0.05" in chart.border_title
        await pilot.press("up", "space")
        await until(pilot, lambda: len(chart.overlays) == 1, "one overlay left")

        await pilot.press("up", "enter")  # the best run's settings into the form
        await until(pilot, lambda: app.screen is screen_of(app), "back to the form")
        values = screen_of(app).form.raw_values()
        assert float(values["lr"]) == 0.01 and int(values["hidden"]) == 4
        who = ClassWriter(tmp_path).user
        await notified(pilot, notes, lambda n: f"{who}'s settings are in the form" in n.message, "the note")


async def test_without_a_class_folder_the_key_says_how(tmp_path, notes: Notes) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=(100, 30), message_hook=notes) as pilot:
        await pilot.press("b")
        await notified(pilot, notes, lambda n: "--class DIR" in n.message, "how to get a board")
        assert app.screen is screen_of(app)


async def test_sweep_members_added_to_the_runs_table_are_posted_and_shown_on_the_board(tmp_path) -> None:
    from textual.widgets import Select

    from tests.conftest import finished, open_dialog

    app = QuadApp(SMALL, class_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        poster = screen_of(app).runs.on_add
        dialog = await open_dialog(pilot, app)
        dialog.query_one("#sweep-param", Select).value = "hidden"
        await pilot.pause()
        await pilot.press(*"2,4", "enter")
        await finished(pilot, app)
        assert poster.posted == 0  # a sweep posts nothing until its runs are added
        await pilot.press("a", "escape")
        await until(pilot, lambda: poster.posted == 2, "both members posted")
        await until(pilot, lambda: app.screen is screen_of(app), "the main screen")
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.loads, "the board")
        assert sorted(cells(board_of(app), "settings")) == ["epochs=300, hidden=2", "epochs=300, hidden=4"]


async def test_a_post_that_fails_is_one_notification_and_the_app_goes_on(tmp_path, notes: Notes) -> None:
    (tmp_path / ClassWriter(tmp_path).user).write_text("a file where the student's folder goes")
    app = QuadApp(SMALL, class_dir=tmp_path)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        poster = screen_of(app).runs.on_add
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        note = await notified(pilot, notes, lambda n: n.title == "Run not posted to the class", "the failure")
        assert note.message.endswith("not a folder (move it away: your runs go in a folder of that name)")
        assert poster.flush(timeout=5) and poster.posted == 0
        assert screen_of(app).last.status.value == "done" and len(screen_of(app).runs) == 1  # the run is kept


async def test_board_puts_the_fit_under_the_table_below_120_columns_and_follows_resizes(tmp_path) -> None:
    post(tmp_path, Config(), 0.2)
    app = QuadApp(SMALL, class_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape", "b")  # from the charts (in a field, b is a letter)
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.screen.loads, "the board")
        board = board_of(app)
        fit, table = board.query_one("#board-fit"), board.query_one("#board-table")

        def under() -> bool:
            return fit.region.y >= table.region.bottom and fit.region.width == table.region.width

        def beside() -> bool:
            return fit.region.x >= table.region.right and fit.region.y == table.region.y

        await until(pilot, under, "the fit under the table at 80 columns")
        await pilot.resize_terminal(130, 40)
        await until(pilot, beside, "the fit beside the table at 130 columns")
        await pilot.resize_terminal(100, 30)
        await until(pilot, under, "the fit under the table at 100 columns")
        await pilot.press("escape")  # the screen under the board was laid out for the new size too
        await until(pilot, lambda: app.screen is screen_of(app), "back")
        await until(pilot, lambda: screen_of(app).status_bar.region.width == 100, "the main screen at 100 columns")
