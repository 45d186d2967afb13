"""Pilot tests: served to a browser, file actions stay in the session folder and saved files come as downloads.

The served environment is what ``quadtui --serve`` gives each session: its folder
in QUADTUI_SESSION_DIR and as the working directory.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from quadtui.core.tomlio import load_config_file
from quadtui.served import SESSION_DIR_ENV
from quadtui.tui.app import QuadApp
from quadtui.tui.session_files import download_name, inside_session
from tests.conftest import SMALL, Notes, answer_path, finish, notified, screen_of, type_into, until


@pytest.fixture
def session(tmp_path: Path, monkeypatch) -> Path:
    """A served session's folder (inside tmp_path, so that "outside" is still a place we own)."""
    folder = tmp_path / "session"
    folder.mkdir()
    monkeypatch.setenv(SESSION_DIR_ENV, str(folder))
    monkeypatch.chdir(folder)
    return folder


def served_app(**kwargs) -> tuple[QuadApp, list[tuple[object, dict]]]:
    """The app as served, with every browser download recorded instead of sent."""
    app = QuadApp(SMALL, browser=True, **kwargs)
    sent: list[tuple[object, dict]] = []

    def deliver_binary(path_or_file, **options):
        data = path_or_file.read() if hasattr(path_or_file, "read") else Path(path_or_file).read_bytes()
        sent.append((data, options))
        return "key"

    app.deliver_binary = deliver_binary  # type: ignore[method-assign]
    return app, sent


@pytest.mark.parametrize("typed", ["../escape.toml", "{outside}/escape.toml", "~/escape.toml", "link/escape.toml"])
async def test_saving_outside_the_session_folder_is_refused_in_one_line(
    session: Path, typed: str, notes: Notes
) -> None:
    outside = session.parent / "outside"
    outside.mkdir()
    (session / "link").symlink_to(outside)  # a way out that looks like a folder inside
    typed = typed.format(outside=outside)
    app, sent = served_app()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await pilot.press("f10", "ctrl+s")  # share, then save the config
        await answer_path(pilot, app, typed)
        refusal = await notified(pilot, notes, lambda n: n.title == "Outside your folder", "the refusal")
        assert "\n" not in refusal.message and "not allowed here" in refusal.message
    assert not list(outside.iterdir()) and not (session.parent / "escape.toml").exists() and sent == []


async def test_loading_a_file_outside_the_session_folder_is_refused(session: Path, notes: Notes) -> None:
    secret = session.parent / "secret.toml"
    secret.write_text("hidden = 7\n")
    app, _ = served_app()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        before = screen_of(app).form.check()[0]
        await pilot.press("ctrl+o")
        await answer_path(pilot, app, secret)
        await notified(pilot, notes, lambda n: n.title == "Outside your folder", "the refusal")
        assert screen_of(app).form.check()[0] == before


async def test_a_saved_config_stays_in_the_session_folder_and_arrives_as_a_download(
    session: Path, notes: Notes
) -> None:
    app, sent = served_app()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await type_into(pilot, app, "hidden", "6")
        await pilot.press("escape", "f10", "ctrl+s")
        await answer_path(pilot, app, "mine.toml")
        await notified(pilot, notes, lambda n: "(downloading)" in n.message, "the saved note")
        await pilot.press("escape", "ctrl+o")  # and it loads back from the folder
        await answer_path(pilot, app, "mine.toml")
        await notified(pilot, notes, lambda n: n.message.startswith("loaded mine.toml"), "the load")
    assert load_config_file(session / "mine.toml") == SMALL.replace(hidden=6)
    ((data, options),) = sent
    assert data == (session / "mine.toml").read_bytes() and options["save_filename"] == "mine.toml"


async def test_an_export_arrives_as_a_zip_download(session: Path, notes: Notes) -> None:
    app, sent = served_app(autorun=True)
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await finish(pilot, app)
        await pilot.press("f4")
        await answer_path(pilot, app, "run1")
        await notified(pilot, notes, lambda n: n.title == "Exported", "the export")
    ((data, options),) = sent
    assert options["save_filename"] == "run1.zip" and options["mime_type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {"run1/config.toml", "run1/loss.csv", "run1/model.pt", "run1/train.py"} <= names
        assert archive.read("run1/config.toml") == (session / "run1" / "config.toml").read_bytes()


async def test_in_a_terminal_paths_are_not_confined_and_nothing_is_downloaded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(SESSION_DIR_ENV, raising=False)
    inner = tmp_path / "inner"
    inner.mkdir()
    monkeypatch.chdir(inner)
    app = QuadApp(SMALL, browser=False)
    calls: list[object] = []
    app.deliver_binary = lambda *a, **k: calls.append(a)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+s", "ctrl+s")
        await answer_path(pilot, app, "../up.toml")
        await until(pilot, (tmp_path / "up.toml").exists, "the file one folder up")
    assert calls == []


def test_inside_session(session: Path) -> None:
    assert inside_session("a.toml") == session.resolve() / "a.toml"
    assert inside_session("sub/../b.toml") == session.resolve() / "b.toml"
    assert inside_session("../a.toml") is None and inside_session("/etc/hostname") is None
    assert inside_session(str(session / "c.toml")) == session.resolve() / "c.toml"
    assert inside_session("bad\0name") is None


@pytest.mark.parametrize(
    "name,safe",
    [("quadtui.toml", "quadtui.toml"), ("my run;x=1.py", "my_run_x_1.py"), ("..", "quadtui"), ("a\r\nb", "a_b")],
)
def test_download_names_are_safe_for_a_header(name: str, safe: str) -> None:
    assert download_name(name) == safe


def test_a_relative_path_is_the_sessions_own() -> None:
    assert os.sep not in download_name("a/b")
