"""A frame of a training run does only the work its picture needs (issue 15: a class on two cores).

Each test proves what is *not* done (a legend for a chart nobody sees, a second pass to colour a
picture) and that what is shown is the same as when it was done (the status line's share of this:
tests/test_tui_status.py).  No timings: the benchmark (``benchmarks/ui_cpu.py``) measures the cost.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Hashable
from functools import partial
from typing import Any

import numpy as np
import pytest
from rich.style import Style
from textual.app import App, ComposeResult

from quadtui.charts import (
    ChartTheme,
    LossOverlay,
    fit_chart,
    fit_signature,
    loss_chart,
    loss_legend,
    neuron_chart,
    neuron_signature,
)
from quadtui.charts.canvas import SIGNATURE_STEPS, LegendEntry, legend_entries
from quadtui.charts.loss import _traces
from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.snapshot import Snapshot, Status
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets import kept_picture
from quadtui.tui.widgets.ansi import to_strips
from quadtui.tui.widgets.chart import Chart
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from tests.conftest import finish, screen_text, shown, until

THEME = ChartTheme(dark=True, color=True)


def trained(epochs: int = 300) -> Engine:
    engine = Engine(Config(epochs=epochs))
    engine.run()
    return engine


async def test_a_chart_on_a_hidden_tab_keeps_its_title_but_builds_no_legend_until_it_is_shown() -> None:
    app = QuadApp(Config(epochs=300))
    async with app.run_test(size=(80, 24)) as pilot:  # one chart at a time: the loss chart's tab
        await until(pilot, lambda: app.train_screen.engine_loaded, "torch")
        fit, loss = app.query_one(FitChart), app.query_one(LossChart)
        legends: list[object] = []
        legend = fit.legend

        def counted(theme: ChartTheme) -> list[LegendEntry]:
            legends.append(theme)
            return legend(theme)

        fit.legend = counted  # type: ignore[method-assign]
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        await shown(pilot, app, loss, "1")
        assert fit.border_title == "fit · epoch 300"  # read, a hidden chart's title is worked out then
        assert not legends and fit.draws == 0  # no legend, no picture: nobody saw them
        await shown(pilot, app, fit, "2")
        assert legends and "▀▄ model" in fit.legend_text and fit.draws == 1
        assert fit.plain.strip()


def test_strips_made_on_a_style_are_the_picture_with_that_style_applied() -> None:
    snap = trained().snapshot()
    ansi = loss_chart(snap, 60, 18, THEME, header=False)
    base = Style(color="#e0e0e0", bgcolor="#1e1e1e", bold=False)
    made = to_strips(ansi, base)
    applied = [strip.apply_style(base) for strip in to_strips(ansi)]
    assert [list(strip) for strip in made] == [list(strip) for strip in applied]
    assert [list(strip) for strip in to_strips(ansi, Style())] == [list(strip) for strip in to_strips(ansi)]


def test_the_loss_legend_is_the_legend_of_the_traces_drawn() -> None:
    engine = trained()
    snap = engine.snapshot()
    overlays = [LossOverlay("lr=0.05", snap.history)]
    drawn = legend_entries(_traces(snap, THEME, overlays, 8, False))
    assert loss_legend(snap, THEME, overlays) == drawn
    labels = [entry.label for entry in drawn]
    assert labels[0] == "train" and labels[1].startswith("eval ") and labels[2] == "lr=0.05"


def test_equal_signatures_draw_the_same_pictures_to_within_a_dot_and_a_settling_fit_keeps_its_own() -> None:
    engine = Engine(Config(epochs=1_000_000))
    charts = [
        (
            partial(fit_chart, width=38, height=16, theme=THEME, header=False),
            partial(fit_signature, width=38, height=16, theme=THEME),
        ),
        (
            partial(neuron_chart, neuron=0, contribution=False, width=82, height=18, theme=THEME, header=False),
            partial(neuron_signature, neuron=0, contribution=False, width=82, height=18, theme=THEME),
        ),
    ]
    last: list[tuple[str, object] | None] = [None, None]
    kept = same = redrawn = 0
    engine.advance(60_000)
    for _ in range(40):  # a snapshot every 2,000 epochs (a frame at full speed): a fit settling
        engine.advance(2_000)
        snap = engine.snapshot()
        for i, (draw, sign) in enumerate(charts):
            picture, signed = draw(snap), sign(snap)
            earlier = last[i]
            if earlier is not None:
                before, signed_before = earlier
                if signed == signed_before:
                    kept += 1
                    same += picture == before
                    # at most a point that crossed a dot's edge by under half a dot: a cell or two
                    cells = sum(a != b for a, b in zip(plain(before), plain(picture)))
                    assert cells <= 4, f"a kept signature, {cells} cells apart"
                else:
                    redrawn += 1
            last[i] = (picture, signed)
    assert kept >= 20 and redrawn >= 5  # the settled epochs are kept, the moves are not
    assert same >= 0.9 * kept  # and nearly always the picture kept is the very one


def plain(ansi: str) -> str:
    return "".join(segment.text for strip in to_strips(ansi) for segment in strip)


class FitOnly(App[None]):
    CSS = "FitChart { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield FitChart()


async def test_a_training_fit_that_moves_no_dot_is_not_drawn_again_but_its_final_state_is() -> None:
    engine = Engine(Config(epochs=20_000))
    engine.advance(3_000)
    snap = dataclasses.replace(engine.snapshot(), status=Status.TRAINING)
    app = FitOnly()
    async with app.run_test(size=(60, 20)) as pilot:
        chart = app.query_one(FitChart)
        chart.show(snap)
        await until(pilot, lambda: chart.up_to_date and chart.snapshot is snap, "the first picture")
        drawn, picture = chart.draws, chart.plain
        nudged = dataclasses.replace(snap, epoch=snap.epoch + 1, prediction=snap.prediction + 1e-9)
        chart.show(nudged)
        await pilot.pause()
        assert chart.up_to_date and chart.draws == drawn and chart.plain == picture  # kept, undrawn
        epochs = itertools.count(nudged.epoch + 1)

        def next_frame_titled() -> bool:
            nonlocal nudged
            nudged = dataclasses.replace(nudged, epoch=next(epochs))
            chart.show(nudged)
            return str(chart.border_title).startswith(f"fit · epoch {nudged.epoch:,}/")

        # while the picture stands, the title's numbers move on with a frame, at most twice a second
        await until(pilot, next_frame_titled, "the title's numbers, with a frame")
        assert chart.draws == drawn and chart.plain == picture
        done = dataclasses.replace(nudged, epoch=nudged.epoch + 1, status=Status.DONE)
        chart.show(done)
        await until(pilot, lambda: chart.up_to_date, "the final state")
        assert chart.draws == drawn + 1  # a run's final state is always drawn from its own snapshot
        moved = dataclasses.replace(snap, epoch=done.epoch + 1, prediction=snap.prediction * 0.5)
        chart.show(moved)
        await until(pilot, lambda: chart.up_to_date, "a moved fit")
        assert chart.draws == drawn + 2 and chart.plain != picture


class SigningFit(FitChart):
    def __init__(self) -> None:
        super().__init__()
        self.signed = 0

    def signature(self, width: int, height: int, theme: ChartTheme) -> Hashable:
        self.signed += 1
        return super().signature(width, height, theme)


class SigningNeuron(NeuronChart):
    def __init__(self) -> None:
        super().__init__(neuron=1)
        self.signed = 0

    def signature(self, width: int, height: int, theme: ChartTheme) -> Hashable:
        self.signed += 1
        return super().signature(width, height, theme)


class CreepApp(App[None]):
    CSS = "Chart { height: 1fr; }"

    def __init__(self, chart: Chart) -> None:
        super().__init__()
        self.chart = chart

    def compose(self) -> ComposeResult:
        yield self.chart


def creep(snap: Snapshot, chart: Chart, by: float) -> Snapshot:
    """``snap`` with what ``chart`` moves with (the fit's prediction, the neuron's activation) moved by ``by``."""
    if isinstance(chart, FitChart):
        return dataclasses.replace(snap, prediction=snap.prediction + by)
    layer = snap.layers[-1].copy()
    layer[:, chart.neuron] += by
    return dataclasses.replace(snap, layers=(*snap.layers[:-1], layer), hidden=layer)


@pytest.mark.parametrize("chart_type", [SigningFit, SigningNeuron])
async def test_a_creeping_curve_keeps_its_picture_unsigned_until_it_has_moved_a_sixteenth_of_a_dot(
    chart_type: type[SigningFit | SigningNeuron], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training run's fit or neuron that moves by less than a 1/SIGNATURE_STEPS of a dot since its picture
    was drawn keeps it without being signed (a signature builds the chart's spec and ticks: ten times the
    cost); moves that add up to more are signed, counted from the picture drawn, not from the last frame."""
    monkeypatch.setattr(kept_picture, "KEEP_AT_MOST", 600.0)  # a slow machine's frames: never the once-a-second redraw
    engine = Engine(Config(epochs=20_000))
    engine.advance(3_000)
    snap = dataclasses.replace(engine.snapshot(), status=Status.TRAINING)
    chart = chart_type()
    app = CreepApp(chart)
    async with app.run_test(size=(60, 20)) as pilot:
        chart.show(snap)
        await until(pilot, lambda: chart.up_to_date and chart.snapshot is snap, "the first picture")
        drawn, signed = chart.draws, chart.signed
        if isinstance(chart, FitChart):
            span = float(np.ptp(snap.grid_target))
        else:
            span = float(np.ptp(snap.layers[-1][:, chart.neuron]))
        sixteenth = span / (4 * SIGNATURE_STEPS * chart.content_size.height)
        for step in (1, 2, 3):  # a third of the way, frame after frame: together, one sixteenth
            frame = creep(dataclasses.replace(snap, epoch=snap.epoch + step), chart, step * sixteenth / 3.01)
            chart.show(frame)
            await until(pilot, lambda: chart.up_to_date, f"frame {step}")
            assert (chart.draws, chart.signed) == (drawn, signed), f"signed after {step} thirds of a sixteenth"
        further = creep(dataclasses.replace(snap, epoch=snap.epoch + 4), chart, 4 * sixteenth / 3)
        chart.show(further)
        await until(pilot, lambda: chart.up_to_date, "the frame beyond")
        assert chart.signed > signed
        weights_set = dataclasses.replace(snap, epoch=snap.epoch + 5, weight_edits=(object(),))
        chart.show(weights_set)  # weights set by hand: drawn whatever moved
        await until(pilot, lambda: chart.up_to_date, "weights set by hand")
        assert chart.draws > drawn


