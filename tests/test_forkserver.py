"""quadtui's own fork server, with real processes: spawn, talk, kill, exit codes, and nothing left behind."""

from __future__ import annotations

import ast
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import pytest

from benchmarks.ptyrun import alive, children, python_env
from quadtui.core.forkserver import ADDRESS_ENV, Channel, ForkServer, ServerError
from tests.conftest import GONE_WITHIN, wait_gone
from tests.forked import echo, exit_with, report_frozen, report_warmed, sleep_forever


def python(code: str, *args: str, env: dict[str, str] | None = None, cwd: str | None = None) -> subprocess.Popen:
    """``python -c code args`` as an app would run: this checkout first on its path, stdin and stdout piped."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env or python_env(),
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def server():
    server = ForkServer(preload=("tests.forked",))  # no torch: these tests are about processes
    server.start()
    yield server
    server.stop()
    assert not alive(server.pid)


def test_a_spawned_function_talks_over_its_channel_and_its_exit_is_reported(server: ForkServer) -> None:
    child = server.spawn(echo, "!")
    big = "x" * 3_000_000  # longer than one read: messages are framed
    child.channel.send("hello")
    assert child.channel.recv() == "hello!"
    child.channel.send(big)
    assert child.channel.recv() == big + "!"
    child.channel.close()  # echo returns on EOF
    child.join(GONE_WITHIN)
    assert not child.is_alive() and child.exitcode == 0


def test_exit_codes_and_kill_reach_the_app(server: ForkServer) -> None:
    failing = server.spawn(exit_with, 3)
    failing.join(GONE_WITHIN)
    assert failing.exitcode == 3
    sleeper = server.spawn(sleep_forever)
    assert sleeper.channel.recv() == sleeper.pid
    sleeper.kill()
    sleeper.join(GONE_WITHIN)
    assert sleeper.exitcode == -signal.SIGKILL and not alive(sleeper.pid)


def test_what_the_server_imported_is_frozen_before_it_forks(server: ForkServer) -> None:
    """Frozen objects are never visited by a run's garbage collector, so their pages stay shared."""
    child = server.spawn(report_frozen)
    frozen, pid, has_torch = child.channel.recv()
    assert frozen > 1000 and pid != os.getpid() and not has_torch


def test_closing_the_apps_end_ends_the_server_and_every_child(server: ForkServer) -> None:
    sleepers = [server.spawn(sleep_forever) for _ in range(2)]
    pids = [child.channel.recv() for child in sleepers]
    assert all(alive(pid) for pid in pids)
    server.stop()
    wait_gone([server.pid, *pids])


def test_a_server_whose_app_is_killed_goes_with_its_children() -> None:
    """SIGKILL runs no clean-up at all: the server sees its channel close, its children their parent die."""
    code = (
        "import os, sys; from quadtui.core.forkserver import ForkServer; from tests import forked as t; "
        "s = ForkServer(preload=('tests.forked',)); s.start(); c = s.spawn(t.sleep_forever); "
        "print(s.pid, c.channel.recv(), flush=True); sys.stdin.read()"
    )
    app = python(code)
    try:
        server_pid, child_pid = map(int, app.stdout.readline().split())
        assert alive(server_pid) and alive(child_pid)
        app.kill()
        app.wait()
        wait_gone([server_pid, child_pid])
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


def test_a_module_function_entry_runs_once_in_the_server_before_it_forks() -> None:
    server = ForkServer(preload=("tests.forked", "tests.forked:warm"))
    server.start()
    try:
        reports = []
        for _ in range(2):
            child = server.spawn(report_warmed)
            reports.append(child.channel.recv())
            child.join(GONE_WITHIN)
        assert reports == [([server.pid], server.pid)] * 2  # called in the server, once, before either fork
    finally:
        server.stop()


# -- a server that other apps connect to (``quadtui --serve``: one torch for the class) -----------
@pytest.fixture
def shared():
    server = ForkServer(preload=("tests.forked",), shared=True)
    server.start()
    yield server
    server.stop()
    assert not alive(server.pid) and not os.path.exists(os.path.dirname(server.address))


