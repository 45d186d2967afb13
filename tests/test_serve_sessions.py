"""``quadtui --serve`` tested as a browser uses it: HTTP and a websocket to a real server process.

Pages follow the request (another Host, a tunnel's port); sessions are capped,
sized, ended with their browser (or kept for a reload), and end with the
server however it ends; an export arrives as a download.  Processes are
counted through /proc (a session's processes share its session id).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest

aiohttp = pytest.importorskip("aiohttp", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
pytest.importorskip("textual_serve", reason="--serve needs textual-serve (pip install 'quadtui[web]')")
from benchmarks.ptyrun import alive  # noqa: E402
from quadtui.web.server import full_message  # noqa: E402
from quadtui.web.session import MAX_HEIGHT, MAX_WIDTH  # noqa: E402
from tests.serving import (  # noqa: E402
    END_SECONDS,
    LOOPBACK,
    START_SECONDS,
    PortMappingProxy,
    Served,
    environment_of,
    first_output,
    free_place,
    in_session,
    needs_proc,
    parent_of,
    pumped,
    screen_shows,
    session_token,
    settled,
    training_children,
    wait_for,
)


@pytest.fixture(scope="module")
def server():
    """One server for the page and session tests: one place, no reload grace; a run, once F5 starts it, trains on."""
    served = Served("--max-sessions", "1", "--reload-grace", "0", "--epochs", "10000000", "--hidden", "64")
    yield served
    served.end()


# -- the page ----------------------------------------------------------------------------------
async def test_page_follows_the_request_not_the_bind_address(server):
    async with aiohttp.ClientSession() as http:
        await free_place(http, server.url)
        async with http.get(server.url, headers={"Host": "classroom.example:8443"}) as reply:
            page = await reply.text()
            assert reply.status == 200
        async with http.get(urljoin(server.url, re.search(r'<script src="([^"]+)"', page)[1])) as script:
            assert script.status == 200  # the relative asset URL resolves against the page
    assert "<title>quadtui</title>" in page
    assert str(server.port) not in page and LOOPBACK not in page and "localhost" not in page
    assert 'data-session-websocket-url="ws"' in page  # resolved against the page's own address
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page fetches nothing from elsewhere"
    assert "fonts.googleapis" not in page and "@font-face" not in page
    assert "beforeunload" in page and ".focus()" in page


# -- a session: through a tunnel, capped, sized, ended with its browser ------------------------
@needs_proc
async def test_a_session_through_a_port_mapping_proxy_is_capped_sized_trains_on_f5_and_ends_with_its_browser(server):
    async with PortMappingProxy(server.port) as proxy, aiohttp.ClientSession() as http:
        page_url = proxy.url  # a port the server never heard of
        await free_place(http, page_url)
        async with http.get(page_url) as reply:
            page = await reply.text()
        socket_url = urljoin(page_url, re.search(r'data-session-websocket-url="([^"]+)"', page)[1])
        async with http.ws_connect(socket_url + "?width=2000&height=1000") as ws:
            assert b"\x1b[" in await first_output(ws)  # the app draws, through the proxy
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            env = environment_of(pid)
            assert (int(env["COLUMNS"]), int(env["ROWS"])) == (MAX_WIDTH, MAX_HEIGHT) == (300, 100)
            folder = Path(env["QUADTUI_SESSION_DIR"])
            assert folder.is_dir() and os.readlink(f"/proc/{pid}/cwd") == str(folder)
            # the next browser is told the server is full, on the page and on the websocket
            async with http.get(page_url) as reply:
                assert reply.status == 503 and full_message(1) in await reply.text()
            async with http.ws_connect(socket_url) as second:
                closing = await asyncio.wait_for(second.receive(), 30)
                while closing.type == aiohttp.WSMsgType.BINARY:
                    closing = await asyncio.wait_for(second.receive(), 30)
                assert closing.type == aiohttp.WSMsgType.CLOSE and "in use" in closing.extra
            assert not training_children(pid)
            await ws.send_json(["stdin", "\x1b[15~"])  # F5, as the browser's terminal sends it
            runs = await pumped(ws, lambda: training_children(pid), "F5 to start a run (a training child)")
            assert [parent_of(run) for run in runs] == [server.fork_server()]  # forked by the class's one torch
        closed = time.monotonic()  # the browser is gone: the whole group must follow, and its run
        await settled(lambda: not in_session(pid), "the session's processes to end", END_SECONDS)
        await settled(lambda: not any(map(alive, runs)), "the session's run to end", END_SECONDS)
        print(f"session ended {time.monotonic() - closed:.2f} s after its websocket closed")
        await settled(lambda: not folder.exists(), "the session's temporary folder to go", END_SECONDS)
        async with http.get(page_url) as reply:  # the place is free again
            assert reply.status == 200


@needs_proc
async def test_an_export_arrives_as_a_browser_download(server):
    async with aiohttp.ClientSession() as http:
        await free_place(http, server.url)
        async with http.ws_connect(server.url + "ws?width=120&height=40") as ws:
            await first_output(ws)
            await ws.send_json(["stdin", "\x1b[15~"])  # F5: train
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            await pumped(ws, lambda: training_children(pid), "the run to start")
            await ws.send_json(["stdin", "\x1b[17~\x1b[18~"])  # F6 pause, F7 one more epoch: the app idles
            for _ in range(60):  # F4 (export) once the run has a first epoch on screen; bounded
                await ws.send_json(["stdin", "\x1bOS"])
                if await screen_shows(ws, b"Export the run", 2):
                    break
            else:
                raise AssertionError("the export question never came")
            await ws.send_json(["stdin", "run1\r"])  # typed after the default name; Enter
            key = None
            deadline = time.monotonic() + START_SECONDS
            while key is None and time.monotonic() < deadline:
                message = await ws.receive(timeout=START_SECONDS)
                if message.type == aiohttp.WSMsgType.TEXT and message.json()[0] == "deliver_file_start":
                    key = message.json()[1]
            assert key, "no download was offered"
            async with http.get(urljoin(server.url, f"download/{key}")) as reply:
                assert reply.status == 200 and "attachment" in reply.headers["Content-Disposition"]
                assert reply.headers["Content-Disposition"].endswith("run1.zip")
                data = await reply.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert any(name.endswith("/config.toml") for name in archive.namelist())
        config = next(archive.read(n) for n in archive.namelist() if n.endswith("config.toml"))
        assert b"of the run's 10,000,000 epochs" in config  # a mid-run export says what it is


@needs_proc
async def test_a_file_dropped_on_the_page_lands_in_the_session_folder_only(server):
    async with aiohttp.ClientSession() as http:
        await free_place(http, server.url)
        async with http.ws_connect(server.url + "ws/new") as ws:
            token = await session_token(ws)
            await first_output(ws)
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            folder = Path(environment_of(pid)["QUADTUI_SESSION_DIR"])
            upload = server.url + f"upload/{token}"
            async with http.post(upload, params={"name": "../My Config.toml"}, data=b"hidden = 6\n") as reply:
                assert reply.status == 200 and "load it with ctrl+o" in await reply.text()
            assert (folder / "My_Config.toml").read_bytes() == b"hidden = 6\n"
            assert not (folder.parent / "My Config.toml").exists()
            async with http.post(upload, params={"name": "My_Config.toml"}, data=b"hidden = 7\n") as reply:
                assert reply.status == 409 and "already in your folder" in await reply.text()
            async with http.post(upload, params={"name": "big.toml"}, data=b"#" * (2 * 1024 * 1024)) as reply:
                assert reply.status == 413 and "too big" in await reply.text()
            async with http.post(server.url + "upload/not-a-session", params={"name": "x"}, data=b"x") as reply:
                assert reply.status == 404
            assert sorted(p.name for p in folder.iterdir()) == ["My_Config.toml"]


@needs_proc
async def test_the_sessions_of_a_class_share_one_torch_and_each_run_ends_with_its_own_session():
    served = Served("--max-sessions", "2", "--reload-grace", "0", "--epochs", "10000000")
    try:
        async with aiohttp.ClientSession() as http:
            ada = await http.ws_connect(served.url + "ws")
            await first_output(ada)
            (ada_app,) = await pumped(ada, served.session_pids, "ada's session", 10)
            async with http.ws_connect(served.url + "ws") as bob:
                await first_output(bob)
                others = lambda: [pid for pid in served.session_pids() if pid != ada_app]  # noqa: E731
                (bob_app,) = await pumped(bob, others, "bob's session", 10)
                runs = {}
                for ws, app in ((ada, ada_app), (bob, bob_app)):
                    await ws.send_json(["stdin", "\x1b[15~"])  # F5
                    (runs[app],) = await pumped(ws, lambda app=app: training_children(app), "the run to start")
                torch_server = served.fork_server()
                for app, run in runs.items():
                    assert in_session(app) == [app]  # the app alone: no fork server, no torch of its own
                    assert parent_of(run) == torch_server  # its run forked by the class's one torch
                    assert os.readlink(f"/proc/{run}/cwd") == os.readlink(f"/proc/{app}/cwd")  # in its own folder
                await ada.close()  # ada leaves: her run goes, bob's trains on
                await settled(lambda: not alive(runs[ada_app]), "ada's run to end", END_SECONDS)
                assert alive(runs[bob_app]) and alive(torch_server)
            await settled(lambda: not alive(runs[bob_app]), "bob's run to end", END_SECONDS)
            assert alive(torch_server)  # the class's torch waits for the next student
    finally:
        served.end()


@needs_proc
async def test_a_tab_closed_as_the_server_ends_leaves_no_folder_behind():
    """The tab's ending and the server's are the same ending: the server waits for it, folder and all."""
    served = Served("--max-sessions", "1", "--reload-grace", "0")
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(served.url + "ws")
            await first_output(ws)
            (pid,) = await pumped(ws, served.session_pids, "the session's process", 10)
            folder = Path(environment_of(pid)["QUADTUI_SESSION_DIR"])
            await ws.close()
            served.process.terminate()  # at once: the teacher's ctrl+c as the student's tab closes
            served.process.wait(timeout=30)
        assert not folder.exists()
    finally:
        served.end()


@needs_proc
async def test_a_dropped_connection_ends_its_session(server):
    async with PortMappingProxy(server.port) as proxy, aiohttp.ClientSession() as http:
        await free_place(http, proxy.url)
        async with http.ws_connect(proxy.url + "ws") as ws:
            await first_output(ws)
            (pid,) = await pumped(ws, server.session_pids, "the session's process", 10)
            dropped = time.monotonic()
            proxy.drop()  # no close frame: the connection is simply gone
            await settled(lambda: not in_session(pid), "the session's processes to end", END_SECONDS)
            print(f"session ended {time.monotonic() - dropped:.2f} s after its connection dropped")


@needs_proc
async def test_a_reloaded_tab_gets_its_session_back_within_the_grace_period_and_not_after():
    grace = 5
    served = Served("--max-sessions", "1", "--reload-grace", str(grace), "--epochs", "10000000")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(served.url + "ws/new?width=100&height=30") as ws:
                token = await session_token(ws)
                await first_output(ws)
                (pid,) = await pumped(ws, served.session_pids, "the session's process", 10)
                await ws.send_json(["stdin", "\x1b[15~"])  # F5: a run to come back to
                await pumped(ws, lambda: training_children(pid), "the run to start")
                await ws.send_json(["stdin", "\x1b[17~"])  # F6: paused, it waits for us (and spares the CPU)
            # the tab reloads: the same token, a new websocket
            async with http.ws_connect(served.url + f"ws/{token}?width=100&height=30") as ws:
                assert await session_token(ws) == token
                assert await screen_shows(ws, b" settings ", START_SECONDS), "the app did not redraw for the new tab"
                assert served.session_pids() == [pid] and training_children(pid)  # the same app, its run still there
            closed = time.monotonic()
            await settled(lambda: in_session(pid) == [], "the session to end after its grace", grace + 10)
            kept = time.monotonic() - closed
            print(f"a closed tab's session kept {kept:.2f} s (grace {grace} s)")
            assert kept >= grace - 1
            await free_place(http, served.url)  # the ended session's place is given back
            async with http.ws_connect(served.url + f"ws/{token}") as ws:  # too late: a new session
                assert await session_token(ws) != token
    finally:
        served.end()


# -- the server's end ends every session -------------------------------------------------------
@needs_proc
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_the_servers_end_ends_its_sessions(how):
    served = Served("--max-sessions", "2", "--epochs", "10000000")
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(served.url + "ws?width=80&height=24") as ws:
            await first_output(ws)
            (pid,) = await pumped(ws, served.session_pids, "the session's process", 10)
            await ws.send_json(["stdin", "\x1b[15~"])  # F5: a run training, mid-epoch, when the server goes
            runs = await pumped(ws, lambda: training_children(pid), "the run to start")
            folder = Path(environment_of(pid)["QUADTUI_SESSION_DIR"])
            torch_server = served.fork_server()
            killed = time.monotonic()
            os.kill(served.process.pid, how)
            wait_for(lambda: not in_session(pid), "the session to end with its server", 10)
            wait_for(lambda: not any(map(alive, [torch_server, *runs])), "the fork server and the run to end", 10)
            print(f"session ended {time.monotonic() - killed:.2f} s after the server's {how.name}")
            wait_for(lambda: not folder.exists(), "the temporary session folder to go", 10)
    finally:
        served.end()
