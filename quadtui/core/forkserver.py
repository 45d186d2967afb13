"""A fork server of our own: one process imports torch once, and each run is forked from it.

The app's UI process never imports torch (it would cost every student ~150 MB), so
whatever trains runs elsewhere; forking it from a process that has torch loaded
makes a run start in milliseconds instead of the seconds an import takes.

Why not :mod:`multiprocessing`'s fork server: it starts a resource tracker beside
itself, a fourth process a session that quadtui never needs, and it runs its
children's garbage collector over every object the server imported — Python's
collector writes to each object it visits, so the copy-on-write pages forked from
the server turn into private copies in every run (~17 MB a run, and the server's
own copy of each page becomes private as well).  Here the server freezes what it
imported (:func:`gc.freeze`) before it forks, so those pages stay shared.

It also runs the children's code once before it forks (:data:`PRELOAD`'s
``module:function`` entries): Python 3.11 rewrites a function's bytecode in place as
it specializes it on its first calls, so every run would otherwise write to — and
get a private copy of — each page of torch's code it executes (a warmed-up server
halves what a run copies: ~14 MB down to ~7 MB a run, and as much again in the
server, whose original of each copied page stops being shared).

Protocol: the app holds one end of a Unix socket pair, the server the other.  To
start a function in a new process the app sends ``("spawn", token, function,
args)`` together with one end of a fresh socket pair (``SCM_RIGHTS``): the child
gets it as a :class:`Channel` and its first argument.  The server answers
``("spawned", token, pid)``, and ``("exited", pid, code)`` when it reaped that
child.  ``("kill", pid)`` kills a child still alive (the server knows which pids
are its own, so a recycled pid is never hit).

Nothing outlives the app: when the app's end closes (it quit, crashed or was
killed) the server exits at once, without unloading torch, and its children go
with it (each has a parent-death signal, :func:`quadtui.core.process.die_with_parent`, and a
run also watches its own channel to the app).  No textual here, and torch only in the
server process.
"""

from __future__ import annotations

import array
import gc
import importlib
import os
import pickle
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quadtui.core.files import current_umask
from quadtui.core.process import die_with_parent

#: what the server imports once, so that each forked process starts with them loaded;
#: a ``module:function`` entry is called (with no arguments) once everything is imported
PRELOAD = ("quadtui.core.engine", "quadtui.core.remote", "quadtui.core.remote:warm_up")
#: the environment variable naming a running server's socket, for apps to share it (``quadtui --serve`` sets it)
ADDRESS_ENV = "QUADTUI_FORK_SERVER"
#: how long connecting to a running server (and its hello) may take before an app starts its own (s)
CONNECT_TIMEOUT = 5.0
_HEADER = struct.Struct("!Q")
_MAX_FDS = 1


class Channel:
    """Length-prefixed messages over a connected stream socket (the two ends of a socket pair).

    ``send``/``recv`` pickle; ``send_bytes``/``recv_bytes`` move raw bytes.  Either end may be
    used from one sending thread and one receiving thread at a time.  A closed peer is
    :class:`EOFError` on receive and :class:`OSError` on send.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def send_bytes(self, data: bytes, fds: tuple[int, ...] = ()) -> None:
        message = _HEADER.pack(len(data)) + data
        if fds:  # the descriptors ride with the first byte
            sent = self.sock.sendmsg([message[:1]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            message = message[sent:]
        self.sock.sendall(message)

    def recv_bytes(self) -> bytes:
        return self._recv_with_fds()[0]

    def _recv_with_fds(self) -> tuple[bytes, list[int]]:
        fds: list[int] = []
        first, ancillary, _, _ = self.sock.recvmsg(1, socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize))
        if not first:
            raise EOFError("the other end closed")
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                received = array.array("i")
                received.frombytes(data[: len(data) - len(data) % received.itemsize])
                fds.extend(received)
        size = _HEADER.unpack(first + self._exactly(_HEADER.size - 1))[0]
        return self._exactly(size), fds

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed mid-message")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def send(self, obj: Any) -> None:
        self.send_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def recv(self) -> Any:
        return pickle.loads(self.recv_bytes())

    def close(self) -> None:
        self.sock.close()


class ServerError(RuntimeError):
    """The fork server could not start, or is gone."""


class Child:
    """A process the server forked: its channel to us, its pid, and (once reaped) its exit code."""

    def __init__(self, server: ForkServer, channel: Channel) -> None:
        self._server = server
        self.channel = channel
        self.pid = 0
        self.exitcode: int | None = None
        self._spawned = threading.Event()
        self._exited = threading.Event()

    def is_alive(self) -> bool:
        return not self._exited.is_set()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the server has reaped this process (or ``timeout`` seconds)."""
        self._exited.wait(timeout)

    def kill(self) -> None:
        """SIGKILL this process if it is still alive (the server does it: it knows its own children)."""
        if self.is_alive():
            self._server.kill(self.pid)


