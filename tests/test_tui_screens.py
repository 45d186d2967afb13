"""Pilot tests at 80×24 — the size of a fresh SSH window — and in odd terminals.

Every screen is checked at 80×24 first: the footer keeps train, pause, quit and
help; the status line keeps the speed; the code view and the runs table scroll
both ways; dialogs wrap and fit down to 50×15; focus stays where the learner
types; a 16-colour or ASCII-only terminal reads as normal.
"""

from __future__ import annotations

import re
import time

import pytest
from rich.cells import cell_len
from textual.widgets import Input, Select, Static

from quadtui.core.config import Config
from quadtui.core.expr import ALLOWED_TEXT
from quadtui.core.lesson import load_lesson
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.help import HelpScreen
from quadtui.tui.widgets.run_charts import LossChart
from tests.conftest import (
    SMALL,
    Notes,
    answer_path,
    finish,
    notified,
    screen_of,
    screen_text,
    status_text,
    type_into,
    until,
)

SMALL_SCREEN = (80, 24)
BOX_CHARACTERS = "─│╭╮╰╯┌┐└┘━┃▏▇"


def footer_keys(app: QuadApp) -> dict[str, object]:
    """The footer's keys a user can see: description -> widget."""
    from textual.widgets._footer import FooterKey

    return {key.description: key for key in app.screen.query(FooterKey) if key.display and key.region.width}


# -- deliverable 1: every screen at 80×24 -------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_footer_always_shows_train_pause_quit_and_help(size) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: "Train" in footer_keys(app), "the footer")
        await pilot.pause()
        keys = footer_keys(app)
        for needed in ("Train", "Pause", "Quit", "Help"):
            assert needed in keys, needed
            assert keys[needed].region.right <= size[0], needed  # on screen, not cut off at the edge
        assert all(key.region.right <= size[0] for key in keys.values())
        if size[0] >= 120:  # room for the rest
            assert {"Reset", "Runs", "Sweep", "Neuron+"} <= set(keys)


async def test_status_line_fits_80_columns_and_keeps_the_speed() -> None:
    app = QuadApp(Config(epochs=300, hidden=4), autorun=True)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await finish(pilot, app)
        status = screen_of(app).status_bar
        line = status.numbers_words
        assert line.endswith("speed 1000/s")
        assert cell_len(line) <= status.size.width - 2  # a column of margin a side
        assert line.startswith("train ") and " eval " in line and "lr 0.02" in line
        assert status.rows[1] == f" {line}".ljust(status.size.width)  # drawn whole
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: "epochs/s" in status.rows[1], "the long form on a wide terminal")


async def test_code_view_scrolls_sideways_at_80_columns() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await pilot.press("ctrl+g")
        await until(pilot, lambda: type(app.screen).__name__ == "CodeScreen", "the code view")
        await pilot.pause()
        box = app.focused
        assert box is not None and box.max_scroll_x > 0  # the long lines are wider than the view
        await pilot.press("right", "right", "right")
        await until(pilot, lambda: box.scroll_x > 0, "a sideways scroll")
        await until(pilot, lambda: "Quit" in footer_keys(app), "the code view's footer")
        keys = footer_keys(app)
        assert all(keys[name].region.right <= 80 for name in ("Close", "Copy", "Help", "Quit"))
        await pilot.press("f1")  # help from a dialog too
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help over the code view")


async def test_runs_table_shows_every_column_at_80_columns_and_scrolls_for_long_names() -> None:
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await finish(pilot, app)
        await type_into(pilot, app, "lr", "0.05")
        await pilot.press("enter")  # a second run, named "lr=0.05" against the first... and back
        await finish(pilot, app)
        await pilot.press("escape", "r")
        table = app.query_one("#runs")
        await until(pilot, lambda: app.focused is table and table.row_count == 2, "the runs table")
        await pilot.pause()
        assert str(table.ordered_columns[-1].label) == "time"
        await until(pilot, lambda: "Use settings" in footer_keys(app), "the table's keys in the footer")
        keys = footer_keys(app)
        assert all(keys[name].region.right <= 80 for name in ("Quit", "Help", "Use settings", "Overlay"))
        end = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert end <= table.scrollable_content_region.width  # status, losses and time all in view
        for name, text in (("hidden", "16"), ("layers", "2"), ("seed", "3"), ("epochs", "250")):
            await type_into(pilot, app, name, text)
        await pilot.press("enter")  # a run that differs in four settings: a long name
        await finish(pilot, app)
        await until(pilot, lambda: table.row_count == 3, "the third run")
        table.focus()
        await pilot.pause()
        end = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert end > table.scrollable_content_region.width
        for _ in range(end - table.scrollable_content_region.width + 2):  # one column of text per key
            await pilot.press("right")
        await pilot.pause()
        assert table.scroll_x == table.max_scroll_x > 0  # scrolled to the far end: the time column
        assert table.scroll_x + table.scrollable_content_region.width >= end


