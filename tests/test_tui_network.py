"""Pilot tests of the network view: the flag and the key, the selection across layers, paging, live redraws."""

from __future__ import annotations

import pytest
from textual.widgets import Tabs

from quadtui.core.config import Config
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.network import NetworkChart
from quadtui.tui.widgets.run_charts import FitChart, LossChart, NeuronChart
from tests.conftest import CALM, finish, until

DEEP = Config(epochs=200, hidden=16, layers=2)


def shown(app: QuadApp) -> list[str]:
    """The charts that take room on screen now, by id."""
    return [chart.id for chart in app.query("Chart") if chart.region.area]


async def test_the_flag_opens_the_network_view_and_n_switches_between_it_and_the_charts() -> None:
    app = QuadApp(DEEP, autorun=True, view="network")
    async with app.run_test(size=(160, 48)) as pilot:
        await finish(pilot, app)
        net = app.query_one(NetworkChart)
        assert shown(app) == ["network-chart"]
        await until(pilot, lambda: net.up_to_date, "the network view to be drawn")
        text = net.plain
        for part in ("units 0–15 of 16", "layer 1", "layer 2", "W2", "Wout", "output ŷ", "epoch 200/200"):
            assert part in text
        area = app.query_one("#charts").region
        assert (net.region.width, net.region.height) == (area.width, area.height)  # the whole chart area
        await pilot.press("n")
        await until(pilot, lambda: shown(app) == ["loss-chart", "fit-chart", "neuron-chart"], "the three charts")
        await pilot.press("n")
        await until(pilot, lambda: shown(app) == ["network-chart"], "the network view again")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_arrow_keys_select_any_unit_of_any_layer_and_the_output(size: tuple[int, int]) -> None:
    app = QuadApp(DEEP, autorun=True)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        net = app.query_one(NetworkChart)
        assert net.selection == (2, 0)  # where the neuron chart is: the last hidden layer's unit 0
        await pilot.press("down")  # the view is not shown: the arrows leave the selection alone
        assert net.selection == (2, 0)
        await pilot.press("n")
        await until(pilot, lambda: shown(app) == ["network-chart"], "the network view")
        await pilot.press("left", "down", "down", "right")
        assert net.selection == (2, 2) and net.border_title == "network · layer 2 · neuron 2 of 16"
        await until(
            pilot,
            lambda: net.plain.splitlines()[-1].startswith("layer 2 · neuron 2 of 16 · "),
            "the footer to describe the selection",
        )
        await pilot.press("right", "right")
        assert net.selection[0] == 3 and net.border_title == "network · output"
        await pilot.press(*["left"] * 4, *["up"] * 4)
        assert net.selection == (1, 0)
        await pilot.press(*["down"] * 20)
        assert net.selection == (1, 15)  # the last unit; there is no unit 16
        page = net.page_size
        if page < 16:  # 80×24: fewer tiles, the page follows the selection
            await until(pilot, lambda: f"units {16 - page}–15 of 16" in net.plain, "the last page")
        else:
            assert "units 0–15 of 16" in net.plain
        assert any("▸15" in line for line in net.plain.splitlines())


async def test_page_keys_page_through_a_wide_layer() -> None:
    app = QuadApp(Config(epochs=20, hidden=40, layers=2), autorun=True, view="network")
    async with app.run_test(size=(160, 48)) as pilot:
        await finish(pilot, app)
        net = app.query_one(NetworkChart)
        assert net.page_size == 16
        await until(pilot, lambda: "units 0–15 of 40 (page 1/3)" in net.plain, "the first page")
        await pilot.press("pagedown", "down")
        assert net.selection == (2, 17)
        await until(pilot, lambda: "units 16–31 of 40 (page 2/3)" in net.plain, "the second page")
        await pilot.press("pagedown", "pagedown")
        assert net.selection == (2, 39)
        await pilot.press("pageup")
        assert net.selection == (2, 23)