class ForkServer:
    """The app's side: start the server once, then :meth:`spawn` functions in processes forked from it."""

    def __init__(self, preload: tuple[str, ...] = PRELOAD, *, shared: bool = False) -> None:
        self.preload = preload
        self.shared = shared
        #: with ``shared``, the socket other apps of this user connect to (:meth:`connect`), in a private folder
        self.address: str | None = None
        self._peer_pid: int | None = None  # the server's pid, when we connected to one rather than started it
        self._lock = threading.Lock()  # one sender at a time on the control channel
        self._channel: Channel | None = None
        self._process: Any = None
        self._children: dict[int, Child] = {}  # by token until spawned, then also by pid
        self._by_pid: dict[int, Child] = {}
        self._tokens = 0
        self._dead = False

    @property
    def pid(self) -> int | None:
        return self._peer_pid if self._process is None else int(self._process.pid)

    @classmethod
    def connect(cls, address: str) -> ForkServer:
        """Use the running server listening at ``address`` (another process's, same user) instead of a new one.

        Its processes are forked for us in our working folder, with our environment
        and umask; they end when we close our end (or the server's owner closes
        its).  Raises :class:`ServerError` if there is no such server of ours.
        """
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(address)
            pid, uid = _peer(sock)
            if uid != os.getuid():
                raise ServerError(f"the training process server at {address} is another user's")
            channel = Channel(sock)
            channel.send(("hello", os.getcwd(), dict(os.environ), current_umask()))
            if channel.recv() != ("ready",):
                raise ServerError(f"the training process server at {address} did not answer")
            sock.settimeout(None)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
            sock.close()
            raise ServerError(f"no training process server at {address} ({exc})") from None
        except ServerError:
            sock.close()
            raise
        server = cls(preload=())
        server._peer_pid = pid
        server._channel = channel
        threading.Thread(target=server._read, args=(channel,), name="quadtui-forkserver", daemon=True).start()
        return server

    def start(self) -> None:
        """Start the server; wait until it has run :data:`PRELOAD` (raises :class:`ServerError` if it cannot)."""
        import subprocess
        import tempfile

        ours, theirs = socket.socketpair()
        if self.shared:  # a folder only we may enter; the server removes it when it ends
            self.address = os.path.join(tempfile.mkdtemp(prefix="quadtui-torch-"), "forkserver.sock")
        package_root = str(Path(__file__).resolve().parents[2])  # the quadtui we are, whatever the current folder
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"from quadtui.core.forkserver import main; main({theirs.fileno()}, {self.address!r})",
                    *self.preload,
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,  # it shares the app's terminal: nothing may reach it
            )
        finally:
            theirs.close()
        channel = Channel(ours)
        try:
            kind, *body = channel.recv()
        except (EOFError, OSError):
            kind, body = "failed", [f"it exited with code {self._process.wait()}"]
        if kind != "ready":
            channel.close()
            self._process.wait()
            if self.address is not None:
                _remove_quietly(self.address)
            raise ServerError(f"the training process could not start: {body[0]}")
        self._channel = channel
        threading.Thread(target=self._read, args=(channel,), name="quadtui-forkserver", daemon=True).start()

    @property
    def running(self) -> bool:
        return self._channel is not None and not self._dead

    def spawn(self, function: Callable[..., None], *args: Any) -> Child:
        """Run ``function(channel, *args)`` in a new process forked from the server; its :class:`Child`."""
        if not self.running:
            raise ServerError("the training process server is gone")
        ours, theirs = socket.socketpair()
        child = Child(self, Channel(ours))
        with self._lock:
            if self._dead:  # the reader saw the server go (it answers no one registered after that)
                ours.close()
                theirs.close()
                raise ServerError("the training process server is gone")
            self._tokens += 1
            token = self._tokens
            self._children[token] = child
            try:
                assert self._channel is not None
                self._channel.send_bytes(pickle.dumps(("spawn", token, function, args)), fds=(theirs.fileno(),))
            except OSError:
                self._children.pop(token, None)
                ours.close()
                raise ServerError("the training process server is gone") from None
            finally:
                theirs.close()
        child._spawned.wait()
        if not child.pid:
            ours.close()
            raise ServerError("the training process server is gone")
        return child

    def kill(self, pid: int) -> None:
        with self._lock:
            try:
                if self._channel is not None:
                    self._channel.send(("kill", pid))
            except OSError:
                pass

    def stop(self) -> None:
        """Close our end: the server and everything it forked end at once."""
        channel, self._channel = self._channel, None
        if channel is not None:
            try:
                channel.sock.shutdown(socket.SHUT_RDWR)  # the reader thread closes it
            except OSError:  # already closed: the server is gone
                pass
        if self._process is not None:
            self._process.wait()
            if self.address is not None:  # the server removes its socket's folder; unless it was killed
                _remove_quietly(self.address)

    def _read(self, channel: Channel) -> None:
        """The server's answers: which pid a spawn got, which child exited."""
        try:
            while True:
                kind, *body = channel.recv()
                if kind == "spawned":
                    token, pid = body
                    child = self._children.pop(token)
                    child.pid = pid
                    self._by_pid[pid] = child
                    child._spawned.set()
                elif kind == "exited":
                    pid, code = body
                    done = self._by_pid.pop(pid, None)
                    if done is not None:
                        done.exitcode = code
                        done._exited.set()
        except (EOFError, OSError):
            pass
        with self._lock:  # no spawn registers meanwhile: each one waiting is answered, no later one waits
            self._dead = True  # every child went with the server
            for child in [*self._children.values(), *self._by_pid.values()]:
                child._spawned.set()
                child._exited.set()
            self._children.clear()
            self._by_pid.clear()
        channel.close()


