"""Pilot tests: a lesson's panel, and the fields it locks and hides."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from quadtui.core.config import FIELDS
from quadtui.core.lesson import lesson_from_mapping, load_lesson
from quadtui.tui.app import QuadApp
from quadtui.tui.widgets.form import LOCKED_TIP
from quadtui.tui.widgets.lesson import LessonPanel, reflow
from tests.conftest import Notes, answer_path, finish, notified, screen_of, type_into, until

LESSON = load_lesson("how-many-neurons")


def lesson_app(lesson=LESSON, **config) -> QuadApp:
    return QuadApp(lesson.apply().replace(epochs=200, **config), lesson=lesson)


async def test_a_lesson_shows_its_title_locks_and_hides_fields() -> None:
    assert LESSON.lock and LESSON.hide
    app = lesson_app()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(LessonPanel)
        assert str(panel.query_one("#lesson-title", Static).render()) == LESSON.title
        text = panel.query_one("#lesson-text Static", Static)
        assert str(text.render()) == reflow(LESSON.explanation)
        form = screen_of(app).form
        for name in FIELDS:
            box, widget = app.query_one(f"#field-{name}"), app.query_one(f"#{name}")
            assert box.display == (name not in LESSON.hide), name
            assert widget.disabled == (name in LESSON.lock), name
            assert (LOCKED_TIP in str(box.tooltip)) == (name in LESSON.lock), name
            assert form.editable(name) == LESSON.editable(name)
        assert form.check()[0] == LESSON.apply().replace(epochs=200)
        assert not app.query_one("#custom-row").display
        await pilot.press("ctrl+n")  # fold: the title stays, the explanation goes
        assert not app.query_one("#lesson-text").display and panel.region.height <= 2
        assert LESSON.title in str(panel.query_one("#lesson-title", Static).render())
        await pilot.press("ctrl+n")
        assert app.query_one("#lesson-text").display


async def test_the_lesson_and_the_charts_fit_at_80x24() -> None:
    app = lesson_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panel, body = app.query_one(LessonPanel), app.query_one("#body")
        assert 3 <= panel.region.height <= 24 * 0.45 + 1
        assert body.region.height >= 8 and app.query_one("#loss-chart").region.area


async def test_a_locked_field_cannot_be_changed_by_loading_a_config(tmp_path: Path, notes: Notes) -> None:
    path = tmp_path / "other.toml"
    path.write_text("lr = 0.5\nhidden = 3\nnoise = 0.2\n")
    app = lesson_app()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await pilot.press("ctrl+o")
        await answer_path(pilot, app, path)
        await until(pilot, lambda: app.query_one("#hidden", Input).value == "3", "the loaded value")
        config = screen_of(app).form.check()[0]
        assert config.hidden == 3  # editable: taken
        assert config.lr == LESSON.apply().lr and config.noise == LESSON.apply().noise  # locked, hidden: kept
        await notified(pilot, notes, lambda n: "lr, noise set by the lesson: kept" in n.message, "the note")


async def test_a_locked_learning_rate_ignores_the_live_lr_keys(notes: Notes) -> None:
    app = lesson_app()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        before = app.query_one("#lr", Input).value
        await pilot.press("greater_than_sign", "ctrl+l")
        assert app.query_one("#lr", Input).value == before
        await notified(pilot, notes, lambda n: "locked by the lesson" in n.message, "the note")


async def test_a_locked_target_cannot_be_picked_and_a_run_uses_the_lesson_values(notes: Notes) -> None:
    lesson = lesson_from_mapping(
        {
            "title": "Odd functions",
            "explanation": "Fit x³.",
            "config": {"target": "x**3 - x"},
            "lock": ["target"],
            "hide": ["view_min", "view_max"],
        },
        name="odd",
    )
    app = lesson_app(lesson, hidden=4)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        assert app.query_one("#target", Select).disabled
        assert app.query_one("#target-custom", Input).disabled
        assert app.query_one("#custom-row").display  # a custom target is shown, not editable
        await pilot.press("w")
        await notified(pilot, notes, lambda n: "set by the lesson" in n.message, "the note")
        await type_into(pilot, app, "hidden", "3")
        await pilot.press("enter")
        await finish(pilot, app)
        assert screen_of(app).last.config.target == "x**3 - x"
        assert screen_of(app).last.units == 3


async def test_without_a_lesson_the_lesson_key_says_how_to_get_one(notes: Notes) -> None:
    app = QuadApp()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        assert not app.query(LessonPanel)
        await pilot.press("ctrl+n")
        await notified(pilot, notes, lambda n: "--lesson" in n.message, "how to get a lesson")


def test_reflow_joins_paragraph_lines_and_keeps_list_items_apart() -> None:
    text = "One line\nand its rest.\n\n1. First\n   item.\n2. Second.\n- dash\n  more"
    assert reflow(text) == "One line and its rest.\n\n1. First item.\n2. Second.\n- dash more"


@pytest.mark.parametrize("name", ["how-many-neurons", "too-high-learning-rate", "where-are-the-kinks"])
async def test_shipped_lessons_start(name: str) -> None:
    lesson = load_lesson(name)
    app = QuadApp(lesson.apply(), lesson=lesson)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.query_one(LessonPanel).region.area
        assert screen_of(app).form.check()[0] == lesson.apply()


async def test_a_hostile_lesson_shows_only_its_text() -> None:
    """Escape sequences (clipboard, window title, clear screen), C1 and bidi overrides never reach the screen."""
    lesson = lesson_from_mapping(
        {
            "title": "Fit\x1b]0;owned\x07 a \u202eline\x9b2J",
            "explanation": "Read\x1b[2J\x1b[H this.\x1b]52;c;b3duZWQ=\x07\n\nThen\u2066 train\x1b[?1049l.\x7f\x85",
        },
        name="hostile",
    )
    app = QuadApp(lesson.apply().replace(epochs=200), lesson=lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(LessonPanel)
        title = str(panel.query_one("#lesson-title", Static).render())
        text = str(panel.query_one("#lesson-text Static", Static).render())
        assert title == "Fit]0;owned a line2J"
        assert text == "Read[2J[H this.]52;c;b3duZWQ=\n\nThen train[?1049l."
        await pilot.press("ctrl+n")  # the folded title line too
        folded = str(panel.query_one("#lesson-title", Static).render())
        assert folded.startswith("lesson: Fit]0;owned a line2J")
        for shown in (title, text, folded):
            assert all(c == "\n" or c.isprintable() for c in shown), repr(shown)


async def test_the_kinks_lesson_steps_work_as_it_says() -> None:
    """where-are-the-kinks: n shows the network, Home the network before training, . one checkpoint on;
    train again, pause, an arrow key and e open the selected neuron's weights."""
    from quadtui.core.snapshot import Status
    from quadtui.tui.screens.weight_edit import WeightEditScreen
    from quadtui.tui.widgets.network import NetworkChart

    lesson = load_lesson("where-are-the-kinks")
    assert "x = -b / w" in lesson.explanation and not lesson.editable("activation")
    app = QuadApp(lesson.apply().replace(epochs=300), lesson=lesson, autorun=True, speed=None)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        await finish(pilot, app)
        await pilot.press("escape", "n")
        net = app.query_one(NetworkChart)
        await until(pilot, lambda: screen.network_shown, "the network view")
        await pilot.press("home", "full_stop")
        await until(pilot, lambda: net.snapshot.epoch == 1 and net.up_to_date, "epoch 1 in the network view")
        screen.speed = 30  # slow: ten seconds to pause it in
        await pilot.press("ctrl+t")
        await until(pilot, lambda: screen.last.epoch > 0 and not screen.last.finished, "training again")
        await pilot.press("space")
        await until(pilot, lambda: screen.last.status is Status.PAUSED, "the pause")
        await pilot.press("down", "e")
        await until(pilot, lambda: isinstance(app.screen, WeightEditScreen), "the neuron's weights")
        assert app.screen.unit == 1 and "bias" in [p.label for p in app.screen.params]
