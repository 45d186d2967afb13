"""The notebook's finished run, read at a glance at 80×24 and 120×40 (issue 18).

What the app shows is measured: how much of the fit chart's curve is the model's
prediction, how many labelled ticks each axis has, that each chart says its title once
(in its border, over a legend-only caption), and that the log x axis gives the first
epochs room.
"""

from __future__ import annotations

import re

import pytest

from quadtui.core.config import Config
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from tests.conftest import finish, plot_area, shown, status_text, type_into, until

BLOCKS = set("▀▄▌▐█▘▝▖▗▚▞▛▜▙▟")  # the block line: the model's prediction on the fit chart


def prediction_share(text: str) -> float:
    """Of the plot's columns with anything drawn in them, the share where the block line shows."""
    rows, _, _ = plot_area(text)
    width = max(len(row) for row in rows)
    columns = ["".join(row[i] if i < len(row) else " " for row in rows) for i in range(width)]
    plotted = [column for column in columns if column.strip()]
    return sum(bool(set(column) & BLOCKS) for column in plotted) / len(plotted)


def title_parts(title: str) -> list[str]:
    return [part for part in re.split(r" · |: ", title) if part]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_finished_notebook_run_reads_at_a_glance(size: tuple[int, int]) -> None:
    app = QuadApp(Config())  # the notebook's run
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        for key, kind in (("1", LossChart), ("2", FitChart), ("3", NeuronChart)):
            chart = app.query_one(kind)
            await shown(pilot, app, chart, key)
            text, title, legend = chart.plain, chart.border_title, chart.legend_text
            rows, y_labels, x_line = plot_area(text)
            assert len(y_labels) >= 4 and len(x_line.split()) >= 4, (chart.id, y_labels, x_line)
            assert len(rows) == chart.content_size.height - 2, "every row but the x axis and its labels is plot"
            for part in title_parts(title):  # one title: said once, in the border
                assert title.count(part) == 1 and part not in text and part not in legend, (chart.id, part)
            if kind is FitChart:
                share = prediction_share(text)
                assert share >= 0.8, f"the prediction shows in {share:.0%} of the fit chart's columns"
        assert app.query_one(LossChart).border_title.startswith("loss · epoch 5,000 · 0.0632")
        assert app.query_one(FitChart).border_title == "fit · epoch 5,000"
        assert app.query_one(NeuronChart).border_title == "neuron 0 of 8: h0(x)"


async def test_the_log_x_key_gives_the_first_epochs_room_and_says_so() -> None:
    app = QuadApp(Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        loss = app.query_one(LossChart)
        await shown(pilot, app, loss, "1")
        linear = loss.plain
        assert loss.legend_text.endswith("epoch") and "log" not in loss.legend_text
        await pilot.press("escape", "l")
        await until(pilot, lambda: loss.plain != linear and loss.up_to_date, "the log x axis")
        assert loss.legend_text.endswith("epoch, log scale")
        rows, _, x_line = plot_area(loss.plain)
        assert x_line.split()[:4] == ["1", "10", "100", "1000"]
        # epochs 1 to 100 (a vertical bar in the first column or two on a linear axis) now take
        # half the width, drawn as a line: a mark in nearly every one of those columns
        axis = len(x_line) - len(rows[0]) - 1  # the column of the y axis: rows start right of it
        left, hundred = x_line.index("1") - axis - 1, x_line.index("100") + 1 - axis - 1
        columns = ["".join(row[i] for row in rows if i < len(row)) for i in range(left, hundred)]
        assert hundred - left >= len(rows[0]) * 0.4
        assert sum(bool(column.strip()) for column in columns) >= 0.9 * len(columns)
        await pilot.press("l")
        await until(pilot, lambda: loss.plain == linear, "the linear axis again")
        assert "log" not in loss.legend_text


async def test_a_diverged_run_says_its_prediction_is_off_the_chart_and_names_one_epoch() -> None:
    app = QuadApp(Config(epochs=200, hidden=4))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        await finish(pilot, app)  # a good run first: its dashed fit stays on the chart
        await type_into(pilot, app, "lr", "5")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: app.train_screen.run_config is not None and app.train_screen.run_config.lr == 5.0,
            "the second run to start",
        )
        await finish(pilot, app)
        last = app.train_screen.last
        assert last.diverged_at is not None
        fit = app.query_one(FitChart)
        await shown(pilot, app, fit, "2")
        assert "prediction off the chart: " in fit.plain
        status = status_text(app)  # one epoch, the last kept: in the state, beside it, and in the titles
        assert status.startswith(f"diverged after epoch {last.epoch}") and f"epoch {last.epoch} of 200" in status
        assert str(last.diverged_at) not in status.split(" of ")[0]
        assert f"epoch {last.epoch}/200" in fit.border_title
        assert app.query_one(LossChart).border_title.startswith(f"loss · epoch {last.epoch}/200")
