"""Two-setting sweeps in the app: the dialog's second setting, the heatmap, moving over it, Enter."""

from __future__ import annotations

from textual.widgets import Input, Select, Static

from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.sweep import SweepDialog
from quadtui.tui.screens.sweep_grid import GridScreen, HeatmapChart
from quadtui.tui.widgets.run_charts import FitChart
from tests.conftest import Notes, notified, open_dialog, until

FAST = Config(epochs=200)


async def ask(pilot, app: QuadApp, first: str, values: str, second: str, values2: str) -> SweepDialog:
    dialog = await open_dialog(pilot, app)
    dialog.query_one("#sweep-param", Select).value = first
    await pilot.pause()
    dialog.query_one("#sweep-values", Input).value = values
    dialog.query_one("#sweep-param2", Select).value = second
    await pilot.pause()
    dialog.query_one("#sweep-values2", Input).focus()
    await pilot.press(*values2, "enter")
    return dialog


def row_of(picture: str, label: str) -> str:
    """The heatmap line that names the row ``label``."""
    return next(line for line in picture.splitlines() if line.split()[:1] == [label])


async def grid_done(pilot, app: QuadApp) -> GridScreen:
    await until(pilot, lambda: isinstance(app.screen, GridScreen), "the grid screen")
    screen = app.screen
    await until(pilot, lambda: screen.worker is not None, "the sweep to start")
    await screen.worker.wait()
    await until(pilot, lambda: screen.result is not None, "the grid's results")
    heatmap = screen.heatmap
    await until(pilot, lambda: "best:" in heatmap.plain, "the heatmap drawn")
    return screen


async def test_a_grid_from_the_dialog_draws_a_heatmap_of_single_run_losses_and_enter_takes_a_cell(notes: Notes) -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await ask(pilot, app, "lr", "0.01,0.03,5", "hidden", "2,8")
        screen = await grid_done(pilot, app)
        members = screen.result.members
        assert [m.value for m in members] == [(0.01, 2), (0.01, 8), (0.03, 2), (0.03, 8), (5.0, 2), (5.0, 8)]
        singles = [Engine(FAST.replace(lr=lr, hidden=h)).run() for lr, h in [m.value for m in members]]
        assert [m.final_loss for m in members[:4]] == [s.train_now for s in singles[:4]]  # bit for bit
        assert [m.status for m in members] == ["done"] * 4 + ["diverged"] * 2

        picture = screen.heatmap.plain
        rows = picture.splitlines()[2:]
        labels = [line.split()[0] for line in rows if line.split()[:1] in (["0.01"], ["0.03"], ["5"])]
        assert labels == ["0.01", "0.03", "5"]  # the first setting down (the second across, on top)
        assert picture.splitlines()[1].split() == ["2", "8"]
        for k, member in enumerate(members[:4]):
            assert f"{member.final_loss:.3g}" in row_of(picture, ["0.01", "0.03"][k // 2])
        assert row_of(picture, "5").count("×") == 2  # both diverged runs marked
        best = min(range(4), key=lambda k: singles[k].train_now)
        assert screen.heatmap.cursor == best  # the cursor starts on the best cell
        fit = screen.query_one("#grid-fit", FitChart)
        await until(pilot, lambda: fit.snapshot is not None and fit.snapshot.run_id == -1 - best, "the best fit")

        await pilot.press("up", "up", "left")  # to lr=0.01, hidden=2
        assert screen.heatmap.cursor == 0
        cell = str(screen.query_one("#grid-cell", Static).render())
        assert cell.startswith("lr=0.01, hidden=2") and f"final {singles[0].train_now:.6g}" in cell
        await until(pilot, lambda: fit.snapshot.run_id == -1, "the fit of the cell under the cursor")
        assert len(fit.overlays) == (0 if best == 0 else 1)  # the best one dashed behind it

        await pilot.press("e")  # colour by eval loss
        await until(pilot, lambda: "eval loss" in screen.heatmap.plain, "the eval heatmap")
        assert f"{members[0].eval_loss:.3g}" in row_of(screen.heatmap.plain, "0.01")

        await pilot.press("down", "right", "enter")  # lr=0.03, hidden=8 into the form
        await until(pilot, lambda: app.screen is app.train_screen, "the main screen")
        values = app.train_screen.form.raw_values()
        assert float(values["lr"]) == 0.03 and int(values["hidden"]) == 8
        await notified(pilot, notes, lambda n: "settings are in the form" in n.message, "the note")


async def test_the_dialog_refuses_a_grid_it_cannot_train() -> None:
    app = QuadApp(FAST)
    async with app.run_test(size=(100, 34)) as pilot:
        dialog = await ask(pilot, app, "lr", "0.01,0.02", "lr", "0.03")
        error = dialog.query_one("#sweep-error", Static)
        await until(pilot, lambda: "lr twice" in str(error.render()), "the error")
        dialog.query_one("#sweep-param2", Select).value = "hidden"
        dialog.query_one("#sweep-values2", Input).value = ""
        await pilot.pause()
        dialog.query_one("#sweep-values2", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "values for both settings" in str(error.render()), "the empty values error")
        dialog.query_one("#sweep-values", Input).value = "0.001:0.1:9"
        dialog.query_one("#sweep-values2", Input).value = "1:64:8"
        await pilot.press("enter")
        await until(pilot, lambda: "9 × 8 = 72 runs" in str(error.render()), "the too-many error")
        assert isinstance(app.screen, SweepDialog)
        assert isinstance(HeatmapChart, type)


async def test_two_sweeps_on_the_command_line_open_the_heatmap_at_once() -> None:
    app = QuadApp(FAST, grid=["hidden=2,4", "seed=1,2,3"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await grid_done(pilot, app)
        assert [m.value for m in screen.result.members][:3] == [(2, 1), (2, 2), (2, 3)]
        assert screen.heatmap.plain.splitlines()[1].split() == ["1", "2", "3"]
        assert screen.heatmap.region.width >= 40 and screen.query_one("#grid-fit").region.width >= 20