APP = (
    "import os, sys; from quadtui.core.forkserver import ForkServer; from tests import forked as t; "
    "os.umask(0o027); s = ForkServer.connect(sys.argv[1]); c = s.spawn(getattr(t, sys.argv[2])); "
    "print(repr(c.channel.recv()), flush=True); sys.stdin.read()"
)


def connected_app(address: str, function: str, folder: str, mark: str) -> tuple[subprocess.Popen, object]:
    """An app process that connects to ``address`` and runs ``function`` there; what the function sent first."""
    app = python(APP, address, function, env={**python_env(), "QUADTUI_TEST_MARK": mark}, cwd=folder)
    return app, ast.literal_eval(app.stdout.readline())


def end(app: subprocess.Popen) -> None:
    if app.poll() is None:
        app.kill()
    app.wait()


def test_apps_that_connect_share_the_server_and_their_processes_work_as_theirs(shared: ForkServer, tmp_path) -> None:
    apps = []
    try:
        for name in ("ada", "bob"):
            (tmp_path / name).mkdir()
            app, (cwd, mark, umask, parent) = connected_app(
                shared.address, "report_setting", str(tmp_path / name), name
            )
            apps.append(app)
            assert (cwd, mark, umask, parent) == (str(tmp_path / name), name, 0o027, shared.pid)
    finally:
        for app in apps:
            end(app)


def test_an_app_that_leaves_takes_its_processes_along_and_no_one_elses(shared: ForkServer, tmp_path) -> None:
    ada, ada_child = connected_app(shared.address, "sleep_forever", str(tmp_path), "ada")
    bob, bob_child = connected_app(shared.address, "sleep_forever", str(tmp_path), "bob")
    try:
        assert alive(ada_child) and alive(bob_child)
        ada.kill()  # SIGKILL: no clean-up of its own; the server sees its end close
        ada.wait()
        wait_gone([ada_child])
        assert alive(bob_child) and alive(shared.pid)
        shared.stop()  # the owner leaves: everything goes, the socket too
        wait_gone([bob_child])
        assert not os.path.exists(os.path.dirname(shared.address))  # its private folder too
    finally:
        end(ada)
        end(bob)


def test_an_app_can_kill_only_its_own_processes(shared: ForkServer) -> None:
    ada, bob = ForkServer.connect(shared.address), ForkServer.connect(shared.address)
    try:
        assert ada.pid == bob.pid == shared.pid
        sleeper = ada.spawn(sleep_forever)
        pid = sleeper.channel.recv()
        bob.kill(pid)
        done = bob.spawn(exit_with, 3)  # answered after the kill was handled: the server reads bob's end in order
        done.join(GONE_WITHIN)
        assert done.exitcode == 3 and alive(pid)
        ada.kill(pid)
        sleeper.join(GONE_WITHIN)
        assert sleeper.exitcode == -signal.SIGKILL
    finally:
        ada.stop()
        bob.stop()


def test_a_server_whose_owner_is_killed_goes_with_every_apps_processes(tmp_path) -> None:
    code = (
        "import sys; from quadtui.core.forkserver import ForkServer; "
        "s = ForkServer(preload=('tests.forked',), shared=True); s.start(); "
        "print(s.pid, s.address, flush=True); sys.stdin.read()"
    )
    owner = python(code)
    app = None
    try:
        pid, address = owner.stdout.readline().split()
        server_pid = int(pid)
        app, child = connected_app(address, "sleep_forever", str(tmp_path), "ada")
        owner.kill()
        owner.wait()
        wait_gone([server_pid, child])
        assert not os.path.exists(os.path.dirname(address))  # the server removed its socket and folder
    finally:
        end(owner)
        if app is not None:
            end(app)


def test_an_app_uses_the_server_named_in_its_environment(shared: ForkServer, monkeypatch) -> None:
    from quadtui.core import remote

    monkeypatch.setenv("QUADTUI_SHARED_TORCH", "1")
    monkeypatch.setenv(ADDRESS_ENV, shared.address)
    remote.stop_server()
    try:
        assert remote.start_server().pid == shared.pid
    finally:
        remote.stop_server()
    assert alive(shared.pid)  # the app leaving does not end a server it only connected to


