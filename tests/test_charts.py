"""Charts: exact size, NO_COLOR, titles, odd data, decimation, themes, threads."""

from __future__ import annotations

import dataclasses
import math
import re
import threading

import numpy as np
import pytest

from quadtui.charts import (
    ChartTheme,
    FitOverlay,
    LossOverlay,
    fit_chart,
    fit_legend,
    fit_title,
    loss_chart,
    loss_legend,
    loss_title,
    neuron_chart,
    neuron_legend,
    neuron_title,
    sweep_chart,
)
from quadtui.charts.canvas import ChartSpec, Trace, legend_line, render
from quadtui.charts.fit import MAX_SAMPLES, SAMPLE_MARK, _samples
from quadtui.charts.loss import _envelope
from quadtui.charts.text import visible
from quadtui.charts.theme import DARK_PALETTE, LIGHT_PALETTE, parse_hex
from quadtui.charts.ticks import Axis, axis_ticks, fmt_number, log_ticks, nice_ticks
from quadtui.core.config import Config
from quadtui.core.engine import Engine, Status
from quadtui.core.history import LossHistory

PLAIN = ChartTheme(color=False)
DARK = ChartTheme(dark=True, foreground=(220, 220, 220), background=(30, 30, 30))
LIGHT = ChartTheme(dark=False, foreground=(20, 20, 20), background=(250, 250, 250))
ESC = "\x1b"
BLOCKS = set("▀▄▌▐█▘▝▖▗▚▞▛▜▙▟")


@pytest.fixture(scope="module")
def snap():
    engine = Engine(Config())
    engine.advance(300)
    return engine.snapshot()


def all_charts(snap, width, height, theme):
    """Every chart kind, as (name, text)."""
    return [
        ("loss", loss_chart(snap, width, height, theme)),
        ("fit", fit_chart(snap, width, height, theme)),
        ("neuron", neuron_chart(snap, 3, False, width, height, theme)),
        ("contribution", neuron_chart(snap, 3, True, width, height, theme)),
        ("sweep", sweep_chart("lr", [0.01, 0.1, 1.0], [0.5, 0.05, None], width, height, theme, log_x=True)),
        ("loss, log x, untitled", loss_chart(snap, width, height, theme, log_x=True, header=False)),
        ("fit, untitled", fit_chart(snap, width, height, theme, header=False)),
    ]


def assert_shape(text: str, width: int, height: int) -> None:
    lines = text.split("\n") if height else []
    assert text == "" or height, repr(text)
    assert len(lines) == height
    assert all(len(visible(line)) == width for line in lines), [len(visible(x)) for x in lines]


def rows(text: str) -> list[str]:
    return visible(text).split("\n")


# -- size -------------------------------------------------------------------------------
@pytest.mark.parametrize("width,height", [(160, 48), (80, 24), (41, 13), (16, 6), (15, 6), (10, 4), (3, 1), (0, 0)])
@pytest.mark.parametrize("theme", [DARK, PLAIN], ids=["color", "no-color"])
def test_every_chart_is_exactly_the_size_asked(snap, width, height, theme):
    for _, text in all_charts(snap, width, height, theme):
        assert_shape(text, width, height)
    for _, text in all_charts(None, width, height, theme)[:4]:
        assert_shape(text, width, height)


def test_rich_reads_the_output_at_the_same_size(snap):
    from rich.text import Text

    for _, text in all_charts(snap, 70, 18, DARK):
        lines = Text.from_ansi(text).split("\n")
        assert len(lines) == 18 and {line.cell_len for line in lines} == {70}


def test_too_small_shows_the_chart_name_centred(snap):
    text = loss_chart(snap, 12, 4, PLAIN)
    assert_shape(text, 12, 4)
    assert rows(text)[1].strip().startswith("loss")