async def test_dialogs_wrap_their_question_and_fit_50x15() -> None:
    from quadtui.tui.screens.files import ConfirmScreen

    question = (
        "/home/student/experiments/first/exp1 is not empty. Export into it anyway (replacing the export files in it)?"
    )
    app = QuadApp(SMALL)
    async with app.run_test(size=(50, 15)) as pilot:
        app.push_screen(ConfirmScreen(question))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.pause()
        shown = app.screen.query_one(".question, Label")
        assert shown.region.height >= 3  # wrapped, all of it: the end of the question is not lost
        lines = [str(line.text) for line in shown.render_lines(shown.region.reset_offset)]
        assert "it)?" in "".join(lines).replace(" ", "")
        for widget in (shown, app.screen.query_one("#yes"), app.screen.query_one("#no")):
            assert widget.region.right <= 50 and widget.region.bottom <= 15


async def test_a_dialog_and_the_screen_behind_it_follow_a_resize() -> None:
    from quadtui.tui.screens.sweep import SweepDialog

    app = QuadApp(SMALL)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = screen_of(app)
        assert not screen.has_class("-narrow")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, SweepDialog), "the sweep dialog")
        await pilot.resize_terminal(50, 15)
        await until(pilot, lambda: screen.has_class("-narrow"), "the small layout behind the dialog")
        box = app.screen.query_one("#sweep-dialog")
        await until(pilot, lambda: box.region.right <= 50 and box.region.bottom <= 15, "the dialog inside 50×15")
        values = app.screen.query_one("#sweep-values")
        assert values.region.right <= 50 and values.region.bottom <= 15 and values.region.width >= 20
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the dialog closed")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: "Quit" in footer_keys(app), "the footer")
        assert footer_keys(app)["Quit"].region.right <= 80


# -- deliverable 2: focus where the learner types ----------------------------------------------------------------
async def test_a_bad_custom_target_keeps_focus_in_fx_and_takes_typing(notes: Notes) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN, message_hook=notes) as pilot:
        select = app.query_one("#target", Select)
        select.focus()
        await pilot.pause()
        select.value = "custom"
        fx = app.query_one("#target-custom", Input)
        await until(pilot, lambda: app.focused is fx, "f(x) focused")
        error = app.query_one("#error-target", Static)
        assert not error.display  # nothing typed yet: no red
        await pilot.press(*"sin(", "enter")
        note = await notified(pilot, notes, lambda n: n.title == "Not started: fix the form", "the refusal")
        assert "check the brackets" in note.message
        assert app.focused is fx  # still in f(x): typing goes on there
        assert error.display
        await pilot.press("x", ")")
        assert fx.value == "sin(x)"
        await until(pilot, lambda: not error.display, "the error gone")
        await pilot.press("enter")
        await finish(pilot, app)
        assert screen_of(app).last.config.target == "sin(x)"


async def test_no_hidden_focus_stop_swallows_typing() -> None:
    lesson = load_lesson("how-many-neurons")
    app = QuadApp(lesson.apply().replace(epochs=200), lesson=lesson)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await pilot.pause()
        assert app.query_one("#chart-tabs").display  # the tab bar is on screen at 80×24
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Lesson: fold / unfold the explanation" in titles
        await pilot.press("tab")
        assert isinstance(app.focused, (Input, Select)) and app.focused.id != "neuron", app.focused
        await pilot.press("escape", "ctrl+b", "ctrl+b")  # hide the form, show it again
        await pilot.pause()
        await pilot.press("tab")
        assert isinstance(app.focused, (Input, Select)), app.focused
        for _ in range(30):  # every focus stop in the cycle is a field or the charts
            await pilot.press("tab")
            focused = app.focused
            assert isinstance(focused, (Input, Select)) or focused is app.query_one("#charts"), focused


