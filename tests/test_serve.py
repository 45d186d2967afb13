"""``quadtui --serve``: its flags, warnings and pieces, without serving (one subprocess for the issue's example)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from quadtui.cli import main
from quadtui.cli import serve as serve_cli

pytest.importorskip("textual_serve", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
from quadtui.web.server import ClassroomServer, upload_name  # noqa: E402
from quadtui.web.session import clamp_size  # noqa: E402
from tests.serving import LOOPBACK, ROOT, free_port  # noqa: E402


def test_public_url_puts_every_page_url_under_it():
    made = ClassroomServer(
        ["quadtui"], host=LOOPBACK, port=8000, max_sessions=2, public_url="https://class.example.org/quadtui/"
    )
    assert made.page_urls() == {
        "static": "https://class.example.org/quadtui/static/",
        "websocket": "wss://class.example.org/quadtui/ws",
        "download": "https://class.example.org/quadtui/download/",
        "upload": "https://class.example.org/quadtui/upload/",
    }
    plain = ClassroomServer(["quadtui"], host=LOOPBACK, port=8000, max_sessions=2)
    assert plain.page_urls() == {"static": "static/", "websocket": "ws", "download": "download/", "upload": "upload/"}


@pytest.mark.parametrize(
    "name,safe",
    [
        ("quadtui.toml", "quadtui.toml"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\My Config.toml", "My_Config.toml"),
        (".bashrc", "bashrc"),
        ("", "upload"),
        ("..", "upload"),
    ],
)
def test_uploaded_file_names_stay_plain_names(name, safe):
    assert upload_name(name) == safe


@pytest.mark.parametrize(
    "raw,parsed",
    [
        ("https://class.example.org/quadtui", "https://class.example.org/quadtui/"),
        ("http://10.0.0.5:8080/", "http://10.0.0.5:8080/"),
    ],
)
def test_public_url_is_normalised(raw, parsed):
    assert serve_cli.parse_public_url(raw) == parsed


def test_browser_sizes_are_clamped():
    assert clamp_size(2000, 1000) == (300, 100)
    assert clamp_size("120", "40") == (120, 40)
    assert clamp_size("²", None) == (80, 24)
    assert clamp_size(-5, "9" * 40) == (10, 24)


# -- flags -------------------------------------------------------------------------------------
def test_bad_port_from_the_issue_is_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "quadtui", "--serve", "--port", "²"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == "quadtui: error: --port ²: not allowed; must be a whole number from 1 to 65535\n"


@pytest.mark.parametrize(
    "args,line",
    [
        (["--port", "0"], "--port 0: not allowed; must be a whole number from 1 to 65535"),
        (["--port", "65536"], "--port 65536: not allowed; must be a whole number from 1 to 65535"),
        (["--port", "80.5"], "--port 80.5: not allowed; must be"),
        (["--port", "٨٠"], "--port ٨٠: not allowed; must be"),  # Arabic-Indic digits: int() takes them, we do not
        (["--port", ""], "--port '': not allowed; must be"),
        (["--max-sessions", "0"], "--max-sessions 0: not allowed; must be a whole number from 1 to 1000"),
        (["--reload-grace", "-1"], "--reload-grace -1: not allowed; must be a whole number of seconds from 0 to 3600"),
        (["--public-url", "ftp://x"], "--public-url ftp://x: not allowed; must be an http:// or https:// address"),
        (["--serve-dir", "/nonexistent/quadtui"], "--serve-dir /nonexistent/quadtui: not allowed; must be an existing"),
    ],
)
def test_bad_serve_flags_are_one_line(capsys, args, line):
    assert main(["--serve", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("quadtui: error: ") and line in err


@pytest.mark.parametrize("flag", ["--max-sessions=3", "--public-url=http://x/", "--serve-dir=.", "--reload-grace=0"])
def test_serve_flags_need_serve(capsys, flag):
    assert main([flag]) == 2
    assert f"{flag.split('=')[0]} needs --serve" in capsys.readouterr().err


@pytest.fixture
def recorded(monkeypatch):
    """serve() without serving: the ClassroomServer it would run."""
    made: list[ClassroomServer] = []
    monkeypatch.setattr(ClassroomServer, "serve", lambda self, debug=False: made.append(self))
    return made


def test_each_tab_runs_quadtui_with_the_other_flags(recorded, tmp_path):
    assert (
        main(
            [
                "--serve",
                "--lr",
                "0.1",
                "--port",
                "8123",
                "--max-sessions=3",
                "--serve-dir",
                str(tmp_path),
                "--lesson",
                "too-high-learning-rate",
                "--public-url",
                "https://x.example/q",
            ]
        )
        == 0
    )
    (made,) = recorded
    assert (made.host, made.port, made.max_sessions, made.serve_dir) == (LOOPBACK, 8123, 3, tmp_path.resolve())
    assert made.argv == [sys.executable, "-m", "quadtui", "--lr", "0.1", "--lesson", "too-high-learning-rate"]
    assert made.public_base == "https://x.example/q/"


def test_files_named_for_the_sessions_are_passed_on_as_absolute_paths(recorded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "class.toml").write_text("hidden = 5\n")
    assert main(["--serve", "--config", "class.toml", "--lesson=how-many-neurons"]) == 0
    (made,) = recorded
    assert made.argv[3:] == ["--config", str(tmp_path / "class.toml"), "--lesson=how-many-neurons"]


# -- a non-loopback host -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "host,loopback",
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert serve_cli.is_loopback(host) is loopback


def _primary_address() -> str | None:
    """The address this machine would send from (a UDP connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return None


def test_every_interface_warns_with_the_real_addresses():
    lines = serve_cli.exposure_warning("0.0.0.0", 8000)
    text = "\n".join(lines)
    assert lines and all(line.startswith("WARNING: ") for line in lines)
    assert "no password" in text and "localhost" not in text and "http://0.0.0.0" not in text
    primary = _primary_address()
    if primary and not primary.startswith("127."):
        assert f"http://{primary}:8000/" in text
    assert serve_cli.exposure_warning(LOOPBACK, 8000) == []


def test_a_non_loopback_host_warns_before_anything_listens():
    port = free_port()  # 192.0.2.1 is a documentation address: nothing can listen on it here
    out = subprocess.run(
        [sys.executable, "-m", "quadtui", "--serve", "--host", "192.0.2.1", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = out.stderr.splitlines()
    assert lines[0].startswith("quadtui: WARNING: --host 192.0.2.1 is not a loopback address")
    assert f"http://192.0.2.1:{port}/" in out.stderr
    assert out.returncode == 1 and lines[-1].startswith(f"quadtui: error: cannot serve on 192.0.2.1:{port}: ")