def test_an_app_whose_class_server_is_gone_shares_its_users_server(tmp_path, monkeypatch) -> None:
    from quadtui.core import remote

    runtime = tempfile.mkdtemp(prefix="qt-")  # a short path: a socket's must be under 108 bytes
    monkeypatch.setenv("QUADTUI_SHARED_TORCH", "1")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    monkeypatch.setenv(ADDRESS_ENV, str(tmp_path / "gone.sock"))
    remote.stop_server()
    try:
        server = remote.start_server()  # torch and the engine, in this user's server
        assert server.lock is not None and server.address is not None and server.address.startswith(runtime)
    finally:
        remote.stop_server()
        wait_gone([server.pid])  # its last app has gone
        shutil.rmtree(runtime, ignore_errors=True)


def test_an_app_that_may_not_share_starts_a_server_of_its_own(monkeypatch) -> None:
    from quadtui.core import remote

    monkeypatch.setenv("QUADTUI_SHARED_TORCH", "0")
    remote.stop_server()
    try:
        server = remote.start_server()  # torch and the engine, in a server of its own
        assert server.address is None and server.pid in children().get(os.getpid(), [])
    finally:
        remote.stop_server()


def introduced(address: str) -> Channel:
    """A raw channel to the server at ``address``, past its hello: what an app of ours says, by hand."""
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.connect(address)
    channel = Channel(raw)
    channel.send(("hello", os.getcwd(), {}, 0o022))
    assert channel.recv() == ("ready",)
    return channel


def serves_on(shared: ForkServer) -> int | None:
    """The exit code of a process an app then asks the server for (4, when it still serves)."""
    app = ForkServer.connect(shared.address)
    try:
        child = app.spawn(exit_with, 4)
        child.join(GONE_WITHIN)
        return child.exitcode
    finally:
        app.stop()


def test_a_spawn_the_server_cannot_do_is_refused_in_one_line_and_the_server_serves_on(shared: ForkServer) -> None:
    channel = introduced(shared.address)
    try:
        channel.send(("spawn", 7, sleep_forever, ()))  # no socket pair end with it
        kind, token, reason = channel.recv()
        assert (kind, token) == ("refused", 7) and "cannot start a process" in reason and "\n" not in reason
    finally:
        channel.close()
    assert serves_on(shared) == 4


def test_an_app_that_sends_nonsense_is_let_go_and_the_server_serves_on(shared: ForkServer) -> None:
    channel = introduced(shared.address)
    try:
        channel.send_bytes(b"not a pickle")
        with pytest.raises(EOFError):  # the server closed its end
            channel.recv()
    finally:
        channel.close()
    assert serves_on(shared) == 4 and alive(shared.pid)


def test_connecting_where_no_server_listens_is_a_server_error(tmp_path) -> None:
    with pytest.raises(ServerError, match="no training process server"):
        ForkServer.connect(str(tmp_path / "nothing.sock"))


def test_a_server_that_cannot_import_says_why_in_one_line() -> None:
    server = ForkServer(preload=("quadtui_no_such_module",))
    with pytest.raises(ServerError, match="ModuleNotFoundError: No module named 'quadtui_no_such_module'"):
        server.start()
    assert server.pid is not None and not alive(server.pid)  # nothing left running


def test_a_server_that_died_is_said_so_and_nothing_waits_for_it(server: ForkServer) -> None:
    sleeper = server.spawn(sleep_forever)
    child_pid = sleeper.channel.recv()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)  # as the kernel's OOM killer would
    sleeper.join(GONE_WITHIN)  # the app hears of it at once: no exit code to wait for
    assert not sleeper.is_alive() and sleeper.exitcode is None
    wait_gone([child_pid])  # its run went with it (the parent-death signal)
    with pytest.raises(ServerError, match="gone"):
        server.spawn(sleep_forever)
