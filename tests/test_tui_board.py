"""The class folder in the app: finished runs are posted, and the class board."""

from __future__ import annotations

import sqlite3

from quadtui.core.config import Config
from quadtui.tui.app import QuadApp
from tests.test_tui import finish, screen_of, until

SMALL = Config(epochs=300, hidden=4)


async def test_a_finished_run_of_the_app_is_posted_to_the_class_from_a_worker(tmp_path) -> None:
    app = QuadApp(SMALL, class_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        poster = screen_of(app).runs.on_add
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        await until(pilot, lambda: poster.posted == 1, "the run to be posted")
        con = sqlite3.connect(poster.writer.database)
        (row,) = con.execute("SELECT status, epochs_run, final_loss, eval_loss FROM runs").fetchall()
        con.close()
        last = screen_of(app).last
        assert row == ("done", 300, last.train_now, last.eval_now)
