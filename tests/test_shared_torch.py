"""The sessions of one user share one fork server (one torch), which ends with the last of them: real processes.

Each test works in a private runtime folder of its own (``XDG_RUNTIME_DIR``), so it
never meets a server of the developer's own sessions, nor another test's.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from benchmarks.ptyrun import PtyProcess, alive, children, cmdline, python_env, quadtui_argv
from quadtui.core.forkserver import ServerError, per_user
from tests.conftest import GONE_WITHIN, wait_gone

#: an app of the tests: this user's server (preloading tests/forked.py: no torch), one sleeping process forked there
APP = (
    "import sys; from quadtui.core.forkserver.per_user import user_server; from tests import forked as t; "
    "s = user_server(('tests.forked',)); c = s.spawn(t.sleep_forever); "
    "print(s.pid, c.channel.recv(), flush=True); sys.stdin.read()"
)


@pytest.fixture
def runtime():
    """An environment whose apps share servers in a private folder of this test's (a short path: a socket's
    must be under 108 bytes, and pytest's own folders are deep)."""
    folder = tempfile.mkdtemp(prefix="qt-")
    yield {**python_env(), "QUADTUI_SHARED_TORCH": "1", "XDG_RUNTIME_DIR": folder}
    servers = [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and folder in cmdline(int(entry))]
    wait_gone(servers)  # each ends with its last app (the tests' apps are gone by now), then the folder goes
    shutil.rmtree(folder, ignore_errors=True)


class Apps:
    """App processes started with ``env``; all killed at the end."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[subprocess.Popen[str]] = []

    def start(self) -> subprocess.Popen[str]:
        app = subprocess.Popen(
            [sys.executable, "-c", APP], env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.started.append(app)
        return app

    @staticmethod
    def report(app: subprocess.Popen[str]) -> tuple[int, int]:
        """(the server's pid, the pid of the process forked for the app)."""
        assert app.stdout is not None
        server, child = map(int, app.stdout.readline().split())
        return server, child

    def end(self) -> None:
        for app in self.started:
            if app.poll() is None:
                app.kill()
            app.wait()


@pytest.fixture
def apps(runtime: dict[str, str]):
    started = Apps(runtime)
    yield started
    started.end()


def sockets(runtime: dict[str, str]) -> list[str]:
    return sorted(p.name for p in (Path(runtime["XDG_RUNTIME_DIR"]) / "quadtui").glob("*.sock"))


def test_a_users_sessions_share_one_server_which_ends_with_the_last_of_them(apps: Apps, runtime) -> None:
    ada, bob = apps.start(), apps.start()
    (server, ada_child), (same, bob_child) = apps.report(ada), apps.report(bob)
    assert same == server and alive(ada_child) and alive(bob_child)
    assert len(sockets(runtime)) == 1
    ada.kill()  # the session that started it goes, and not by the book
    ada.wait()
    wait_gone([ada_child])
    assert alive(server) and alive(bob_child)  # bob's session goes on
    bob.stdin.close()  # the last session leaves (as an app quitting closes its end)
    bob.wait()
    wait_gone([bob_child, server])
    assert sockets(runtime) == []


def test_sessions_starting_at_once_start_one_server(apps: Apps) -> None:
    started = [apps.start() for _ in range(4)]
    servers = {apps.report(app)[0] for app in started}
    assert len(servers) == 1


def test_a_session_that_comes_as_the_last_one_leaves_gets_a_server(apps: Apps, runtime) -> None:
    """Every way the race can go ends with the newcomer served: by the old server, or a new one."""
    for _ in range(5):
        first = apps.start()
        server, _ = apps.report(first)
        first.stdin.close()  # leaving ...
        late = apps.start()  # ... as another arrives
        _, child = apps.report(late)
        assert alive(child)
        late.kill()
        late.wait()
        first.wait()
        wait_gone([child])
    deadline = time.monotonic() + GONE_WITHIN
    while sockets(runtime) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sockets(runtime) == []


def test_a_killed_servers_place_goes_to_a_new_one(apps: Apps) -> None:
    first = apps.start()
    server, child = apps.report(first)
    os.kill(server, signal.SIGKILL)  # as the OOM killer would: its socket file stays behind
    wait_gone([server, child])  # what it had forked went with it
    second = apps.start()
    new_server, new_child = apps.report(second)
    assert new_server != server and alive(new_child)


def test_a_folder_anyone_else_may_enter_is_not_used(tmp_path: Path, monkeypatch) -> None:
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(open_to_all))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    folder = per_user.user_folder()  # the runtime folder is unsafe: the temporary folder's own, made private
    assert folder == tmp_path / "tmp" / f"quadtui-{os.getuid()}" and folder.stat().st_mode & 0o777 == 0o700
    folder.chmod(0o755)  # someone made it readable: no sharing at all
    assert per_user.user_folder() is None
    with pytest.raises(ServerError, match="no private folder"):
        per_user.user_server(("tests.forked",))
    folder.chmod(0o700)
    link = tmp_path / "elsewhere"
    folder.rename(link)
    folder.symlink_to(link)  # a link, even to a private folder of ours, is not used
    assert per_user.user_folder() is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc")
def test_two_terminals_of_one_user_train_with_one_torch(runtime) -> None:
    """The real app, twice, in real terminals: one fork server, a run each; each run ends with its app."""
    sessions = [PtyProcess(quadtui_argv("--run", "--epochs", "10000000"), 80, 24, env=runtime) for _ in range(2)]
    try:
        deadline = time.monotonic() + 90

        def runs() -> dict[int, list[int]]:
            kids = children()
            servers = {p for s in sessions for p in kids.get(s.pid, []) if "forkserver" in cmdline(p)}
            return {server: kids.get(server, []) for server in servers if kids.get(server)}

        while sum(len(r) for r in runs().values()) < 2:
            assert time.monotonic() < deadline, f"runs: {runs()}"
            for s in sessions:
                s.drain(0.05)
        found = runs()
        assert len(found) == 1  # one torch
        ((server, forked),) = found.items()
        assert len(forked) == 2
        sessions[0].send(b"\x11")  # ctrl+q in the first terminal (the one that started the server)
        while alive(sessions[0].pid) and time.monotonic() < deadline:
            sessions[0].drain(0.05)
            sessions[1].drain(0.01)
        while sum(alive(p) for p in forked) > 1 and time.monotonic() < deadline:  # its run goes ...
            sessions[1].drain(0.02)
        assert alive(server) and sum(alive(p) for p in forked) == 1  # ... the other trains on
        sessions[1].send(b"\x11")
        while alive(sessions[1].pid) and time.monotonic() < deadline:
            sessions[1].drain(0.05)
        wait_gone([server, *forked])
    finally:
        for s in sessions:
            s.close(timeout=5)