# -- colour ---------------------------------------------------------------------------
def test_no_color_means_no_escape_codes_at_all(snap):
    overlay = LossOverlay("run 1", snap.history)
    fit_overlay = FitOverlay("run 1", snap.grid, snap.prediction * 0.5)
    texts = [text for _, text in all_charts(snap, 100, 30, PLAIN)]
    texts += [text for _, text in all_charts(None, 100, 30, PLAIN)]
    texts += [loss_chart(snap, 100, 30, PLAIN, [overlay]), fit_chart(snap, 100, 30, PLAIN, [fit_overlay])]
    assert all(ESC not in text for text in texts)


def test_series_still_differ_without_color(snap):
    text = fit_chart(snap, 100, 30, PLAIN)
    body = "\n".join(rows(text)[1:])
    assert set(body) & BLOCKS, "model: block line"
    assert any("\u2800" < c <= "\u28ff" for c in body), "target: braille line"
    assert SAMPLE_MARK in body, "samples: dots"


def test_colors_follow_the_theme_foreground_and_background(snap):
    text = loss_chart(snap, 80, 20, DARK)
    assert "48;2;30;30;30" in text  # canvas background
    assert "38;2;220;220;220" in text  # axes and text
    assert "38;2;{};{};{}".format(*DARK.series(0)) in text  # the train curve


def test_light_and_dark_differ(snap):
    assert fit_chart(snap, 80, 20, DARK) != fit_chart(snap, 80, 20, LIGHT)
    assert ChartTheme(dark=False).palette == LIGHT_PALETTE
    assert fit_chart(snap, 80, 20, ChartTheme()) != fit_chart(snap, 80, 20, ChartTheme(dark=False))


def test_terminal_default_colours_leave_backgrounds_unpainted(snap):
    text = loss_chart(snap, 80, 20, ChartTheme())
    assert ESC in text and "[48;" not in text


def test_theme_from_textual_parses_hex_and_drops_unreadable_accents():
    theme = ChartTheme.from_textual(True, "#e0e0e0", "#1e1e1e", ["#0178d4", "#1f1f1f", None, "bogus", "#abc"], True)
    assert theme.foreground == (0xE0, 0xE0, 0xE0) and theme.background == (0x1E, 0x1E, 0x1E)
    assert theme.palette[0] == (0x01, 0x78, 0xD4)
    assert (0x1F, 0x1F, 0x1F) not in theme.palette  # invisible on #1e1e1e
    assert theme.palette[1] == (0xAA, 0xBB, 0xCC)
    assert set(DARK_PALETTE) <= set(theme.palette)  # topped up
    bare = ChartTheme.from_textual(False, None, None, [], False)
    assert (bare.foreground, bare.background, bare.color, bare.dark) == (None, None, False, False)
    assert parse_hex("#11223380") == (0x11, 0x22, 0x33) and parse_hex("#12") is None


# -- content --------------------------------------------------------------------------
def test_loss_title_shows_epoch_progress(snap):
    assert "loss · epoch 300/5,000" in rows(loss_chart(snap, 100, 20, PLAIN))[0]


def test_neuron_title_shows_index_and_unit_count(snap):
    plain = neuron_chart(snap, 3, False, 100, 20, PLAIN)
    assert "neuron 3 of 8" in rows(plain)[0]
    assert "neuron 7 of 8" in rows(neuron_chart(snap, 7, False, 100, 20, PLAIN))[0]
    assert "neuron 0 of 8" in rows(neuron_chart(snap, 0, False, 100, 20, PLAIN))[0]


def test_contribution_mode_changes_title_and_curve(snap):
    plain = neuron_chart(snap, 3, False, 100, 20, PLAIN)
    contribution = neuron_chart(snap, 3, True, 100, 20, PLAIN)
    assert "neuron 3 of 8: contribution w3·h3(x)" in rows(contribution)[0]
    assert rows(plain)[1:] != rows(contribution)[1:]


def test_neuron_out_of_range_says_so(snap):
    text = neuron_chart(snap, 8, False, 100, 20, PLAIN)
    assert "no neuron 8: choose 0 to 7" in visible(text)