# -- the server's side ----------------------------------------------------------------------
def main(fd: int, listen: str | None = None) -> None:
    """The server process: import, warm up, freeze, then fork on request until the owner's end closes.

    With ``listen`` (a Unix socket's path), other apps of this user connect there too
    (:meth:`ForkServer.connect`) and share this server's torch.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the app handles ctrl+c; it ends us by closing the channel
    owner = Channel(socket.socket(fileno=fd))
    try:
        for name in sys.argv[1:]:
            module, _, function = name.partition(":")
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
    except BaseException as exc:  # a broken torch install: the app shows the reason
        owner.send(("failed", f"{type(exc).__name__}: {exc}"))
        os._exit(1)
    gc.collect()
    gc.freeze()  # what we imported is never collected again, so a forked run never writes to its pages
    listener = None
    if listen is not None:
        try:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(listen)
            listener.listen(64)
        except OSError as exc:
            owner.send(("failed", f"cannot listen at {listen}: {exc.strerror or exc}"))
            os._exit(1)
    server = _Server(owner, listener)
    owner.send(("ready",))
    try:
        server.serve()
    finally:  # the owner is gone: leave at once (unloading torch would cost seconds of CPU)
        if listen is not None:
            _remove_quietly(listen)
        os._exit(0)


class _Client:
    """An app the server works for: its channel, the processes forked for it, the place they run in."""

    def __init__(self, channel: Channel, setting: tuple[str, dict[str, str], int] | None = None) -> None:
        self.channel = channel
        self.setting = setting  # (working folder, environment, umask) of an app that connected; None: the owner's
        self.children: set[int] = set()


class _Server:
    """The fork server's loop: one owner (whose end closing ends everything) and any apps that connect."""

    def __init__(self, owner: Channel, listener: socket.socket | None) -> None:
        import selectors

        self.owner = _Client(owner)
        self.listener = listener
        self.clients: dict[int, _Client] = {owner.fileno(): self.owner}
        self.by_pid: dict[int, _Client] = {}
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that SIGCHLD writes to the wakeup pipe
        self.selector = selectors.DefaultSelector()
        self.selector.register(owner.sock, selectors.EVENT_READ)
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        if listener is not None:
            self.selector.register(listener, selectors.EVENT_READ)
        self.own_fds = [self.wake_r, wake_w, self.selector.fileno(), *([listener.fileno()] if listener else [])]

    def serve(self) -> None:
        """Until the owner's end closes."""
        while True:
            for key, _ in self.selector.select():
                if key.fileobj == self.wake_r:
                    os.read(self.wake_r, 4096)
                elif key.fileobj is self.listener:
                    self._accept()
                else:
                    client = self.clients[key.fd]
                    try:
                        data, fds = client.channel._recv_with_fds()
                    except (EOFError, OSError):
                        if client is self.owner:
                            return
                        self._drop(client)
                        continue
                    self._handle(client, pickle.loads(data), fds)
            self._reap()

    def _accept(self) -> None:
        import selectors

        try:
            sock, _ = self.listener.accept()  # type: ignore[union-attr]
        except OSError:
            return
        if _peer(sock)[1] != os.getuid():  # the folder is private already; a socket is checked all the same
            sock.close()
            return
        channel = Channel(sock)
        sock.settimeout(5)  # its hello comes at once, or it is not one of ours
        try:
            kind, *body = channel.recv()
            if kind != "hello":
                raise ValueError(kind)
            cwd, environment, umask = body
            sock.settimeout(None)
            client = _Client(channel, (str(cwd), dict(environment), int(umask)))
            client.channel.send(("ready",))
        except Exception:
            sock.close()
            return
        self.clients[sock.fileno()] = client
        self.selector.register(sock, selectors.EVENT_READ)

    def _handle(self, client: _Client, message: tuple[Any, ...], fds: list[int]) -> None:
        kind, *body = message
        if kind == "spawn":
            token, function, args = body
            pid = os.fork()
            if pid == 0:
                server_fds = [*self.own_fds, *self.clients]
                _child(fds[0], server_fds, function, args, client.setting)
            for received in fds:
                os.close(received)
            client.children.add(pid)
            self.by_pid[pid] = client
            self._send(client, ("spawned", token, pid))
        elif kind == "kill" and body[0] in client.children:  # only its own: never another app's, nor a recycled pid
            _kill(body[0])

    def _send(self, client: _Client, message: tuple[Any, ...]) -> None:
        try:
            client.channel.send(message)
        except OSError:
            if client is self.owner:
                raise
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        """An app that left: what was forked for it ends now (its parent-death signal names us, not it)."""
        for pid in client.children:
            _kill(pid)
        fd = client.channel.fileno()
        if self.clients.pop(fd, None) is not None:
            self.selector.unregister(client.channel.sock)
            client.channel.close()

    def _reap(self) -> None:
        while self.by_pid:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            client = self.by_pid.pop(pid, None)
            if client is not None:
                client.children.discard(pid)
                if client.channel.fileno() in self.clients:
                    self._send(client, ("exited", pid, os.waitstatus_to_exitcode(status)))


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _peer(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end of a Unix socket."""
    credentials = struct.Struct("3i")
    pid, uid, _ = credentials.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, credentials.size))
    return pid, uid


def _remove_quietly(address: str) -> None:
    """A shared server's socket, and the private folder made for it."""
    for remove, path in ((os.unlink, address), (os.rmdir, os.path.dirname(address))):
        try:
            remove(path)
        except OSError:
            pass


def _child(
    fd: int,
    server_fds: list[int],
    function: Callable[..., None],
    args: tuple[Any, ...],
    setting: tuple[str, dict[str, str], int] | None,
) -> None:
    """A forked process: drop the server's ends, run ``function(channel, *args)``, and leave without clean-up.

    For an app that connected, it first takes on that app's working folder,
    environment and umask, so that it works as if the app had forked it.
    """
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for server_fd in server_fds:
            os.close(server_fd)
        die_with_parent()  # the server gone (the app ended): this process ends too, mid-epoch or not
        if setting is not None:
            cwd, environment, umask = setting
            os.environ.clear()
            os.environ.update(environment)
            os.umask(umask)
            os.chdir(cwd)
        function(Channel(socket.socket(fileno=fd)), *args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        pass
    finally:
        os._exit(code)
