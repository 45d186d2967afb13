"""Pilot tests: served to a browser, the app shows (and takes) keys a browser lets through."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette, SearchIcon
from textual.widgets import Markdown
from textual.widgets._footer import FooterKey

from quadtui.core.config import Config
from quadtui.core.lesson import load_lesson
from quadtui.tui import browser
from quadtui.tui.app import QuadApp
from quadtui.tui.screens.help import HelpScreen
from quadtui.tui.screens.train import TrainScreen
from quadtui.tui.widgets.lesson import LessonPanel
from tests.conftest import Notes, notified, until

SMALL = Config(epochs=300, hidden=4)


def footer_keys(app: QuadApp) -> dict[str, str]:
    """What the footer shows: description -> key, as drawn."""
    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


async def test_in_a_browser_the_footer_shows_f5_for_train_and_a_quit_button() -> None:
    app = QuadApp(SMALL, browser=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "Train" in footer_keys(app), "the footer")
        shown = footer_keys(app)
        assert shown["Train"] == "F5" and shown["Quit"] == browser.QUIT_BUTTON_LABEL
        assert not any(key.startswith("^") and key[1:] in "tnqw" for key in shown.values())


async def test_in_a_terminal_the_footer_keeps_the_ctrl_keys() -> None:
    app = QuadApp(SMALL, browser=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "Train" in footer_keys(app), "the footer")
        assert footer_keys(app)["Train"] == "^t" and footer_keys(app)["Quit"] == "^q"


async def test_in_a_browser_f5_trains_and_hints_name_f5(notes: Notes) -> None:
    app = QuadApp(SMALL, browser=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await pilot.press("f4")  # export, before any run: the hint says how to train
        hint = await notified(pilot, notes, lambda n: "No run to export yet" in n.message, "the hint")
        assert "press F5 to train" in hint.message and "ctrl+t" not in hint.message
        await pilot.press("f5")
        screen = app.train_screen
        await until(pilot, lambda: screen.last is not None and screen.last.finished, "the run F5 started")
        assert screen.last.epoch == SMALL.epochs


async def test_clicking_the_footers_quit_button_quits() -> None:
    app = QuadApp(SMALL, browser=True)
    async with app.run_test(size=(120, 40)) as pilot:

        def quit_button() -> FooterKey | None:
            found = [key for key in app.screen.query(FooterKey) if key.description == "Quit"]
            return found[0] if found and found[0].region.area else None  # laid out: it can be clicked

        await until(pilot, lambda: quit_button() is not None, "the footer's Quit button")
        assert await pilot.click(quit_button())
        await until(pilot, lambda: app._exit, "the app to quit")


async def test_in_a_browser_the_help_names_the_keys_a_browser_lets_through() -> None:
    app = QuadApp(SMALL, browser=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = app.screen.query_one(Markdown).source
        assert "**F5**" in text and "**F12** folds" in text
        for taken in ("ctrl+t", "ctrl+n", "ctrl+q"):
            assert taken not in text
        assert browser.BUTTON in text  # quitting


async def test_in_a_browser_the_lesson_folds_with_f12_and_says_so() -> None:
    lesson = load_lesson("how-many-neurons")
    app = QuadApp(lesson.apply().replace(epochs=200), lesson=lesson, browser=True)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(LessonPanel)
        assert panel.border_subtitle == "F12: fold"
        await pilot.press("f12")
        await until(pilot, lambda: panel.folded, "the lesson to fold")
        assert panel.border_subtitle == "F12: show"


def highlighted_command(app: QuadApp) -> str:
    """The command the palette would run on enter ('' while it has none)."""
    found = app.screen.query(CommandList)
    if not found or found[0].highlighted is None:
        return ""
    return str(found[0].get_option_at_index(found[0].highlighted).prompt)


@pytest.mark.parametrize("in_browser,glyph", [(True, browser.SEARCH_GLYPH), (False, "🔎")])
async def test_the_command_palettes_search_glyph_is_plain_in_a_browser_and_works(in_browser, glyph) -> None:
    """A browser may have no emoji font (🔎 drawn as a box): there the palette shows a plain glyph."""
    app = QuadApp(SMALL, browser=in_browser)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app) and app.screen.query(SearchIcon), "the palette")
        await pilot.pause()
        drawn = app.export_screenshot()
        assert str(app.screen.query_one(SearchIcon).render()) == glyph
        assert ("🔎" in drawn) == (not in_browser)
        await pilot.press(*"Help")  # the palette still finds and runs commands
        await until(pilot, lambda: highlighted_command(app).startswith("Help"), "the Help command found")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help, chosen in the palette")


def test_every_browser_taken_key_but_quit_has_a_stand_in():
    """A new binding on ctrl+t/n/w/q alone would be unreachable in a browser: this fails first."""
    found = browser.alternatives([*TrainScreen.key_bindings(), *QuadApp.BINDINGS])
    assert found == {"ctrl+t": "f5", "ctrl+n": "f12", "ctrl+q": None}


@pytest.mark.parametrize(
    "text,shown",
    [
        ("press ctrl+t to train", "press F5 to train"),
        ("**ctrl+n** folds", "**F12** folds"),
        ("ctrl+s saves, ctrl+tab is not a key here", "ctrl+s saves, ctrl+tab is not a key here"),
        ("ctrl+q quits", f"{browser.BUTTON} quits"),
    ],
)
def test_hint_text_for_a_browser(text, shown):
    found = browser.alternatives([*TrainScreen.key_bindings(), *QuadApp.BINDINGS])
    assert browser.for_browser(text, found) == shown