def test_overlays_are_drawn_and_named_in_the_legend(snap):
    alone = loss_chart(snap, 120, 24, PLAIN)
    history = LossHistory()
    history.append(snap.history.values * 3)
    text = loss_chart(snap, 120, 24, PLAIN, [LossOverlay("lr 0.05", history)])
    assert "lr 0.05" in rows(text)[0] and rows(text)[1:] != rows(alone)[1:]
    fit = fit_chart(snap, 120, 24, PLAIN, [FitOverlay("tanh run", snap.grid, snap.grid_target * 0.5)])
    assert "tanh run" in rows(fit)[0]


def x_labels(text: str) -> list[float]:
    """The numbers under a chart's x axis."""
    line = rows(text)[next(i for i, row in enumerate(rows(text)) if "└" in row) + 1]
    return [float(label) for label in line.split()]


def test_the_loss_x_axis_follows_the_run_on_screen_and_clips_longer_runs(snap):
    longer = LossHistory()
    longer.append(np.geomspace(10.0, 0.01, 5000))
    overlays = [LossOverlay("epochs=5000", longer)]
    alone = loss_chart(snap, 80, 20, PLAIN, header=False)
    for log_x in (False, True):
        text = loss_chart(snap, 80, 20, PLAIN, overlays, header=False, log_x=log_x)
        assert_shape(text, 80, 20)
        assert max(x_labels(text)) <= snap.epoch, log_x  # the run on screen has the width
        assert text != loss_chart(snap, 80, 20, PLAIN, header=False, log_x=log_x)  # the earlier run, cut to it
        every = loss_chart(snap, 80, 20, PLAIN, overlays, header=False, log_x=log_x, all_runs=True)
        assert max(x_labels(every)) >= 1000, log_x  # or the longest run's, when asked
    assert x_labels(loss_chart(snap, 80, 20, PLAIN, overlays, header=False)) == x_labels(alone)
    # the legend names the run on screen first, however many earlier runs there are
    many = [LossOverlay(f"run {i}", longer) for i in range(8)]
    assert loss_legend(snap, PLAIN, many)[0].label == "train"
    fits = [FitOverlay(f"run {i}", snap.grid, snap.grid_target) for i in range(8)]
    assert fit_legend(snap, PLAIN, fits)[0].label == "model"


def test_a_wild_prediction_does_not_change_the_fit_y_range(snap):
    wild = dataclasses.replace(snap, prediction=np.full_like(snap.prediction, 1e9))

    def y_labels(text):
        return [row.split("┤")[0].strip() for row in rows(text) if "┤" in row]

    assert y_labels(fit_chart(wild, 100, 24, PLAIN)) == y_labels(fit_chart(snap, 100, 24, PLAIN))


def test_many_samples_are_subsampled_deterministically():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-5, 5, 50_000), rng.normal(size=50_000)
    a, b = _samples(x, y, -5, 5), _samples(x, y, -5, 5)
    assert a[0].size == MAX_SAMPLES
    np.testing.assert_array_equal(a[0], b[0])
    assert set(a[0]) <= set(x)


def test_sweep_marks_missing_runs(snap):
    text = sweep_chart("lr", [0.001, 0.01, 0.1, 1.0], [1.0, 0.1, None, float("nan")], 100, 24, PLAIN)
    title, body = rows(text)[0], rows(text)[1:]
    assert "final loss by lr · 2/4 runs" in title and "x no loss" in title and "best 0.01 → 0.1" in title
    assert sum(row.count("x") for row in body) == 2
    assert sum(row.count("•") for row in body) == 2


def test_sweep_log_x_skips_values_it_cannot_place():
    text = sweep_chart("noise", [0.0, -1.0, 0.1, 1.0], [1.0, 1.0, 0.5, 0.2], 80, 20, PLAIN, log_x=True)
    assert "2/2 runs" in rows(text)[0]