# -- deliverable 7: terminals -----------------------------------------------------------------------------------
async def test_a_16_colour_terminal_gets_the_terminals_own_palette(monkeypatch) -> None:
    monkeypatch.setenv("TERM", "vt100")
    monkeypatch.delenv("COLORTERM", raising=False)
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await pilot.pause()
        assert app.console.color_system == "standard"
        chart = app.query_one(LossChart)
        assert app.focused is app.query_one("#charts")  # the charts' border is the focused one
        colour = chart.styles.border_top[1]
        assert colour.ansi is not None and colour.ansi not in (1, 9)  # an ANSI colour, and not red
        assert app.current_theme.name.startswith("ansi")


async def test_a_non_utf8_locale_gets_ascii_boxes(monkeypatch) -> None:
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("LC_CTYPE", "C.UTF-8")  # what Python's C-locale coercion puts there
    monkeypatch.delenv("LC_ALL", raising=False)
    app = QuadApp(SMALL, autorun=True)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await finish(pilot, app)
        svg = app.export_screenshot()
        assert not any(char in svg for char in BOX_CHARACTERS)
        assert "+-" in svg and "|" in svg


async def test_a_decimal_comma_gets_a_use_a_dot_hint() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await type_into(pilot, app, "lr", "0,02")
        error = app.query_one("#error-lr", Static)
        await until(pilot, lambda: error.display, "the lr message")
        assert "use a dot: 0.02" in str(error.render())


# -- deliverable 9: the words -----------------------------------------------------------------------------------
async def test_help_lists_every_key_from_the_bindings_and_f1_closes_it() -> None:
    from quadtui.charts.run_store import MAX_OVERLAYS

    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = app.screen.query_one("Markdown").source
        assert "six" not in text and f"Up to {MAX_OVERLAYS} earlier runs" in text
        assert "`ctrl+p`" in text  # the command palette
        assert "`y` — Copy the script" in text  # the code view's keys
        assert "`f` — " in text  # full speed
        await pilot.press("f1")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed by F1")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_palette_offers_what_applies(size) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert not any(title.startswith("Lesson") for title in titles)  # no lesson here
        tabs = [title for title in titles if "chart (tab" in title]
        assert len(tabs) == (3 if size[0] < 110 else 0)


async def test_share_screen_says_it_shows_the_forms_settings() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await pilot.press("ctrl+s")
        await until(pilot, lambda: type(app.screen).__name__ == "ShareScreen", "the share screen")
        hint = str(app.screen.query(".hint").first().render())
        assert "exactly this run" not in hint and "the settings in the form" in hint


async def test_a_bad_target_says_why_without_the_whole_grammar() -> None:
    app = QuadApp(Config(target="x+1", epochs=300))
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await type_into(pilot, app, "target-custom", "y+1")
        error = app.query_one("#error-target", Static)
        await until(pilot, lambda: error.display, "the target message")
        message = str(error.render())
        assert "unknown name 'y'" in message and ALLOWED_TEXT not in message


def test_one_is_singular() -> None:
    from quadtui.tui.widgets.status import plural, rate_text

    assert rate_text(1) == "1 epoch/s" and rate_text(1000) == "1,000 epochs/s"
    assert plural(1, "run") == "1 run" and plural(5, "run") == "5 runs"


async def test_elapsed_is_the_wall_time_the_run_took() -> None:
    app = QuadApp(Config(epochs=15, hidden=4), speed=10)  # 1.5 s to watch, a few ms of compute
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        started = time.monotonic()
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        took = time.monotonic() - started
        numbers = screen_of(app).status_bar.numbers_words
        elapsed = [float(part[:-1]) for part in numbers.split(" · ") if re.fullmatch(r"\d+\.\ds", part)]
        assert elapsed, numbers
        assert 1.5 <= elapsed[0] <= took + 0.05


