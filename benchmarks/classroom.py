"""A class on one server: N students' sessions training at once, what each costs, how keys answer, how they end.

    python benchmarks/classroom.py               # 20 sessions at 80x24
    python benchmarks/classroom.py --sessions 8 --keys 30

Starts N app sessions in real pseudo-terminals at 80x24 (as N SSH logins would),
each training the default config without end at full speed (``--run --epochs 10000000
--speed full``: the most a class can ask of the machine), then:

1. memory: each session's PSS (``/proc/PID/smaps_rollup``, summed over all of the
   session's processes: its UI, its run, and a fork server of its own or its share
   of the one its user's sessions share) and the total, beside the machine's memory —
   as one account's sessions (sharing one torch, the default) and, side by side, as
   separate accounts' (``QUADTUI_SHARED_TORCH=0``: a torch each), and as separate
   accounts' whose teacher runs the class's torch server (``quadtui --class DIR
   --torch-server``; every session with ``QUADTUI_CLASS=DIR``: its runs are forked
   there, and each session is charged an equal share of the server and of all runs);
2. keys: in one session, the time from a key (``2`` / ``1``: switch the chart tab)
   to the frame that shows its effect, p50 / p95 over ``--keys`` presses, while
   every session trains;
3. ending: the sessions are ended in turn by ctrl+q, SIGTERM, SIGHUP, SIGKILL of
   the app, and the terminal hanging up (the SSH connection dropping); then every
   process any session had is looked for.

Each session works in a folder of its own (so that its runs are told apart from
the others': a run works in its app's folder).  Targets: <= 200 MB PSS a session,
key-to-frame p95 <= 150 ms, 0 leftover processes.
Prints a table; exits 1 over a target.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from benchmarks.idle import tree  # noqa: E402
from benchmarks.ptyrun import PtyProcess, alive, children, cmdline, python_env, quadtui_argv  # noqa: E402

PSS_TARGET_MB, KEY_P95_TARGET_MS = 200.0, 150.0
ENDINGS = ("ctrl+q", "SIGTERM", "SIGHUP", "SIGKILL", "hang-up")
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[a-zA-Z~]|\x1b\][^\x07]*\x07")


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Class:
    """N sessions in 80x24 ptys, each in a folder of its own, training without end.

    ``torch_server``: (the class folder, the pid of the class's torch server running in it).
    """

    def __init__(self, n: int, shared: bool, torch_server: tuple[str, int] | None = None) -> None:
        self.folders = [tempfile.mkdtemp(prefix="quadtui-student-") for _ in range(n)]
        # a private runtime folder: the class's sessions share a user's server with no other session of this user
        self.runtime = tempfile.mkdtemp(prefix="qt-run-")
        env = {**python_env(), "QUADTUI_SHARED_TORCH": "1" if shared else "0", "XDG_RUNTIME_DIR": self.runtime}
        self.torch_server = torch_server
        if torch_server is not None:
            env["QUADTUI_CLASS"] = torch_server[0]
        self.sessions: list[PtyProcess] = []
        for folder in self.folders:
            argv = quadtui_argv("--run", "--epochs", "10000000", "--speed", "full")
            self.sessions.append(PtyProcess(argv, 80, 24, env=env, cwd=folder))
            self.sessions[-1].drain(0.3)
        deadline = time.monotonic() + 60 + 5 * n
        while not self._all_training():
            if time.monotonic() > deadline:
                how = "one account" if shared else "a class server" if torch_server else "separate accounts"
                self.close()
                raise SystemExit(f"not every session started its run within {60 + 5 * n} s ({how})")
            for s in self.sessions:
                s.drain(0.02)

    def _all_training(self) -> bool:
        """Each session has its run (a class server's runs work in ``/``: counted, not told apart)."""
        if self.torch_server is not None:
            return len(children().get(self.torch_server[1], [])) >= len(self.sessions)
        return all(runs for _, runs in self.census()[0].values())

    def census(self) -> tuple[dict[int, tuple[list[int], list[int]]], list[int]]:
        """One look at /proc: each session's processes by its app's pid — (the app and any fork server of its
        own, the runs forked for it: they work in its folder) — and every fork server of the class (a
        session's own, or the one its user's sessions share, which outlives its starter and works in that
        session's folder)."""
        kids = children()

        def tree_of(pid: int) -> list[int]:
            found, todo = [pid], [pid]
            while todo:
                for kid in kids.get(todo.pop(), []):
                    found.append(kid)
                    todo.append(kid)
            return found

        everyone = {p for s in self.sessions for p in tree_of(s.pid)} | set(kids.get(1, []))
        servers = [
            p
            for p in everyone
            if "forkserver" in cmdline(p) and "forkserver" not in cmdline(_parent(p)) and _cwd(p) in self.folders
        ]
        by_app = {}
        for s in self.sessions:
            folder = _cwd(s.pid)
            own = [s.pid, *[p for p in kids.get(s.pid, []) if _server_of_its_own(p)]]
            by_app[s.pid] = (own, [run for server in servers for run in kids.get(server, []) if _cwd(run) == folder])
        return by_app, servers

    def pss(self) -> tuple[list[float], dict[str, float]]:
        """Each session's PSS (MB), with an equal share of any server it shares; medians by role."""
        if self.torch_server is not None:
            return self._pss_with_class_server(self.torch_server[1])
        by_app, servers = self.census()
        mine = {p for own, _ in by_app.values() for p in own}
        share = pss_mb([p for p in servers if p not in mine]) / len(self.sessions)
        per, roles = [], {"UI": [], "fork server": [], "run": []}
        for app, (own, runs) in by_app.items():
            per.append(pss_mb(own) + pss_mb(runs) + share)
            roles["UI"].append(pss_mb([app]))
            roles["fork server"].append(pss_mb(own[1:]) + share)
            roles["run"].append(pss_mb(runs))
        return per, {role: statistics.median(v) for role, v in roles.items()}

    def _pss_with_class_server(self, server: int) -> tuple[list[float], dict[str, float]]:
        """Each session: its own processes (the UI, any server of its own), and an equal share of the class's
        torch server and of every run it forked (they work in ``/``, not in a session's folder)."""
        runs = children().get(server, [])
        share_server, share_runs = pss_mb([server]) / len(self.sessions), pss_mb(runs) / len(self.sessions)
        per, roles = [], {"UI": [], "fork server": [], "run": []}
        for s in self.sessions:
            own = tree(s.pid)
            per.append(pss_mb(own) + share_server + share_runs)
            roles["UI"].append(pss_mb([s.pid]))
            roles["fork server"].append(pss_mb(own[1:]) + share_server)
            roles["run"].append(share_runs)
        return per, {role: statistics.median(v) for role, v in roles.items()}

    def processes(self) -> list[int]:
        """Processes a session has: its own, plus its run (one each, forked by the class's server)."""
        if self.torch_server is not None:
            return [len(tree(s.pid)) + 1 for s in self.sessions]
        return [len(own) + len(runs) for own, runs in self.census()[0].values()]

    def close(self) -> None:
        by_app, servers = self.census()
        for pid in {
            *(p for s in self.sessions for p in tree(s.pid)),
            *(r for _, runs in by_app.values() for r in runs),
        }:
            _kill(pid)
        for pid in servers:
            _kill(pid)
        for s in self.sessions:
            try:
                s.close(timeout=1)
            except OSError:
                pass
        for folder in [*self.folders, self.runtime]:
            shutil.rmtree(folder, ignore_errors=True)


def _server_of_its_own(pid: int) -> bool:
    """A session's own fork server (a user's shared one is started with its lock file's path)."""
    line = cmdline(pid)
    return "forkserver" in line and ".lock" not in line


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def keep_reading(sessions: list[PtyProcess], seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in sessions:
            s.drain(0.01)


def key_latencies(student: PtyProcess, others: list[PtyProcess], presses: int) -> list[float]:
    """Milliseconds from a tab key to the frame showing that tab, ``presses`` times."""
    student.send(b"\x1b")  # leave the form: single-letter keys are commands
    keep_reading([student, *others], 1.0)
    out = []
    for i in range(presses):
        key, title = (b"2", rb"\bfit\b") if i % 2 == 0 else (b"1", rb"\bloss\b")
        mark = len(student.output)
        student.send(key)
        sent = time.perf_counter()
        pattern = re.compile(title)
        seen = None
        while seen is None and time.perf_counter() - sent < 5:
            if pattern.search(_ESCAPES.sub(b"", bytes(student.output[mark:]))):
                seen = time.perf_counter()
                break
            student.read_until(lambda _: False, 0.002)
        out.append(((seen or time.perf_counter()) - sent) * 1000)
        for s in others:  # the rest of the class keeps being read, as their terminals would
            s.drain(0.005)
        keep_reading([student], 0.1)
    return out


def end_all(klass: Class) -> tuple[dict[str, list[float]], list[int]]:
    """End each session one of the ways; seconds until its processes were gone, and leftover pids (any server too)."""
    sessions = klass.sessions
    by_app, servers = klass.census()
    theirs = {app: own + runs for app, (own, runs) in by_app.items()}
    everyone = {p for pids in theirs.values() for p in pids} | set(servers)
    took: dict[str, list[float]] = {how: [] for how in ENDINGS}
    for i, s in enumerate(sessions):
        how = ENDINGS[i % len(ENDINGS)]
        asked = time.monotonic()
        if how == "ctrl+q":
            s.send(b"\x11")
        elif how == "hang-up":
            os.close(s.master)
            s.master = os.open("/dev/null", os.O_RDONLY)  # so that close() has something to close
        else:
            os.kill(s.pid, getattr(signal, how))
        while any(alive(p) for p in theirs[s.pid]) and time.monotonic() - asked < 10:
            if how != "hang-up":
                s.drain(0.01)
            else:
                time.sleep(0.01)
            s.proc.poll()
        took[how].append(time.monotonic() - asked)
    time.sleep(1.0)
    leftovers = [p for p in everyone if alive(p)]
    return took, leftovers


def measured(klass: Class) -> tuple[list[float], dict[str, float], list[int]]:
    """Once every session trains past start-up: each one's PSS, the medians by role, the processes of each;
    then the class is ended."""
    try:
        keep_reading(klass.sessions, 5.0)
        per, roles = klass.pss()
        return per, roles, klass.processes()
    finally:
        klass.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--keys", type=int, default=50)
    args = parser.parse_args()
    klass = Class(args.sessions, shared=True)
    try:
        keep_reading(klass.sessions, 5.0)  # everyone training, past start-up
        per, roles = klass.pss()
        by_app, shared_servers = klass.census()
        procs = [len(own) + len(runs) for own, runs in by_app.values()]
        servers = len(shared_servers)
        latencies = key_latencies(klass.sessions[0], klass.sessions[1:], args.keys)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
        took, leftovers = end_all(klass)
    finally:
        klass.close()
    per_each, roles_each, procs_each = measured(Class(args.sessions, shared=False))  # separate accounts
    folder = tempfile.mkdtemp(prefix="qt-class-")  # a short path: the socket's must be under 108 bytes
    teacher = subprocess.Popen(
        quadtui_argv("--class", folder, "--torch-server"), env=python_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        line = teacher.stdout.readline() if teacher.stdout else ""
        if "(pid " not in line:
            raise SystemExit(f"the class's torch server did not start: {line!r}")
        server_pid = int(line.split("(pid ")[1].split(")")[0])
        taught = Class(args.sessions, shared=False, torch_server=(folder, server_pid))
        per_taught, roles_taught, procs_taught = measured(taught)
    finally:
        teacher.send_signal(signal.SIGTERM)
        teacher.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    with open("/proc/meminfo") as f:
        total_mb = int(f.readline().split()[1]) / 1024
    print(f"{'sessions':<44}{args.sessions} at 80x24 on {os.cpu_count()} cores, all training")
    for how, pss, parts, counts, extra in (
        ("one account", per, roles, procs, f" + {servers} shared fork server"),
        ("separate accounts", per_each, roles_each, procs_each, ""),
        ("accounts, class server", per_taught, roles_taught, procs_taught, " + the class's torch server"),
    ):
        print(
            f"PSS a session, {how + ' (MB)':<28} median {statistics.median(pss):.0f}, max {max(pss):.0f}"
            f"   target <= {PSS_TARGET_MB:.0f};  class {sum(pss):.0f} of {total_mb:.0f}"
        )
        print(
            f"{'  of which (median MB)':<44}UI {parts['UI']:.0f}, fork server {parts['fork server']:.0f}, "
            f"run {parts['run']:.0f};  processes a session {min(counts)}-{max(counts)}{extra}"
        )
    print(f"{'key to frame (ms)':<44}p50 {p50:.0f}, p95 {p95:.0f}   target p95 <= {KEY_P95_TARGET_MS:.0f}")
    for how, seconds in took.items():
        if seconds:
            print(f"{'ended by ' + how:<44}{len(seconds)} sessions, all gone in <= {max(seconds):.2f} s")
    print(f"{'leftover processes':<44}{len(leftovers)}   target 0")
    # the target holds for what quadtui sets up: one account's sessions, and separate accounts' with the class's
    # torch server; without it each account loads a torch of its own (printed above, for comparison)
    worst = max(statistics.median(per), statistics.median(per_taught))
    over = worst > PSS_TARGET_MB or p95 > KEY_P95_TARGET_MS or leftovers
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