# -- odd data -------------------------------------------------------------------------
def test_empty_history_and_no_snapshot_do_not_raise():
    fresh = Engine(Config()).snapshot()
    assert fresh.epoch == 0
    for _, text in all_charts(fresh, 80, 20, DARK):
        assert_shape(text, 80, 20)
    assert "no run yet" in visible(loss_chart(None, 80, 20, PLAIN))
    assert "press t" in visible(loss_chart(None, 80, 20, PLAIN, hint="press t to train"))


def test_nan_inf_and_non_positive_losses_do_not_raise(snap):
    bad = np.array([np.nan, np.inf, -np.inf, 0.0, -3.0, 1e-30, 1e30], dtype=np.float64)
    history = LossHistory()
    history.append(np.resize(bad, 5000))
    odd = dataclasses.replace(
        snap,
        history=history,
        epoch=5000,
        eval_epochs=np.arange(1, 8),
        eval_loss=bad.astype(np.float32),
        prediction=np.resize(bad, snap.prediction.size),
        grid_target=np.resize(bad[::-1], snap.grid_target.size),
        hidden=np.resize(bad, snap.hidden.shape),
        out_weights=np.full_like(snap.out_weights, np.nan),
    )
    for _, text in all_charts(odd, 80, 20, DARK):
        assert_shape(text, 80, 20)
    all_nan = dataclasses.replace(odd, x_samples=np.full(3, np.nan), grid=np.full_like(snap.grid, np.nan))
    for _, text in all_charts(all_nan, 80, 20, PLAIN):
        assert_shape(text, 80, 20)
    assert_shape(sweep_chart("", [], [], 80, 20, PLAIN), 80, 20)
    assert_shape(sweep_chart("lr", [1.0, float("nan")], ["x", None], 80, 20, PLAIN), 80, 20)


def test_a_diverged_run_is_drawn_and_named():
    engine = Engine(Config(lr=5.0, epochs=400))
    engine.advance(400)
    snap = engine.snapshot()
    assert snap.status is Status.DIVERGED
    text = loss_chart(snap, 100, 24, PLAIN)
    # one epoch named: the last one kept (the status line says "diverged after epoch N" too)
    title = loss_title(snap)
    assert title == f"loss · epoch {snap.epoch:,}/400 · {fmt_number(snap.train_now)} · diverged"
    assert title in rows(text)[0]
    for _, chart in all_charts(snap, 100, 24, DARK):
        assert_shape(chart, 100, 24)


def y_labels(text: str) -> list[float]:
    """The fit chart's y tick labels, as numbers."""
    return [float(line.split("┤")[0]) for line in rows(text) if "┤" in line]


def test_a_prediction_off_the_chart_is_said_and_the_y_range_stays_the_targets(snap):
    diverged = Engine(Config(lr=5.0, epochs=400))
    diverged.advance(400)
    wild = diverged.snapshot()
    furthest = wild.prediction[np.argmax(np.abs(wild.prediction))]
    assert abs(furthest) > 1e6  # the diverged run's last kept prediction is far off
    text = fit_chart(wild, 80, 20, PLAIN, header=False)
    assert_shape(text, 80, 20)
    assert f"prediction off the chart: {fmt_number(furthest)}" in visible(text)
    target_span = np.ptp(np.concatenate((wild.grid_target, wild.y_samples)))
    labels = y_labels(text)
    assert max(labels) - min(labels) <= 2 * target_span  # clipped near the target's range, not squashed flat
    # a prediction a little off: the range grows to show it, nothing to say
    near = dataclasses.replace(snap, prediction=np.asarray(snap.prediction) - 0.2 * target_span)
    assert "off the chart" not in visible(fit_chart(near, 80, 20, PLAIN))
    assert "off the chart" not in visible(fit_chart(snap, 80, 20, PLAIN))
    lost = dataclasses.replace(snap, prediction=np.full_like(snap.prediction, np.nan))
    assert "prediction is not a number" in visible(fit_chart(lost, 80, 20, PLAIN))