class CountedLossChart(LossChart):
    """A loss chart that records what each refresh asked to repaint (None: all of it)."""

    def __init__(self) -> None:
        super().__init__()
        self.repaints: list[tuple[int, ...] | None] = []

    def refresh(self, *regions: Any, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Any:
        if self.is_mounted and not self._border_only:
            self.repaints.append(tuple(region.y for region in regions) if regions else None)
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


class LossOnly(App[None]):
    CSS = "LossChart { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield CountedLossChart()


def training(engine: Engine) -> Any:
    return dataclasses.replace(engine.snapshot(), status=Status.TRAINING)


async def test_a_new_epoch_repaints_only_the_rows_it_changed_and_the_screen_shows_the_new_picture() -> None:
    engine = Engine(Config(epochs=100_000))
    engine.advance(5_000)
    before = training(engine)
    engine.advance(100)
    after = training(engine)
    async with LossOnly().run_test(size=(70, 24)) as pilot:
        chart = pilot.app.query_one(CountedLossChart)
        chart.show(before)
        await until(pilot, lambda: chart.up_to_date, "the first picture")
        await pilot.pause()
        rows = len(chart.plain.splitlines())
        chart.repaints.clear()
        chart.show(after)
        await until(pilot, lambda: chart.up_to_date, "the next picture")
        assert chart.repaints and all(painted is not None for painted in chart.repaints)
        painted = {row for rows_painted in chart.repaints for row in rows_painted or ()}
        assert 0 < len(painted) < rows  # 100 epochs later: the rows that changed, not all
        await pilot.pause()
        step_by_step = screen_text(pilot.app)
    async with LossOnly().run_test(size=(70, 24)) as pilot:
        chart = pilot.app.query_one(CountedLossChart)
        chart.show(after)
        await until(pilot, lambda: chart.up_to_date, "the same picture, drawn at once")
        await pilot.pause()
        assert screen_text(pilot.app) == step_by_step  # no row left over from the picture before


def test_a_new_picture_reuses_the_strips_of_the_lines_it_shares() -> None:
    first = to_strips("\x1b[0;38;2;1;2;3mab\x1b[0m\nsame\n\x1b[0;38;2;1;2;3mcd\x1b[0m")
    second = to_strips("\x1b[0;38;2;1;2;3mab\x1b[0m\nsame\n\x1b[0;38;2;9;9;9mcd\x1b[0m", reuse=first)
    assert second[0] is first[0] and second[1] is first[1] and second[2] is not first[2]
    assert second.changed(first) == [2]
    assert to_strips(second.lines[2].replace("9;9;9", "1;2;3")).changed(first) is None  # a new size: all rows
    recoloured = to_strips("\n".join(second.lines), base=Style(bgcolor="red"), reuse=second)
    assert recoloured[0] is not second[0] and recoloured.changed(second) is None  # a new base style: all rows
    # a line whose colour carries over from the line before is not reused when what comes before changed
    carried = to_strips("\x1b[38;2;1;2;3mab\nsame")
    again = to_strips("ab\nsame", reuse=carried)
    assert again[1] is not carried[1] and again[1].text == "same"
