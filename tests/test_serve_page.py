"""The served page's own script, run in Node with a small stand-in for the browser (no browser here).

It checks what a browser would do with the page: where the websocket goes (the
page's own address, through a tunnel or under a proxy's path), that the
terminal gets the keys as soon as it exists (no click), that leaving asks first
while a session is live, and that downloads and the server's closing reason are
handled.  Skipped without ``node``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

jinja2 = pytest.importorskip("jinja2")
NODE = shutil.which("node") or shutil.which("nodejs")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node to run the page's script")
TEMPLATES = Path(__file__).resolve().parents[1] / "quadtui" / "web" / "templates"

HARNESS = r"""
const vm = require("vm");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const html = input.html;
const script = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(m => m[1]).join("\n");
const attr = name => (html.match(new RegExp(name + '="([^"]*)"')) || [])[1];
const out = {};
const timers = [];
function element(tag) {
  return {
    tag, dataset: {}, textContent: "", listeners: {},
    classList: { names: new Set(), add(c) { this.names.add(c); }, contains(c) { return this.names.has(c); } },
    addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); },
    focus() { document.activeElement = this; out.focused = (out.focused || 0) + 1; },
    click() { out.clicked = this.href; out.downloadAttr = this.download; },
    remove() {}, appendChild() {},
    querySelector(sel) { return sel === "textarea" ? this.textarea || null : null; },
  };
}
const terminal = element("div");
terminal.dataset.sessionWebsocketUrl = attr("data-session-websocket-url");
terminal.dataset.downloadUrl = attr("data-download-url");
terminal.dataset.uploadUrl = attr("data-upload-url");
const ended = element("p");
const toast = element("div");
const body = element("body");
const document = {
  body, activeElement: null, listeners: {},
  getElementById(id) {
    return { terminal, "ended-message": ended, toast }[id] || null;
  },
  createElement: element,
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); },
};
class NativeSocket {
  constructor(url) { this.url = url; this.listeners = {}; out.nativeSocket = url; }
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); }
}
const location = new URL(input.page);
const stored = {};
if (input.token) stored["quadtui-session"] = input.token;
const sessionStorage = {
  getItem(k) { return k in stored ? stored[k] : null; },
  setItem(k, v) { stored[k] = String(v); },
};
const window = {
  location, listeners: {},
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); },
  setTimeout(f) { timers.push(f); return timers.length; },
  clearTimeout() {},
  fetch(url, options) {
    out.fetched = { url, method: options.method, body: options.body };
    return Promise.resolve({ text: () => Promise.resolve("my_config.toml is in your folder now") });
  },
  open(url, target) { out.nativeOpen = url; return null; },
  WebSocket: NativeSocket, sessionStorage,
};
const fire = (target, type, event) => (target.listeners[type] || []).forEach(f => f(event));
const drain = () => { for (let i = 0; i < 10 && timers.length; i++) timers.splice(0).forEach(f => f()); };
vm.runInNewContext(script, { window, document, URL, console });

out.socketUrl = terminal.dataset.sessionWebsocketUrl;
fire(window, "load", {});
drain();                                            // textual.js has not made the terminal yet: keep trying
out.focusedBeforeTerminal = out.focused || 0;
terminal.textarea = element("textarea");            // now it has
drain();
out.focusedTextarea = document.activeElement === terminal.textarea;

const leave = () => {
  let asked = false;
  fire(window, "beforeunload", { preventDefault() { asked = true; } });
  return asked;
};
out.asksBeforeConnected = leave();
body.classList.add("-loaded");
out.asksWhileLive = leave();
body.classList.add("-closed");
out.asksAfterEnd = leave();

window.open(location.origin + "/download/abc123?instance=9", "_blank");
window.open("https://example.org/docs", "_blank");

const socket = new window.WebSocket("ws://x/ws");
fire(socket, "message", { data: '["quadtui_session", "tok-123"]' });
fire(socket, "message", { data: new Uint8Array(4) });
out.storedToken = stored["quadtui-session"];
fire(socket, "close", { reason: "All 20 quadtui sessions on this server are in use." });
out.endedMessage = ended.textContent;