def test_render_survives_nonsense_limits():
    x = np.linspace(0, 1, 10)
    for lo, hi in [(np.nan, 1.0), (1.0, 1.0), (2.0, 1.0), (-np.inf, np.inf), (0.0, 1e308)]:
        chart = ChartSpec("odd", [Trace(x, x)], Axis(lo, hi), Axis(lo, hi, log=True))
        assert_shape(render(chart, 40, 12, DARK), 40, 12)


# -- decimation -----------------------------------------------------------------------
def test_one_spike_in_a_million_epochs_survives(snap):
    history = LossHistory(1_000_000)
    values = np.ones(1_000_000, dtype=np.float32)
    values[123_457] = 1e4
    history.append(values)
    x, y = _envelope(history, 80)
    assert y.max() == 1e4 and y.size <= 2 * 81

    long = dataclasses.replace(snap, history=history, epoch=1_000_000, config=snap.config.replace(epochs=1_000_000))
    text = rows(loss_chart(long, 80, 20, PLAIN))
    canvas = text[1:-2]  # below the title, above the x axis and its tick labels
    top = [(re.search("[│┤]", row).start(), row) for row in canvas[:2]]
    spots = [(i - left) / (len(row) - left) for left, row in top for i, c in enumerate(row) if c in BLOCKS]
    assert spots, "the spike reaches the top of the chart"
    assert all(abs(spot - 0.123) < 0.05 for spot in spots), "where epoch 123,457 of 1,000,000 is"
    assert "10k" in "".join(canvas[:2])  # and the axis goes up to it


# -- housekeeping --------------------------------------------------------------------
def test_charts_print_nothing(snap, capfd):
    all_charts(snap, 80, 20, DARK)
    all_charts(None, 80, 20, PLAIN)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_charts_are_safe_from_many_threads(snap):
    expected = [text for _, text in all_charts(snap, 90, 22, DARK)]
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(3):
                results.append([text for _, text in all_charts(snap, 90, 22, DARK)])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 12
    assert all(r == expected for r in results)


