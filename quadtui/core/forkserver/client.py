"""The app's side of the fork server: start one (or connect to a shared one), then spawn functions in it."""

from __future__ import annotations

import os
import pickle
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quadtui.core.files import current_umask
from quadtui.core.forkserver import restricted
from quadtui.core.forkserver.channel import Channel, peer, remove_address

#: what the server imports once, so that each forked process starts with them loaded;
#: a ``module:function`` entry is called (with no arguments) once everything is imported
PRELOAD = ("quadtui.core.engine", "quadtui.core.remote", "quadtui.core.remote:warm_up")
#: the environment variable naming a running server's socket, for apps to share it (``quadtui --serve`` sets it)
ADDRESS_ENV = "QUADTUI_FORK_SERVER"
#: how long connecting to a running server (and its hello) may take before an app starts its own (s)
CONNECT_TIMEOUT = 5.0


class ServerError(RuntimeError):
    """The fork server could not start, or is gone."""


class Child:
    """A process the server forked: its channel to us, its pid, and (once reaped) its exit code."""

    def __init__(self, server: ForkServer, channel: Channel) -> None:
        self._server = server
        self.channel = channel
        self.pid = 0
        self.exitcode: int | None = None
        self.refused: str | None = None  # why the server could not fork it
        self._spawned = threading.Event()
        self._exited = threading.Event()

    def is_alive(self) -> bool:
        return not self._exited.is_set()

    def loads(self, data: bytes) -> Any:
        """A message from this process, unpickled as its server's messages are (:attr:`ForkServer.stranger`)."""
        return self._server.loads(data)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the server has reaped this process (or ``timeout`` seconds)."""
        self._exited.wait(timeout)

    def kill(self) -> None:
        """SIGKILL this process if it is still alive (the server does it: it knows its own children)."""
        if self.is_alive():
            self._server.kill(self.pid)


class ForkServer:
    """The app's side: start the server once, then :meth:`spawn` functions in processes forked from it."""

    def __init__(
        self,
        preload: tuple[str, ...] = PRELOAD,
        *,
        shared: bool = False,
        address: str | None = None,
        lock: str | None = None,
        for_class: bool = False,
    ) -> None:
        self.preload = preload
        self.shared = shared or address is not None
        #: a class's server (``quadtui --class DIR --torch-server``): apps of every account may connect
        self.for_class = for_class
        #: a server of another account's (a class's): what it and its processes send is read with
        #: :func:`restricted.loads`, and it is told nothing of ours (no folder, no environment)
        self.stranger = False
        #: where other apps of this user connect (:meth:`connect`): ``address``, or with ``shared`` alone
        #: a socket in a new private folder, removed with the server
        self.address: str | None = address
        #: a user's own server (:mod:`.per_user`): it ends with the last app it serves, not with us
        self.lock = lock
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
    def connect(cls, address: str, owner: int | None = None) -> ForkServer:
        """Use the running server listening at ``address`` (another process's, same user) instead of a new one.

        Its processes are forked for us in our working folder, with our environment
        and umask; they end when we close our end (or the server's owner closes
        its).  Raises :class:`ServerError` if there is no such server of ours.

        ``owner``: a class's server, which must run as that user (the class folder's
        owner): it serves us as a stranger and we read it as one (:attr:`stranger`).
        """
        return cls.greet(cls.reach(address), address, owner)

    def loads(self, data: bytes) -> Any:
        return restricted.loads(data) if self.stranger else pickle.loads(data)

    @staticmethod
    def reach(address: str) -> socket.socket:
        """A socket connected to the server at ``address`` (raises :class:`ServerError` if none listens)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            raise ServerError(f"no training process server at {address} ({exc.strerror or exc})") from None
        return sock

    @classmethod
    def greet(cls, sock: socket.socket, address: str, owner: int | None = None) -> ForkServer:
        """Introduce ourselves on a :meth:`reach`-ed socket: the server works for us from then on."""
        try:
            pid, uid = peer(sock)
            if uid != (os.getuid() if owner is None else owner):
                raise ServerError(f"the training process server at {address} is another user's")
            channel = Channel(sock)
            stranger = owner is not None
            if stranger:  # a class's: it learns nothing of ours (its processes work in its own place)
                channel.send(("hello", None, None, current_umask()))
            else:
                channel.send(("hello", os.getcwd(), dict(os.environ), current_umask()))
            answer = restricted.loads(channel.recv_bytes()) if stranger else channel.recv()
            if answer != ("ready",):
                raise ServerError(f"the training process server at {address} did not answer")
            sock.settimeout(None)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
            sock.close()
            raise ServerError(f"no training process server at {address} ({exc})") from None
        except ServerError:
            sock.close()
            raise
        server = cls(preload=())
        server.stranger = stranger
        server._peer_pid = pid
        server._channel = channel
        threading.Thread(target=server._read, args=(channel,), name="quadtui-forkserver", daemon=True).start()
        return server

    def start(self) -> None:
        """Start the server; wait until it has run :data:`PRELOAD` (raises :class:`ServerError` if it cannot)."""
        import subprocess
        import tempfile

        ours, theirs = socket.socketpair()
        if self.shared and self.address is None:  # a folder only we may enter; the server removes it when it ends
            self.address = os.path.join(tempfile.mkdtemp(prefix="quadtui-torch-"), "forkserver.sock")
        package_root = str(Path(__file__).resolve().parents[3])  # the quadtui we are, whatever the current folder
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from quadtui.core.forkserver.server import main; "
                    f"main({theirs.fileno()}, {self.address!r}, {self.lock!r}, {self.for_class!r})",
                    *self.preload,
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,  # it shares the app's terminal: nothing may reach it
                # a shared server: no signal of this terminal's or process group's reaches it (it ends when its
                # owner or its last app goes, and removes its socket then)
                start_new_session=self.shared,
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
            if self.address is not None and self.lock is None:
                remove_address(self.address, folder=not self.for_class)
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
            raise ServerError(child.refused or "the training process server is gone")
        return child

    def kill(self, pid: int) -> None:
        with self._lock:
            try:
                if self._channel is not None:
                    self._channel.send(("kill", pid))
            except OSError:
                pass

    def stop(self) -> None:
        """Close our end: what the server forked for us ends at once, and a server we own with it.

        (A user's server, :mod:`.per_user`, ends when its last app has stopped.)
        """
        channel, self._channel = self._channel, None
        if channel is not None:
            try:
                channel.sock.shutdown(socket.SHUT_RDWR)  # the reader thread closes it
            except OSError:  # already closed: the server is gone
                pass
        if self._process is not None and self.lock is None:
            self._process.wait()
            if self.address is not None:  # the server removes its socket's folder; unless it was killed
                remove_address(self.address, folder=not self.for_class)

    def _read(self, channel: Channel) -> None:
        """The server's answers: which pid a spawn got, which child exited."""
        try:
            while True:
                kind, *body = self.loads(channel.recv_bytes())
                if kind == "spawned":
                    token, pid = body
                    child = self._children.pop(token)
                    child.pid = pid
                    self._by_pid[pid] = child
                    child._spawned.set()
                elif kind == "refused":
                    token, reason = body
                    child = self._children.pop(token)
                    child.refused = reason
                    child._spawned.set()
                elif kind == "exited":
                    pid, code = body
                    done = self._by_pid.pop(pid, None)
                    if done is not None:
                        done.exitcode = code
                        done._exited.set()
        except (EOFError, OSError):
            pass
        except Exception:  # it said what no server of ours says (a class's is read as a stranger's): let it go
            pass
        with self._lock:  # no spawn registers meanwhile: each one waiting is answered, no later one waits
            self._dead = True  # every child went with the server
            for child in [*self._children.values(), *self._by_pid.values()]:
                child._spawned.set()
                child._exited.set()
            self._children.clear()
            self._by_pid.clear()
        channel.close()