fire(document, "drop", { preventDefault() {}, dataTransfer: { files: [{ name: "my config.toml" }] } });
setImmediate(() => {
  out.toast = toast.textContent;
  console.log(JSON.stringify(out));
});
"""


def render(**context) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    defaults = {
        "title": "quadtui",
        "font_size": 16,
        "full": "",
        "urls": {"static": "static/", "websocket": "ws", "download": "download/", "upload": "upload/"},
    }
    return env.get_template("quadtui.html").render(**{**defaults, **context})


def run_page(html: str, page: str, token: str = "") -> dict:
    done = subprocess.run(
        [NODE, "-e", HARNESS],
        input=json.dumps({"html": html, "page": page, "token": token}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "page,socket",
    [
        ("http://127.0.0.1:9999/", "ws://127.0.0.1:9999/ws/new"),  # an SSH tunnel on another port
        ("http://classroom.example/?fontsize=20#top", "ws://classroom.example/ws/new"),
        ("https://school.example/quadtui/", "wss://school.example/quadtui/ws/new"),  # a proxy with TLS and a path
    ],
)
def test_the_websocket_is_the_pages_own_address(page: str, socket: str) -> None:
    assert run_page(render(), page)["socketUrl"] == socket


def test_a_public_url_wins_over_the_pages_address() -> None:
    html = render(
        urls={
            "static": "https://p.example/q/static/",
            "websocket": "wss://p.example/q/ws",
            "download": "https://p.example/q/download/",
            "upload": "https://p.example/q/upload/",
        }
    )
    assert run_page(html, "http://127.0.0.1:8000/")["socketUrl"] == "wss://p.example/q/ws/new"


def test_a_reloaded_tab_asks_for_its_session_and_keeps_the_token_it_is_given() -> None:
    out = run_page(render(), "http://127.0.0.1:8000/", token="abc_DEF-9")
    assert out["socketUrl"] == "ws://127.0.0.1:8000/ws/abc_DEF-9"
    assert out["storedToken"] == "tok-123"  # what the server said this tab's session is


def test_the_terminal_gets_the_keys_as_soon_as_it_exists() -> None:
    out = run_page(render(), "http://127.0.0.1:8000/")
    assert out["focusedBeforeTerminal"] == 0 and out["focusedTextarea"]


def test_leaving_asks_first_only_while_a_session_is_live() -> None:
    out = run_page(render(), "http://127.0.0.1:8000/")
    assert (out["asksBeforeConnected"], out["asksWhileLive"], out["asksAfterEnd"]) == (False, True, False)


def test_downloads_come_from_the_pages_own_server_path_and_other_links_open_as_usual() -> None:
    out = run_page(render(), "https://school.example/quadtui/")
    assert out["clicked"] == "https://school.example/quadtui/download/abc123?instance=9"
    assert out["downloadAttr"] == "" and out["nativeOpen"] == "https://example.org/docs"


def test_the_servers_reason_for_closing_is_shown() -> None:
    out = run_page(render(), "http://127.0.0.1:8000/")
    assert out["endedMessage"].startswith("All 20 quadtui sessions") and out["nativeSocket"] == "ws://x/ws"


def test_a_dropped_file_is_uploaded_to_the_tabs_session_and_the_answer_shown() -> None:
    out = run_page(render(), "https://school.example/quadtui/")
    assert out["fetched"] == {
        "url": "https://school.example/quadtui/upload/tok-123?name=my+config.toml",
        "method": "POST",
        "body": {"name": "my config.toml"},
    }
    assert out["toast"] == "my_config.toml is in your folder now"


def test_a_full_server_page_says_so_and_loads_no_terminal() -> None:
    html = render(full="All 20 quadtui sessions on this server are in use.")
    assert "All 20 quadtui sessions" in html and "textual.js" not in html and 'id="terminal"' not in html
