"""One torch for a whole class (``quadtui --class DIR --torch-server``), with real processes and real accounts.

Students with accounts of their own each started a fork server of their own (~140 MB of torch each);
the class's server forks every student's runs instead.  It works for other users, so what they
send is read with a restricted unpickler and checked again, and they trust only the folder owner's server.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.ptyrun import alive, python_env
from quadtui.core import remote
from quadtui.core.config import Config
from quadtui.core.control import Control
from quadtui.core.engine import Engine
from quadtui.core.forkserver import ForkServer, ServerError, restricted
from quadtui.core.forkserver.per_class import CLASS_SOCKET, use_class_folder
from quadtui.core.snapshot import Snapshot
from tests.classroom_users import class_users, run_as  # noqa: F401  (a fixture)
from tests.conftest import GONE_WITHIN, wait_gone


def start_class_server(folder: str) -> tuple[subprocess.Popen[str], int]:
    """``quadtui --class FOLDER --torch-server``, as the teacher runs it; (its process, the server's pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "quadtui", "--class", folder, "--torch-server"],
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""  # the first line comes once torch is loaded
    if "(pid " not in line:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the class server did not start: {line!r} {err!r}")
    return proc, int(line.split("(pid ")[1].split(")")[0])


def stop_class_server(proc: subprocess.Popen[str], server_pid: int) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    wait_gone([server_pid])


@pytest.fixture
def class_folder() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="qt-")  # a short path: a socket's must be under 108 bytes
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def class_server(class_folder: str) -> Iterator[tuple[str, int]]:
    """A class server in a folder of ours; this process uses it (as any session of the class would)."""
    proc, server_pid = start_class_server(class_folder)
    remote.stop_server()
    use_class_folder(class_folder)
    try:
        yield class_folder, server_pid
    finally:
        remote.stop_server()
        use_class_folder(None)
        stop_class_server(proc, server_pid)


def train_remotely(config: Config) -> Snapshot:
    snaps: list[Snapshot] = []
    remote.train(config, Control(), 1, 0.05, threading.Event(), snaps.append)
    return snaps[-1]


def test_a_run_trains_in_the_class_server_bit_for_bit_and_the_teacher_ending_it_removes_only_the_socket(
    class_folder: str,
) -> None:
    proc, server_pid = start_class_server(class_folder)
    socket_path = os.path.join(class_folder, CLASS_SOCKET)
    remote.stop_server()
    use_class_folder(class_folder)
    try:
        server = remote.start_server()
        assert server.pid == server_pid and server.stranger  # the class's, read as a stranger's
        config = Config(epochs=300)
        here = Engine(config).run()
        there = train_remotely(config)
        assert there.epoch == here.epoch == 300
        assert np.array_equal(there.train_loss, here.train_loss)  # bit for bit
        assert np.array_equal(there.prediction, here.prediction)
    finally:
        remote.stop_server()
        use_class_folder(None)
        proc.send_signal(signal.SIGINT)  # ctrl+c
        assert proc.wait(10) == 0
        wait_gone([server_pid])
    assert not os.path.exists(socket_path) and os.path.isdir(class_folder)  # the class folder stays


def test_students_of_two_accounts_share_the_teachers_torch(class_users) -> None:  # noqa: F811
    student_a, student_b, folder, _ = class_users
    proc, server_pid = start_class_server(folder)  # the folder is root's: root is the teacher here
    try:

        def as_a_student() -> dict[str, object]:
            remote._server = remote._private = None  # a forked copy of the test's state: start afresh
            use_class_folder(folder)
            server = remote.start_server()
            last = train_remotely(Config(epochs=200))
            return {"pid": server.pid, "stranger": server.stranger, "uid": os.getuid(), "loss": float(last.train_now)}

        here = float(Engine(Config(epochs=200)).run().train_now)
        for student in (student_a, student_b):
            seen = run_as(student, as_a_student)
            assert seen == {"pid": server_pid, "stranger": True, "uid": student.uid, "loss": here}
    finally:
        stop_class_server(proc, server_pid)


def test_a_server_not_run_by_the_class_folders_owner_is_not_trusted(class_server: tuple[str, int]) -> None:
    folder, _ = class_server
    with pytest.raises(ServerError, match="another user's"):
        ForkServer.connect(os.path.join(folder, CLASS_SOCKET), owner=os.getuid() + 1)


def test_a_stranger_gets_only_a_run_or_time_travel_and_a_bounded_share_a_session(class_server: tuple[str, int]) -> None:
    folder, server_pid = class_server
    server = remote.start_server()
    marker = Path(folder) / "written-by-the-server"
    from quadtui.core.timeline import past_states

    # allowed to name, not to start: refused in one line, and the server serves on
    with pytest.raises(ServerError, match="does not start quadtui.core.timeline.past_states"):
        server.spawn(past_states)
    runs = [server.spawn(remote._child, Config(epochs=10_000_000), 1, 0.05, True, None, 0, None) for _ in range(3)]
    with pytest.raises(ServerError, match="at most 3 processes for each session"):
        server.spawn(remote._child, Config(epochs=10), 1, 0.05, True, None, 0, None)
    for run in runs:
        run.kill()
        run.join(GONE_WITHIN)
    # a function no class server may even name: that app is let go; nothing ran
    with pytest.raises(ServerError):
        server.spawn(shutil.copy, "/etc/hostname", str(marker))
    assert not marker.exists() and alive(server_pid)
    remote.stop_server()
    assert remote.start_server().pid == server_pid  # a new connection is served again


