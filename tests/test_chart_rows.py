"""A chart hands Textual finished rows, and charts nobody sees do no title work (issue 15).

Charts draw their rows themselves (``Chart.render_lines``, :mod:`quadtui.tui.widgets.framed`):
border, labels, padding, picture and the app's line filters in one Strip a row, kept until what it
was made from changes.  Each test here renders a chart both ways, its own and Textual's (the base
class's ``Widget.render_lines``, through the StylesCache), and asserts the same segments (text and
style) for every row: any drift from Textual's look fails.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from quadtui.charts import fit_title
from quadtui.core.config import Config
from quadtui.core.snapshot import Status
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.ansi import SINGLE_CELLS, to_strips
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from tests.conftest import CALM, drawn, finish, until


def rows(strips: list[Strip]) -> list[list[Segment]]:
    return [list(strip) for strip in strips]


def assert_as_textual_draws(chart: Chart) -> None:
    """The chart's rows, whole and cropped, are Textual's own (segment by segment), and its own path made them."""
    width, height = chart.outer_size
    assert width and height, f"{chart.id} is not on screen"
    for crop in (Region(0, 0, width, height), Region(3, 1, width - 7, height - 3), Region(0, height - 1, width, 1)):
        own = chart.render_lines(crop)
        assert chart._framed, f"{chart.id}: drawn by Textual's path, not the chart's"
        chart._styles_cache.clear()  # Textual's path makes every row afresh
        textual = Widget.render_lines(chart, crop)
        assert [strip.cell_length for strip in own] == [strip.cell_length for strip in textual]
        assert rows(own) == rows(textual), f"{chart.id} {crop} differs from Textual's rows"


def epoch_now(app: QuadApp) -> int:
    last = app.train_screen.last
    return -1 if last is None else last.epoch


def on_screen(app: QuadApp) -> list[Chart]:
    return [chart for chart in app.query(Chart) if chart.region.area]


async def test_the_charts_rows_are_textuals_in_every_state_size_theme_and_focus() -> None:
    app = QuadApp(Config(epochs=300, hidden=4))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        app.ansi_color = False  # as on a terminal that shows truecolor: Textual's ANSI filter on every row
        assert [type(f).__name__ for f in app.get_line_filters()] == ["ANSIToTruecolor"]
        for chart in on_screen(app):  # before any run: placeholders, bare titles
            assert_as_textual_draws(chart)
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        charts = on_screen(app)
        assert {type(chart) for chart in charts} == {LossChart, FitChart, NeuronChart}
        for chart in charts:  # the charts' panel has the focus: accent borders
            assert_as_textual_draws(chart)
        app.train_screen.form.focus()
        await until(pilot, lambda: app.train_screen.focused is not None, "the form's focus")
        await pilot.pause()
        for chart in charts:  # muted borders
            assert_as_textual_draws(chart)
        app.theme = "textual-light"
        await drawn(pilot, app)
        await pilot.pause()
        for chart in charts:
            assert_as_textual_draws(chart)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: on_screen(app) == [app.query_one(LossChart)], "one chart at a time")
        await drawn(pilot, app)
        assert_as_textual_draws(app.query_one(LossChart))
        await pilot.press("f1")  # the help on top: the chart is drawn beneath it
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help")
        assert_as_textual_draws(app.query_one(LossChart))


async def test_the_charts_rows_are_textuals_while_training_paused_and_under_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # the app's Monochrome line filter, on every row
    app = QuadApp(Config(epochs=10_000_000, hidden=4), autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.train_screen
        loss = app.query_one(LossChart)
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0 and loss.up_to_date, "a frame")
        assert "Monochrome" in [type(f).__name__ for f in app.get_line_filters()]
        assert_as_textual_draws(loss)  # training: the picture and title of this moment
        await pilot.press("space")
        await until(pilot, lambda: screen.last is not None and screen.last.status is Status.PAUSED, "paused")
        await drawn(pilot, app)
        assert_as_textual_draws(loss)
        await pilot.press("2")
        fit = app.query_one(FitChart)
        await until(pilot, lambda: bool(fit.region.area) and fit.up_to_date, "the fit chart")
        assert_as_textual_draws(fit)


async def test_a_repainted_chart_makes_only_the_rows_that_changed() -> None:
    app = QuadApp(Config(epochs=300, hidden=4))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        loss = app.query_one(LossChart)
        whole = Region(0, 0, *loss.outer_size)
        loss.render_lines(whole)
        made = loss._rows.made
        loss.render_lines(whole)  # nothing changed: every row looked up
        assert loss._rows.made == made
        loss._set_border(title="loss · a new title")  # as a new epoch's title is set: only the top row
        loss.render_lines(whole)
        assert loss._rows.made == made + 1
        assert "loss · a new title" in loss.render_lines(Region(0, 0, whole.width, 1))[0].text
        assert loss._rows.made == made + 1
        loss._set_border(legend=Content("a new legend"))  # only the bottom row
        loss.render_lines(whole)
        assert loss._rows.made == made + 2
        loss.log_x = True  # a new picture: its rows that changed, and the legend's caption (linear → log)
        await until(pilot, lambda: loss.up_to_date and "log" in loss.legend_text, "the log picture")
        before = loss._rows.made
        loss.render_lines(whole)
        assert 0 < loss._rows.made - before <= whole.height
        assert_as_textual_draws(loss)


async def test_a_hidden_chart_works_out_no_title_while_a_run_trains_and_shows_it_at_once() -> None:
    app = QuadApp(Config(epochs=10_000_000, hidden=4), autorun=True)
    app.train_screen.speed = CALM
    async with app.run_test(size=(80, 24)) as pilot:  # one chart at a time: the loss chart's tab
        loss, fit = app.query_one(LossChart), app.query_one(FitChart)
        titles: list[object] = []
        timers: list[object] = []
        title, set_timer = fit.title, fit.set_timer

        def counted_title() -> str:
            titles.append(fit.snapshot)
            return title()

        def counted_timer(*args: Any, **kwargs: Any) -> Any:
            timers.append(args)
            return set_timer(*args, **kwargs)

        fit.title = counted_title  # type: ignore[method-assign]
        fit.set_timer = counted_timer  # type: ignore[method-assign]
        await until(pilot, lambda: epoch_now(app) > 0 and loss.up_to_date, "a frame")
        epoch, draws = epoch_now(app), loss.draws
        await until(pilot, lambda: loss.draws >= draws + 5 and epoch_now(app) > epoch, "frames of the run")
        assert fit.snapshot is not None and fit.snapshot.epoch > epoch  # the hidden chart was told of them
        assert not titles and not timers  # ...and worked out no title, started no timer
        assert fit.region.area == 0

        painted: list[tuple[str, str]] = []  # (the top row of the fit chart's first paint, its title then)
        render_lines = fit.render_lines

        def first_paint(crop: Region) -> list[Strip]:
            strips = render_lines(crop)
            if not painted and crop.y == 0:
                painted.append((strips[0].text, fit_title(fit.snapshot)))
            return strips

        fit.render_lines = first_paint  # type: ignore[method-assign]
        await pilot.press("2")
        await until(pilot, lambda: bool(painted), "the fit chart painted")
        top, expected = painted[0]
        assert expected.startswith("fit · epoch ") and expected in top  # the current title, on its first paint
        assert titles  # worked out when shown


def test_a_chart_line_of_single_cell_characters_is_measured_by_its_length() -> None:
    for first, last in re.findall(r"(.)-(.)", SINGLE_CELLS):  # the class holds only one-cell characters
        assert all(get_character_cell_size(chr(c)) == 1 for c in range(ord(first), ord(last) + 1)), (first, last)
    lines = ["╭─ ▗▄⠖⠤ ◆ ŷ·x² ─╮", "\x1b[1;31mred\x1b[0m ok", "wide 数 here", "a\u0302 combining", ""]
    for line, strip in zip(lines, to_strips("\n".join(lines))):
        text = strip.text
        known = strip._cell_length  # the length the strip was made with (None: Textual measures it)
        assert known == (len(text) if "数" not in line and "\u0302" not in line else None), line
        assert strip.cell_length == cell_len(text), line  # known or measured, always right


async def test_a_textual_whose_internals_changed_costs_speed_never_a_frame(monkeypatch) -> None:
    """The finished rows draw on Textual's row maker: should it fail (a Textual whose internals moved),
    the chart falls back to Textual's own path, for good, and shows the same picture."""
    from quadtui.core.config import Config
    from quadtui.tui.app import QuadApp
    from quadtui.tui.widgets.framed import FramedRows
    from quadtui.tui.widgets.run_charts import LossChart
    from tests.conftest import until

    app = QuadApp(Config(epochs=300), autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.train_screen.last is not None and app.train_screen.last.finished, "the run")
        chart = app.query_one(LossChart)
        await until(pilot, lambda: chart.up_to_date, "the chart drawn")
        before = app.export_screenshot()

        def moved(*args: object, **kwargs: object) -> None:
            raise TypeError("render_line() takes 12 positional arguments")

        monkeypatch.setattr(FramedRows, "broken", False)
        monkeypatch.setattr(chart._rows, "_textual_row", moved)
        chart._rows.clear()
        chart.refresh()
        await until(pilot, lambda: FramedRows.broken, "the fall-back")
        await pilot.pause()
        assert app.export_screenshot() == before
