"""Real OS users for the class-folder tests: made with useradd, removed afterwards.

Code runs as such a user in a forked child that drops to the user's uid and gid
(``os.setuid``) — a real process of that user, whatever the file system lets it do.
(A fresh interpreter started with ``subprocess.run(user=...)`` would need the
Python installation to be readable by the new user, which it often is not, e.g.
under a root-only home.)  The child's result comes back as JSON through a pipe.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class OsUser:
    name: str
    uid: int
    gid: int


def run_as(user: OsUser, work: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Run ``work()`` in a child process as ``user``; its return value (JSON), or its exception re-raised here."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(user.gid)
            os.setuid(user.uid)
            try:
                result: dict[str, Any] = {"value": work()}
            except BaseException as exc:  # noqa: BLE001  (reported to the parent)
                result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            os.write(write_end, json.dumps(result).encode())
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        while chunk := pipe.read(65536):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child as the test user failed"
    result = json.loads(b"".join(chunks))
    if "error" in result:
        raise AssertionError(f"as {user.name}: {result['error']}\n{result['trace']}")
    return result["value"]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create OS users"
    if not all(shutil.which(tool) for tool in ("useradd", "userdel", "groupadd", "groupdel")):
        return "useradd/groupadd are not installed"
    return None


@pytest.fixture
def class_users() -> Iterator[tuple[OsUser, OsUser, str, str]]:
    """Two fresh OS users in a fresh group, and a class folder (set up by root) they share; all removed after."""
    why = _missing()
    if why:
        pytest.skip(why)
    tag = secrets.token_hex(3)
    group, names = f"qtc{tag}", [f"qta{tag}", f"qtb{tag}"]
    made_group, made_users = False, []
    base = tempfile.mkdtemp(prefix="quadtui-class-")
    try:
        made = subprocess.run(["groupadd", group], capture_output=True, text=True)
        if made.returncode:
            pytest.skip(f"groupadd failed: {made.stderr.strip()}")
        made_group = True
        for name in names:
            made = subprocess.run(
                ["useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", name], capture_output=True, text=True
            )
            if made.returncode:
                pytest.skip(f"useradd failed: {made.stderr.strip()}")
            made_users.append(name)
        os.chmod(base, 0o755)  # reachable by the users
        folder = os.path.join(base, "class")
        os.mkdir(folder)
        os.chown(folder, 0, grp.getgrnam(group).gr_gid)
        users = [OsUser(n, pwd.getpwnam(n).pw_uid, pwd.getpwnam(n).pw_gid) for n in names]
        yield users[0], users[1], folder, group
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for name in made_users:
            subprocess.run(["userdel", name], capture_output=True)
        if made_group:
            subprocess.run(["groupdel", group], capture_output=True)
