"""A class on one server: N students' sessions training at once, what each costs, how keys answer, how they end.

    python benchmarks/classroom.py               # 20 sessions at 80x24
    python benchmarks/classroom.py --sessions 8 --keys 30

Starts N app sessions in real pseudo-terminals at 80x24 (as N SSH logins would),
each training the default config without end at full speed (``--run --epochs 10000000
--speed full``: the most a class can ask of the machine), then:

1. memory: each session's PSS (``/proc/PID/smaps_rollup``, summed over all of the
   session's processes: UI, fork server, training process) and
   the total, beside the machine's memory;
2. keys: in one session, the time from a key (``2`` / ``1``: switch the chart tab)
   to the frame that shows its effect, p50 / p95 over ``--keys`` presses, while
   every session trains;
3. ending: the sessions are ended in turn by ctrl+q, SIGTERM, SIGHUP, SIGKILL of
   the app, and the terminal hanging up (the SSH connection dropping); then every
   process any session had is looked for.

Targets: <= 200 MB PSS a session, key-to-frame p95 <= 150 ms, 0 leftover processes.
Prints a table; exits 1 over a target.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

from benchmarks.idle import tree  # noqa: E402
from benchmarks.ptyrun import PtyProcess, alive, quadtui_argv  # noqa: E402

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


def by_role(app: int) -> dict[str, float]:
    """A session's PSS by process: the app's UI, its fork server (the app's child), the run (the server's)."""
    pids = tree(app)
    server = [pid for pid in pids[1:] if _parent(pid) == app]
    return {"UI": pss_mb([app]), "fork server": pss_mb(server), "run": pss_mb([p for p in pids[1:] if p not in server])}


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def start(n: int) -> list[PtyProcess]:
    sessions = []
    for _ in range(n):
        sessions.append(PtyProcess(quadtui_argv("--run", "--epochs", "10000000", "--speed", "full"), 80, 24))
        sessions[-1].drain(0.3)
    deadline = time.monotonic() + 60 + 5 * n
    for s in sessions:  # each has its run's process (app, fork server, run)
        while len(tree(s.pid)) < 3 and time.monotonic() < deadline:
            for other in sessions:
                other.drain(0.02)
    return sessions


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


def end_all(sessions: list[PtyProcess]) -> tuple[dict[str, list[float]], list[int]]:
    """End each session one of the ways; seconds until its processes were gone, and leftover pids."""
    everyone = {s.pid: tree(s.pid) for s in sessions}
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
        while any(alive(p) for p in everyone[s.pid]) and time.monotonic() - asked < 10:
            if how != "hang-up":
                s.drain(0.01)
            else:
                time.sleep(0.01)
            s.proc.poll()
        took[how].append(time.monotonic() - asked)
    time.sleep(1.0)
    leftovers = [p for pids in everyone.values() for p in pids if alive(p)]
    return took, leftovers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--keys", type=int, default=50)
    args = parser.parse_args()
    sessions = start(args.sessions)
    try:
        keep_reading(sessions, 5.0)  # everyone training, past start-up
        per = [pss_mb(tree(s.pid)) for s in sessions]
        roles = [by_role(s.pid) for s in sessions]
        procs = [len(tree(s.pid)) for s in sessions]
        latencies = key_latencies(sessions[0], sessions[1:], args.keys)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
        took, leftovers = end_all(sessions)
    finally:
        for s in sessions:
            for pid in tree(s.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                s.close(timeout=1)
            except OSError:
                pass
    with open("/proc/meminfo") as f:
        total_mb = int(f.readline().split()[1]) / 1024
    print(f"sessions                    {args.sessions} at 80x24 on {os.cpu_count()} cores, all training")
    print(
        f"PSS a session (MB)          median {statistics.median(per):.0f}, max {max(per):.0f}"
        f"   target <= {PSS_TARGET_MB:.0f}"
    )
    print(
        "  of which (median MB)      "
        + ", ".join(f"{role} {statistics.median(r[role] for r in roles):.0f}" for role in ("UI", "fork server", "run"))
    )
    print(f"processes a session         {min(procs)}-{max(procs)}")
    print(f"PSS of the class (MB)       {sum(per):.0f} of {total_mb:.0f}")
    print(f"key to frame (ms)           p50 {p50:.0f}, p95 {p95:.0f}   target p95 <= {KEY_P95_TARGET_MS:.0f}")
    for how, seconds in took.items():
        if seconds:
            print(f"ended by {how:<18}  {len(seconds)} sessions, all gone in <= {max(seconds):.2f} s")
    print(f"leftover processes          {len(leftovers)}   target 0")
    over = statistics.median(per) > PSS_TARGET_MB or p95 > KEY_P95_TARGET_MS or leftovers
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