# -- ticks ----------------------------------------------------------------------------
def test_tick_labels_are_short_and_round():
    assert nice_ticks(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(-5, 5, 6) == [-4, -2, 0, 2, 4]
    assert log_ticks(-3.2, 1.5, 6)[1] == ["0.001", "0.01", "0.1", "1", "10"]
    assert log_ticks(-12.0, 12.0, 5) == ([-10, -5, 0, 5, 10], ["1e-10", "1e-5", "1", "100k", "1e10"])
    numbers = (0.02, 1500.0, 25_000.0, 1_500_000.0, 3e-5)
    assert [fmt_number(v) for v in numbers] == ["0.02", "1500", "25k", "1.5M", "3e-5"]
    assert fmt_number(0.1 + 0.2, step=0.1) == "0.3"
    assert not re.search(r"\d\.\d{4,}", " ".join(log_ticks(0.01, 0.05, 5)[1]))


def test_a_crowded_legend_shortens_the_title_to_name_earlier_runs(snap):
    theme = ChartTheme(color=False)
    overlay = FitOverlay("lr=0.5", snap.grid, snap.prediction * 0.9)
    wide = rows(fit_chart(snap, 90, 12, theme, [overlay]))[0]
    assert "fit · epoch" in wide and "lr=0.5" in wide  # room for everything: the full title
    narrow = rows(fit_chart(snap, 58, 12, theme, [overlay]))[0]
    assert "fit · epoch" not in narrow and "lr=0.5" in narrow and "model" in narrow
    loss = rows(loss_chart(snap, 48, 12, theme, [LossOverlay("lr=0.5", snap.history)]))[0]
    assert f"loss · {snap.epoch:,}" in loss and "lr=0.5" in loss and "train" in loss


# -- reading at a glance (issue 18) ---------------------------------------------------
@pytest.fixture(scope="module")
def done():
    engine = Engine(Config())
    engine.advance(engine.remaining)
    return engine.snapshot()


def plot_columns(text: str) -> list[str]:
    """The plot's columns (right of the y axis, above the x axis) as strings, top to bottom."""
    lines = rows(text)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    axis = lines[bottom].index("└")
    body = [line[axis + 1 :] for line in lines[:bottom]]
    return ["".join(row[i] for row in body) for i in range(len(body[0]))]


@pytest.mark.parametrize("theme", [DARK, PLAIN], ids=["color", "no-color"])
@pytest.mark.parametrize("width,height", [(47, 17), (40, 16), (100, 30)])
def test_the_prediction_is_drawn_over_the_samples(done, theme, width, height):
    columns = [c for c in plot_columns(fit_chart(done, width, height, theme, header=False)) if c.strip()]
    assert sum(bool(set(c) & BLOCKS) for c in columns) >= 0.95 * len(columns)
    early = dataclasses.replace(done, prediction=done.prediction * 0.5)  # off the samples: they show
    assert SAMPLE_MARK in "".join(plot_columns(fit_chart(early, width, height, theme, header=False)))


def test_samples_are_dimmer_than_the_prediction(done):
    text = fit_chart(done, 80, 20, DARK)
    assert "38;2;{};{};{}m{}".format(*DARK.faint(DARK.series(1), 0.35), SAMPLE_MARK) in text
    assert "38;2;{};{};{}".format(*DARK.series(0)) in text


def test_without_a_header_every_row_but_the_axis_is_plot(done):
    for name, kind in (("loss", loss_chart), ("fit", fit_chart)):
        titled, bare = rows(kind(done, 60, 18, PLAIN)), rows(kind(done, 60, 18, PLAIN, header=False))
        assert titled[0].strip().startswith(name) and name not in "\n".join(bare)
        assert sum("┤" in r or "│" in r for r in bare) == sum("┤" in r or "│" in r for r in titled) + 1
    bare = neuron_chart(done, 2, True, 60, 18, PLAIN, header=False)
    assert "neuron" not in bare and "contribution" not in bare


def test_titles_carry_the_live_facts(done, snap):
    assert loss_title(done) == "loss · epoch 5,000 · 0.0632"
    assert loss_title(snap).startswith("loss · epoch 300/5,000 · ")
    assert fit_title(done) == "fit · epoch 5,000" and fit_title(None) == "fit"
    assert neuron_title(done, 3, False) == "neuron 3 of 8: h3(x)"
    assert neuron_title(done, 3, True) == "neuron 3 of 8: contribution w3·h3(x)"
    assert [e.label for e in loss_legend(done, PLAIN)] == ["train", f"eval {fmt_number(done.eval_now)}"]
    assert [e.label for e in fit_legend(done, PLAIN)] == ["model", "target", "samples"]
    assert [e.label for e in neuron_legend(done, 3, False, PLAIN)] == ["relu"]


@pytest.mark.parametrize("width,height", [(40, 16), (47, 17), (83, 17), (160, 48)])
@pytest.mark.parametrize("log_x", [False, True])
def test_every_axis_has_four_round_labelled_ticks(done, snap, width, height, log_x):
    charts = [
        loss_chart(done, width, height, PLAIN, log_x=log_x, header=False),
        loss_chart(snap, width, height, PLAIN, log_x=log_x, header=False),
        fit_chart(done, width, height, PLAIN, header=False),
        fit_chart(snap, width, height, PLAIN, header=False),
        neuron_chart(done, 0, False, width, height, PLAIN, header=False),
        neuron_chart(done, 3, True, width, height, PLAIN, header=False),
    ]
    for text in charts:
        lines = rows(text)
        y_labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
        x_labels = lines[-1].split()
        assert len(y_labels) >= 4 and len(x_labels) >= 4, (y_labels, x_labels)
        for label in y_labels + x_labels:  # one or two significant digits: 0.1, 25, 2.5, 1000, 10k
            assert re.fullmatch(r"-?(0\.0*)?[1-9]?\.?[0-9]?0*k?|-?[0-9]e-?[0-9]+", label), label


def test_more_ticks_when_there_is_room():
    positions, labels = axis_ticks(Axis(-5, 5), 150, label_cells=3)
    assert labels == [str(v) for v in range(-5, 6)]
    assert axis_ticks(Axis(1, 5000, integer=True), 37, label_cells=3)[1] == ["1000", "2000", "3000", "4000"]
    assert axis_ticks(Axis(0, math.log10(5000), log=True, integer=True), 37, 3)[1] == ["1", "10", "100", "1000"]
    wide = axis_ticks(Axis(0, math.log10(5000), log=True, integer=True), 150, 3)[1]
    assert wide[:7] == ["1", "2", "5", "10", "20", "50", "100"]
    assert axis_ticks(Axis(math.log10(0.5), math.log10(300), log=True), 13)[1] == ["1", "3", "10", "30", "100", "300"]


@pytest.mark.parametrize("seed", range(40))
def test_tick_labels_never_overlap(seed):
    rng = np.random.default_rng(seed)
    lo = float(rng.uniform(-1e4, 1e4)) * 10.0 ** rng.integers(-6, 3)
    hi = lo + float(rng.uniform(1e-3, 1e4)) * 10.0 ** rng.integers(-4, 3)
    cells = int(rng.integers(12, 150))
    positions, labels = axis_ticks(Axis(lo, hi), cells, label_cells=4)
    assert positions == sorted(positions) and all(lo <= p <= hi for p in positions)
    places = [(p - lo) / (hi - lo) * (cells - 1) for p in positions]
    for a, b, la, lb in zip(places, places[1:], labels, labels[1:]):
        assert b - a >= (len(la) + len(lb)) / 2 + 1, (labels, cells)
    rows_at = [(p - lo) / (hi - lo) * (cells - 1) for p in axis_ticks(Axis(lo, hi), cells)[0]]
    assert all(b - a >= 1 for a, b in zip(rows_at, rows_at[1:]))


def test_log_decimation_gives_the_first_epochs_their_own_points():
    values = np.geomspace(100, 0.01, 1_000_000).astype(np.float32)
    values[999_000] = 1e3  # a late spike
    history = LossHistory(1_000_000)
    history.append(values)
    for source in (history, history.summary()):
        series = source.decimate_log(160)
        assert series.x.size <= 161 and np.all(np.diff(series.x) > 0)
        assert series.hi.max() == 1e3 and series.lo.min() == values.min()
    series = history.decimate_log(160)
    assert np.array_equal(series.x[:10], np.arange(1, 11)) and np.array_equal(series.lo[:10], values[:10])
    x, y = _envelope(history, 160, log_x=True)
    assert y.max() == 1e3 and x.size <= 2 * 161


def test_the_log_x_loss_chart_names_its_axis_and_draws_the_first_epochs(done):
    titled = rows(loss_chart(done, 80, 20, PLAIN, log_x=True))
    assert "log x" in titled[0]
    columns = plot_columns(loss_chart(done, 80, 20, PLAIN, log_x=True, header=False))
    marks = [c for c in columns[: len(columns) // 2] if c.strip()]  # epochs 1 to about 70
    assert len(marks) >= 0.9 * (len(columns) // 2)
    linear = plot_columns(loss_chart(done, 80, 20, PLAIN, header=False))
    assert sum(bool(c.strip()) for c in linear[: len(linear) // 2]) >= 0.9 * (len(linear) // 2)


def test_the_border_legend_takes_short_labels_when_that_names_more(done):
    overlay = LossOverlay("lr=0.5", done.history)
    entries = loss_legend(done, PLAIN, [overlay])
    assert [e.label for e in entries][:2] == ["train", f"eval {fmt_number(done.eval_now)}"]
    assert [e.label for e in legend_line(entries, 60)] == ["train", f"eval {fmt_number(done.eval_now)}", "lr=0.5"]
    assert [e.label for e in legend_line(entries, 32)] == ["train", "eval", "lr=0.5"]
    assert [e.label for e in legend_line(entries, 12)] == ["train"]
