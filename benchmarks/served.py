"""A class in the browser: what each ``quadtui --serve`` session costs with one torch for the class, and without.

    python benchmarks/served.py                  # 20 sessions, both ways
    python benchmarks/served.py --sessions 8

Starts ``quadtui --serve`` on a free loopback port and opens N sessions through
its websocket (as N browser tabs would, 80x24), each training the default config
without end at full speed (F5 with ``--epochs 10000000 --speed full``), the
websockets read all along.  Then, per session, PSS (``/proc/PID/smaps_rollup``)
of everything that is the session's: its app, the processes forked for it (its
run; with a fork server of its own, that server too) and, with the class's shared
fork server, an Nth of that server.  Measured twice, side by side: with the
shared fork server (the default) and with ``QUADTUI_SHARED_TORCH=0`` (each
session loads torch itself, as in a terminal).

Target (issue: a shared teaching server): <= 200 MB PSS a session.  Exits 1 over it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout

from benchmarks.classroom import pss_mb  # noqa: E402
from benchmarks.ptyrun import children, cmdline, descendants  # noqa: E402

PSS_TARGET_MB = 200.0
F5 = "\x1b[15~"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cwd_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


async def drain(ws: aiohttp.ClientWebSocketResponse, drawn: asyncio.Event) -> None:
    """Read a tab's output for as long as it lasts, as a browser would; ``drawn`` once the app has drawn."""
    got = 0
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            got += len(message.data)
            if got > 1000:
                drawn.set()


async def measure(sessions: int, shared: bool) -> tuple[list[float], float, int]:
    """(PSS of each session in MB, PSS of the --serve process itself, processes a session)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QUADTUI_SHARED_TORCH": "1" if shared else "0"}
    serve = subprocess.Popen(
        [sys.executable, "-m", "quadtui", "--serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--max-sessions", str(sessions), "--reload-grace", "0", "--epochs", "10000000", "--speed", "full"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + 90
            while True:
                try:
                    async with http.get(url):
                        break
                except aiohttp.ClientConnectionError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    await asyncio.sleep(0.2)
            sockets = [await http.ws_connect(url + "ws?width=80&height=24") for _ in range(sessions)]
            drawn = [asyncio.Event() for _ in sockets]
            readers = [asyncio.create_task(drain(ws, event)) for ws, event in zip(sockets, drawn, strict=True)]
            for ws, event in zip(sockets, drawn, strict=True):
                await asyncio.wait_for(event.wait(), 120)
                await ws.send_json(["stdin", F5])  # drawn: the key is the app's (it trains once torch is ready)
            deadline = time.monotonic() + 60 + 5 * sessions
            while sum(bool(runs) for _, runs in runs_by_app(serve.pid)[0].values()) < sessions:
                if time.monotonic() > deadline:
                    raise SystemExit("not every session started its run")
                await asyncio.sleep(0.5)
            await asyncio.sleep(5)  # everyone training, past start-up
            by_app, servers = runs_by_app(serve.pid)
            share = pss_mb(servers) / len(by_app) if servers else 0.0
            per = [pss_mb(sorted({app, *own, *runs})) + share for app, (own, runs) in by_app.items()]
            procs = max(1 + len(set(own) | set(runs)) for own, runs in by_app.values())
            own = pss_mb([serve.pid])
            for ws in sockets:
                await ws.close()
            for reader in readers:
                reader.cancel()
            return per, own, procs
    finally:  # as a teacher's ctrl+c would: every session ends and removes its folder
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def runs_by_app(serve: int) -> tuple[dict[int, tuple[list[int], list[int]]], list[int]]:
    """Each served app's own processes (its descendants: a fork server of its own and its run) and its runs
    (forked for it, by either fork server); and the class's shared fork server(s)."""
    kids = children()
    apps = [pid for pid in kids.get(serve, []) if "forkserver" not in cmdline(pid)]
    shared = [pid for pid in kids.get(serve, []) if "forkserver" in cmdline(pid)]
    by_app: dict[int, tuple[list[int], list[int]]] = {}
    for app in apps:
        own = descendants(app)
        by_app[app] = (own, [run for server in own if "forkserver" in cmdline(server) for run in kids.get(server, [])])
    folders = {cwd_of(app): app for app in apps}
    for server in shared:
        for run in kids.get(server, []):
            app = folders.get(cwd_of(run))
            if app is not None:
                by_app[app][1].append(run)
    return by_app, shared


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    results = {}
    for shared in (True, False):
        results[shared] = asyncio.run(measure(args.sessions, shared))
    print(f"sessions                         {args.sessions} browser tabs at 80x24 on {os.cpu_count()} cores, training")
    for shared, (per, own, procs) in results.items():
        how = "one torch for the class" if shared else "a torch each (QUADTUI_SHARED_TORCH=0)"
        print(
            f"{how:<40} PSS a session median {statistics.median(per):.0f} MB, max {max(per):.0f}; "
            f"class {sum(per):.0f} MB; {procs} processes a session; --serve itself {own:.0f} MB"
        )
    ratio = statistics.median(results[False][0]) / statistics.median(results[True][0])
    print(f"a torch each / one torch         {ratio:.1f}x   target <= {PSS_TARGET_MB:.0f} MB a session")
    return 1 if statistics.median(results[True][0]) > PSS_TARGET_MB else 0


if __name__ == "__main__":
    sys.exit(main())