async def test_enter_opens_the_selected_unit_in_the_neuron_chart_and_the_output_in_the_fit_chart() -> None:
    app = QuadApp(DEEP, autorun=True, view="network")
    async with app.run_test(size=(80, 24)) as pilot:
        await finish(pilot, app)
        net = app.query_one(NetworkChart)
        await pilot.press("down", "down", "down", "enter")
        await until(pilot, lambda: shown(app) == ["neuron-chart"], "the neuron chart")
        neuron = app.query_one(NeuronChart)
        assert neuron.neuron == 3 and app.query_one(Tabs).active == "neuron"
        await pilot.press("4")
        await until(pilot, lambda: shown(app) == ["network-chart"], "the network view")
        assert net.selection == (2, 3)
        await pilot.press("right", "enter")
        await until(pilot, lambda: shown(app) == ["fit-chart"], "the fit chart")


async def test_the_network_view_redraws_live_as_the_run_trains() -> None:
    app = QuadApp(Config(epochs=10_000_000, hidden=16, layers=2), autorun=True, view="network")
    app.train_screen.speed = CALM
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        net = app.query_one(NetworkChart)
        await until(pilot, lambda: screen.last is not None and screen.last.epoch > 0 and net.up_to_date, "a frame")
        first, draws = screen.last.epoch, net.draws
        await until(
            pilot, lambda: net.draws >= draws + 3 and net.up_to_date and screen.last.epoch > first, "more frames"
        )
        assert f"epoch {screen.last.epoch:,}/" in net.plain
        assert not any(
            chart.up_to_date and chart.draws for chart in (app.query_one(LossChart), app.query_one(FitChart))
        )  # hidden: not drawn


async def test_the_palette_and_the_footer_offer_the_network_view() -> None:
    app = QuadApp(DEEP)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.train_screen
        footer = [b.binding for b in screen.active_bindings.values() if b.binding.show]
        assert any(binding.action == "network" for binding in footer)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        await commands["Network view: every unit of every layer / back to the charts"].callback()
        await until(pilot, lambda: shown(app) == ["network-chart"], "the network view")
        assert "no run yet" in app.query_one(NetworkChart).plain


async def test_enter_opens_a_unit_of_any_layer_with_the_contribution_toggle() -> None:
    app = QuadApp(Config(epochs=200, hidden=16, layers=3), autorun=True, view="network")
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        neuron = app.query_one(NeuronChart)
        await pilot.press("left", "down", "down", "enter")  # from layer 3 unit 0 to layer 2, unit 2
        await until(pilot, lambda: shown(app) == ["loss-chart", "fit-chart", "neuron-chart"], "the charts")
        assert (neuron.hidden_layer, neuron.neuron) == (2, 2)
        assert neuron.border_title == "layer 2 · neuron 2 of 16: h2(x)"
        await until(pilot, lambda: neuron.up_to_date, "layer 2 drawn")
        await pilot.press("right_square_bracket")  # the next unit of the same layer
        assert (neuron.hidden_layer, neuron.neuron) == (2, 3)
        await pilot.press("c")
        assert neuron.border_title == "layer 2 · neuron 3 of 16: contribution to ŷ"
        await until(pilot, lambda: neuron.up_to_date and "without it" in neuron.legend_text, "the contribution")
        await pilot.press("n", "right", "up", "enter")  # the last hidden layer, unit 1
        await until(pilot, lambda: neuron.neuron == 1 and neuron.region.area, "the neuron chart")
        assert neuron.hidden_layer is None  # "the last layer": it follows a run with fewer layers
        assert neuron.border_title == "layer 3 · neuron 1 of 16: contribution w1·h1(x)"


async def test_the_neuron_flag_picks_a_layer_and_a_unit() -> None:
    app = QuadApp(DEEP, autorun=True, neuron=5, neuron_layer=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        neuron = app.query_one(NeuronChart)
        assert neuron.border_title == "layer 1 · neuron 5 of 16: h5(x)"
        assert app.query_one(NetworkChart).selection == (1, 5)