async def test_a_new_notification_replaces_the_one_shown_at_80x24(notes: Notes) -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN, notifications=True, message_hook=notes) as pilot:
        # three notes in a row, as a refused run, a warning and a hint can come (long timeouts: none expires here)
        app.notify("first", title="Not started: fix the form", severity="error", timeout=60)
        app.notify("second", title="A slow run", severity="warning", timeout=60)
        app.notify("third", timeout=60)
        await notified(pilot, notes, lambda n: n.message == "third", "the third note")
        assert notes.messages() == ["first", "second", "third"]  # all raised; the screen shows the newest

        def toasts() -> list[str]:
            return [str(toast.render()) for toast in app.screen.query("Toast")]

        await until(pilot, lambda: toasts() == ["third"], "one toast on screen")
        toast = app.screen.query_one("Toast")
        assert toast.region.bottom <= 24 and toast.region.height <= 5  # a few lines, the charts stay in view


# -- deliverable 8: a pace a person can watch -------------------------------------------------------------------
async def test_the_app_trains_at_a_watchable_pace_and_f_gives_full_speed() -> None:
    app = QuadApp(Config(epochs=400, hidden=4))
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        screen = screen_of(app)
        assert "speed 1000/s" in status_text(app)
        started = time.monotonic()
        await pilot.press("ctrl+t")
        await finish(pilot, app)
        assert time.monotonic() - started >= 0.35  # 400 epochs at 1,000/s: paced, not full speed
        await pilot.press("escape", "f")
        await until(pilot, lambda: "speed full" in status_text(app), "full speed")
        assert screen.speed is None
        await pilot.press("f")
        await until(pilot, lambda: "speed 1000/s" in status_text(app), "back to the pace")


async def test_save_and_load_prompts_offer_the_last_path(tmp_path) -> None:
    from quadtui.tui.screens.files import PathScreen

    target = tmp_path / "mine.toml"
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await pilot.press("ctrl+s")  # share, then save the settings
        await until(pilot, lambda: type(app.screen).__name__ == "ShareScreen", "the share screen")
        await pilot.press("ctrl+s")
        await answer_path(pilot, app, target)
        await until(pilot, target.exists, "the config written")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen_of(app), "back")
        await pilot.press("ctrl+o")  # load: the file just saved is offered
        await until(pilot, lambda: isinstance(app.screen, PathScreen), "the load question")
        assert app.screen.query_one(Input).value == str(target)


async def test_a_dropdown_list_has_a_frame_at_80x24() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        select = app.query_one("#target", Select)
        select.focus()
        await pilot.press("enter")
        await until(pilot, lambda: select.expanded, "the list open")
        await pilot.pause()
        overlay = select.query_one("SelectOverlay")
        assert overlay.styles.border_top[0] == "round"
        assert overlay.region.bottom <= 24 and overlay.region.height >= 3


async def test_a_new_run_says_starting_until_its_first_epoch_not_ready() -> None:
    app = QuadApp(SMALL)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        screen = screen_of(app)
        await until(pilot, lambda: screen.engine_loaded, "torch")
        assert status_text(app).startswith("ready")
        screen.action_train()  # what ctrl+t does; no snapshot can have arrived yet (a long first epoch)
        assert status_text(app).startswith("starting")
        await finish(pilot, app)
        assert status_text(app).startswith("done")


async def test_divergence_fits_the_80_column_status_line() -> None:
    app = QuadApp(Config(lr=5.0, epochs=2000), autorun=True)
    async with app.run_test(size=SMALL_SCREEN) as pilot:
        await finish(pilot, app)
        status = screen_of(app).status_bar
        text = status.state_words
        assert text.startswith("diverged after epoch ")
        assert status.rows[0].startswith(f" {text} epoch ")  # whole, not cut mid-word
        assert f" {text} epoch " in screen_text(app)
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: "lower the learning rate" in status.rows[0], "the hint when there is room")


@pytest.mark.parametrize(
    "env, ok",
    [
        ({"LANG": "en_GB.UTF-8"}, True),
        ({"LANG": "C"}, False),
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, False),  # Python's own coercion of a C locale
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, False),
        ({"LC_ALL": "de_DE.utf8"}, True),
        ({"LC_CTYPE": "en_US.UTF-8", "LANG": "C"}, True),  # chosen by the user, not coerced
        ({"LANG": "en_US.ISO-8859-1"}, False),
        ({}, False),
    ],
)
def test_unicode_ok_reads_the_locale_as_the_c_library_does(env, ok) -> None:
    from quadtui.tui.terminal_caps import unicode_ok

    assert unicode_ok(env) is ok