def test_an_export_beside_a_class_server_runs_in_a_server_of_the_users_own(class_server: tuple[str, int]) -> None:
    from quadtui.tui.export import _export_run

    _, server_pid = class_server
    assert remote.start_server().pid == server_pid
    own = remote.start_server(_export_run)  # it writes files: never as the teacher
    assert own.pid != server_pid and not own.stranger
    from quadtui.core.timeline import past_states

    assert remote.start_server(past_states).pid == server_pid  # time travel writes nothing: the class's


def test_a_strangers_config_is_checked_again_in_the_run(class_server: tuple[str, int], monkeypatch) -> None:
    bad = Config(epochs=10)
    object.__setattr__(bad, "hidden", 10**9)  # what a hand-made pickle can say: it skips every check
    with pytest.raises(remote.RunFailedError, match="hidden"):
        train_remotely(bad)


@pytest.mark.parametrize(
    "forbidden",
    [os.system, eval, subprocess.Popen, pickle.loads, shutil.rmtree],
)
def test_restricted_unpickling_refuses_any_other_global(forbidden: object) -> None:
    with pytest.raises(pickle.UnpicklingError, match="may not be sent between accounts"):
        restricted.loads(pickle.dumps(("spawn", 1, forbidden, ())))


def test_restricted_unpickling_reads_every_message_of_a_run() -> None:
    messages: list[bytes] = []
    ship = remote._Shipper()

    def send(snap: Snapshot) -> None:
        messages.append(pickle.dumps(("update", ship.delta(snap)), protocol=pickle.HIGHEST_PROTOCOL))

    config = Config(epochs=60, layers=2, optimizer="adam", activation="tanh", batch_size=25, noise=0.1)
    Engine(config).run(on_snapshot=send, interval=0)
    messages.append(pickle.dumps(("spawn", 1, remote._child, (config, 1, 0.1, False, None, 0, None))))
    for data in messages:
        assert repr(restricted.loads(data)) == repr(pickle.loads(data))
    with pytest.raises(pickle.UnpicklingError, match="over the"):
        restricted.loads(b"\x80" * (restricted.MAX_MESSAGE + 1))


def test_torch_server_usage_errors_are_one_line(class_folder: str) -> None:
    run = [sys.executable, "-m", "quadtui"]
    alone = subprocess.run([*run, "--torch-server"], env=python_env(), capture_output=True, text=True)
    assert alone.returncode == 2 and alone.stderr.count("\n") == 1 and "--torch-server needs --class" in alone.stderr
    with_app = subprocess.run(
        [*run, "--class", class_folder, "--torch-server", "--headless"],
        env=python_env(),
        capture_output=True,
        text=True,
    )
    assert with_app.returncode == 2 and "cannot be used with --headless" in with_app.stderr
    Path(class_folder, CLASS_SOCKET).write_text("not a socket")
    blocked = subprocess.run(
        [*run, "--class", class_folder, "--torch-server"], env=python_env(), capture_output=True, text=True
    )
    assert blocked.returncode == 1 and blocked.stderr.count("\n") == 1 and "in the way" in blocked.stderr


def raw(folder: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(folder, CLASS_SOCKET))
    return sock


def test_a_student_who_says_nothing_or_a_byte_at_a_time_holds_up_no_one(class_server: tuple[str, int]) -> None:
    folder, server_pid = class_server
    silent, dripping = raw(folder), raw(folder)
    try:
        dripping.sendall(b"\x00")  # the first byte of a header, and no more
        last = train_remotely(Config(epochs=50))  # another session connects, spawns and trains meanwhile
        assert last.epoch == 50 and remote.start_server().pid == server_pid
        dripping.settimeout(GONE_WITHIN)
        assert dripping.recv(1) == b""  # let go once its message was overdue
    finally:
        silent.close()
        dripping.close()


def test_an_account_keeps_at_most_its_share_of_connections(class_server: tuple[str, int]) -> None:
    from quadtui.core.forkserver.server import CONNECTIONS_PER_ACCOUNT

    folder, server_pid = class_server
    held = [raw(folder) for _ in range(CONNECTIONS_PER_ACCOUNT)]
    try:
        extra = raw(folder)
        extra.settimeout(GONE_WITHIN)
        assert extra.recv(1) == b""  # closed at once
        extra.close()
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + GONE_WITHIN  # once the server has seen them go, it serves that account again
    while True:
        try:
            again = ForkServer.connect(os.path.join(folder, CLASS_SOCKET), owner=os.getuid())
            break
        except ServerError:
            assert time.monotonic() < deadline, "the account was not served again"
            time.sleep(0.02)
    assert again.pid == server_pid
    again.stop()


def test_a_strangers_sweep_trains_in_the_class_server_and_is_held_to_its_budget(
    class_server: tuple[str, int], monkeypatch
) -> None:
    from quadtui.core.streamed import stream
    from quadtui.core.sweep.jobs import sweep_job
    from quadtui.core.sweep.runner import Sweep

    got: list[tuple[object, ...]] = []
    stream(sweep_job, (Config(epochs=40), "hidden", [2, 4], 1, 0.1), threading.Event(), got.append)
    assert [kind for kind, *_ in got].count("finished") == 1 and got[-1][0] == "finished"  # and nothing after
    _, result, _ = got[-1]
    here = Sweep(Config(epochs=40), "hidden", [2, 4]).run()
    assert [m.final_loss for m in result.members] == [m.final_loss for m in here.members]
    got.clear()  # the server's budget, not the student's, holds for what it trains
    big = Config(epochs=40, samples=100_000, hidden=256, layers=4)  # ~9 GB for 8 seeds: over any default budget
    stream(sweep_job, (big, "seed", list(range(8)), 1, 0.1), threading.Event(), got.append)
    assert got[-1][0] == "failed" and "over the budget" in str(got[-1][1])
