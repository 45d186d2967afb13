"""The network view's chart and the snapshot fields behind it: every layer on the grid, dead units."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import numpy as np
import pytest
import torch

from quadtui.charts import ChartTheme, neuron_chart
from quadtui.charts.network import PAGE, network_chart, network_layout
from quadtui.charts.text import visible
from quadtui.charts.units import knockout, unit_info
from quadtui.core.config import Config
from quadtui.core.engine import Engine
from quadtui.core.export import fit_csv
from quadtui.core.remote import _Mirror, _Shipper

PLAIN = ChartTheme(color=False)
DARK = ChartTheme(dark=True, foreground=(220, 220, 220), background=(30, 30, 30))
PLUS, MINUS = "\x1b[38;2;97;175;239m", "\x1b[38;2;224;108;117m"  # the dark palette's blue and red


@pytest.fixture(scope="module")
def deep():
    engine = Engine(Config(epochs=400, hidden=16, layers=2, seed=3))
    engine.advance(400)
    return engine


@pytest.fixture(scope="module")
def snap(deep):
    return deep.snapshot()


def lines_of(text: str) -> list[str]:
    return visible(text).split("\n")


def assert_shape(text: str, width: int, height: int) -> None:
    lines = lines_of(text)
    assert len(lines) == height
    assert all(len(line) == width for line in lines), [len(line) for line in lines]


# -- the snapshot's layers --------------------------------------------------------------------
def test_snapshot_holds_every_hidden_layer_as_the_model_computes_it(deep, snap):
    model = deep.trained_model()
    x = torch.from_numpy(snap.grid).reshape(-1, 1).float()
    expected, h = [], x
    with torch.no_grad():
        for module in model[:-1]:
            h = module(h)
            if not isinstance(module, torch.nn.Linear):
                expected.append(h.double().numpy())
    assert len(snap.layers) == 2 and snap.hidden is snap.layers[-1]
    for got, want in zip(snap.layers, expected):
        np.testing.assert_array_equal(got, want)


def test_dead_units_are_the_ones_zero_on_every_training_sample(deep, snap):
    model = deep.trained_model()
    h = deep.data.x_train
    dead = []
    with torch.no_grad():
        for module in model[:-1]:
            h = module(h)
            if not isinstance(module, torch.nn.Linear):
                dead.append((h == 0).all(0).numpy())
    assert any(d.any() for d in dead) and not all(d.all() for d in dead)  # the run has both kinds
    for got, want in zip(snap.dead, dead):
        np.testing.assert_array_equal(got, want)


def test_the_training_process_ships_every_layer_and_the_dead_units(snap):
    mirror = _Mirror(snap.config)
    rebuilt = mirror.apply(_Shipper().delta(snap))
    assert len(rebuilt.layers) == len(snap.layers)
    for got, want in zip(rebuilt.layers + rebuilt.dead, snap.layers + snap.dead):
        np.testing.assert_array_equal(got, want)


# -- the chart ---------------------------------------------------------------------------------
@pytest.mark.parametrize("width,height", [(160, 48), (120, 36), (80, 24), (47, 17), (30, 8), (10, 4), (0, 0)])
@pytest.mark.parametrize("theme", [PLAIN, DARK], ids=["plain", "dark"])
def test_the_chart_is_exactly_the_size_asked(snap, width, height, theme):
    text = network_chart(snap, width, height, theme, (2, 5))
    if height:
        assert_shape(text, width, height)
    if theme is PLAIN:
        assert "\x1b" not in text


def test_every_unit_of_a_page_is_a_tile_with_its_own_scale(snap):
    text = "\n".join(lines_of(network_chart(snap, 160, 48, PLAIN, (1, 0))))
    layout = network_layout(160, 48, 2, 16)
    assert layout is not None and layout.page == 16
    assert "layer 1" in text and "layer 2" in text and "output" in text and "W2" in text and "Wout" in text
    for unit in unit_info(snap, 1, range(16)):
        top = float(unit.activation.max())
        label = f"↑{top:.2f}" if top < 10 else f"↑{top:.1f}"
        assert re.search(rf"(^|\s|▸){unit.index}( dead)?\s+{re.escape(label)}", text, re.M), unit.index


def test_a_layer_one_kink_is_where_w_x_plus_b_is_zero(snap):
    w, b = snap.weights[0][:, 0].astype(np.float64), snap.weights[1].astype(np.float64)
    lo, hi = snap.grid[0], snap.grid[-1]
    for unit in unit_info(snap, 1, range(16)):
        x0 = -b[unit.index] / w[unit.index]
        if lo < x0 < hi:
            assert unit.kinks == pytest.approx((x0,), abs=1e-6)
        else:
            assert unit.kinks == ()


def test_deeper_kinks_are_where_the_pre_activation_changes_sign(snap):
    z = snap.layers[0] @ snap.weights[2].T.astype(np.float64) + snap.weights[3]
    for unit in unit_info(snap, 2, range(16)):
        signs = np.sign(z[:, unit.index])
        changes = int(np.count_nonzero(signs[1:] * signs[:-1] < 0))
        assert len(unit.kinks) == changes


def test_dead_units_say_so_and_tiles_take_the_sign_of_their_output_weight(snap):
    units = unit_info(snap, 2, range(16))
    text = network_chart(snap, 160, 48, DARK, (1, 0))
    dead = [u for u in units if u.dead]
    assert dead and all(u.out == snap.out_weights[u.index] for u in units)
    plain = "\n".join(lines_of(text))
    for unit in dead:
        assert re.search(rf"(^|\s){unit.index} dead", plain)
    alive = [u for u in units if not u.dead]
    assert {u.out > 0 for u in alive} == {True, False}  # both signs occur, and both colours are drawn
    assert PLUS in text and MINUS in text


def test_the_selection_is_marked_and_described_in_the_footer(snap):
    text = lines_of(network_chart(snap, 160, 48, PLAIN, (2, 3)))
    assert text[-1].startswith("layer 2 · neuron 3 of 16 · ‖w‖ ")
    assert any("▸3" in line for line in text) and "▸ layer 2" in text[1]
    first = lines_of(network_chart(snap, 160, 48, PLAIN, (1, 3)))
    w, b = float(snap.weights[0][3, 0]), float(snap.weights[1][3])
    assert first[-1].startswith(f"layer 1 · neuron 3 of 16 · w {w:+.4g} · b {b:+.4g}")
    output = lines_of(network_chart(snap, 160, 48, PLAIN, (3, 0)))
    assert output[-1].startswith("output") and "▸ output" in output[1]


def test_wide_layers_page_to_the_selected_unit():
    engine = Engine(Config(epochs=5, hidden=40, layers=2))
    engine.advance(5)
    wide = engine.snapshot()
    assert network_layout(160, 48, 2, 40).page == PAGE
    first = lines_of(network_chart(wide, 160, 48, PLAIN, (1, 0)))[0]
    assert "units 0–15 of 40 (page 1/3)" in first
    third = lines_of(network_chart(wide, 160, 48, PLAIN, (2, 37)))
    assert "units 32–39 of 40 (page 3/3)" in third[0]
    assert any("▸37" in line for line in third)


def test_small_views_show_fewer_smaller_tiles_and_big_ones_bigger():
    small, big = network_layout(47, 17, 2, 16), network_layout(300, 80, 2, 16)
    assert small is not None and big is not None
    assert small.page < 16 and big.page == 16
    assert big.tile_w * big.tile_h > 4 * small.tile_w * small.tile_h
    assert network_layout(12, 4, 2, 16) is None


def test_no_run_odd_data_and_a_one_unit_net_do_not_raise(snap):
    assert "no run yet" in network_chart(None, 80, 24, PLAIN)
    bad = dataclasses.replace(
        snap,
        layers=tuple(np.full_like(layer, np.nan) for layer in snap.layers),
        weights=tuple(np.full_like(w, np.inf) for w in snap.weights),
        prediction=np.full_like(snap.prediction, np.nan),
    )
    old = dataclasses.replace(snap, layers=(), dead=(), weights=())  # a snapshot without them
    engine = Engine(Config(epochs=3, hidden=1))
    engine.advance(3)
    for odd, selected in ((bad, (1, 2)), (old, (1, 2)), (engine.snapshot(), (5, 9))):
        text = network_chart(odd, 120, 36, DARK, selected)
        assert_shape(text, 120, 36)
        assert "failed" not in text and "output" in text


# -- any layer, any unit ------------------------------------------------------------------------
def test_a_last_layer_units_contribution_is_its_output_weight_times_its_activation(snap):
    for unit in (0, 5, 11):
        np.testing.assert_allclose(
            knockout(snap, 2, unit), snap.out_weights[unit] * snap.hidden[:, unit], rtol=1e-9, atol=1e-9
        )


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "softplus", "elu", "silu", "sigmoid", "leaky_relu"])
def test_an_earlier_units_contribution_is_the_output_change_when_it_is_switched_off(activation):
    engine = Engine(Config(epochs=30, hidden=6, layers=3, activation=activation, seed=5, lr=0.002))
    engine.advance(30)
    shot = engine.snapshot()
    model = engine.trained_model()
    x = torch.from_numpy(shot.grid).reshape(-1, 1).float()
    for layer, unit in ((1, 2), (2, 4)):
        off = engine.trained_model()
        with torch.no_grad():
            off[2 * layer].weight[:, unit] = 0.0  # nothing leaves the unit: as if its output were 0
            expected = (model(x) - off(x)).double().numpy().ravel()
        np.testing.assert_allclose(knockout(shot, layer, unit), expected, rtol=1e-4, atol=2e-5)


def test_the_neuron_chart_shows_any_layers_unit_and_says_which(snap):
    first = lines_of(neuron_chart(snap, 3, False, 100, 20, PLAIN, layer=1))
    last = lines_of(neuron_chart(snap, 3, False, 100, 20, PLAIN))
    assert "layer 1 · neuron 3 of 16: h3(x)" in first[0] and "layer 2 · neuron 3 of 16: h3(x)" in last[0]
    assert first[1:] != last[1:]
    contribution = lines_of(neuron_chart(snap, 3, True, 100, 20, PLAIN, layer=1))
    assert "layer 1 · neuron 3 of 16: contribution to ŷ" in contribution[0]
    assert "no layer 3" in "\n".join(lines_of(neuron_chart(snap, 3, False, 100, 20, PLAIN, layer=3)))


def test_fit_csv_holds_every_layers_units(snap):
    rows = list(csv.reader(io.StringIO(fit_csv(snap))))
    header = rows[0]
    assert header[:3] == ["x", "target", "prediction"]
    assert header[3:] == [f"l{n}_h{i}" for n in (1, 2) for i in range(16)]
    values = np.array([row[3:] for row in rows[1:]], dtype=np.float32)  # float32 numbers, written exactly
    np.testing.assert_array_equal(values[:, :16], snap.layers[0].astype(np.float32))
    np.testing.assert_array_equal(values[:, 16:], snap.layers[1].astype(np.float32))
