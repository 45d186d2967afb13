"""The fork server's process: import and warm up once, then fork on request until its owner's end closes."""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import signal
import socket
import stat
import sys
from collections.abc import Callable
from typing import Any

from quadtui.core.forkserver import restricted
from quadtui.core.forkserver.channel import Channel, peer, remove_address
from quadtui.core.process import die_with_parent

#: a class's server forks at most this many processes at once for each session (a run, its time travel, a spare)
PER_SESSION = 3
#: ...and keeps at most this many sessions of each account: enough for a class that logs in to one account,
#: few enough that no one can take every descriptor of the server
CONNECTIONS_PER_ACCOUNT = 64
#: a stranger's message, once its first byte came, must arrive within this long (s), and it must read our answers
#: as fast: a class's server serves one message at a time, and a student's stalled one must not stall the class
STRANGER_TIMEOUT = 1.0


def main(fd: int, listen: str | None = None, lock: str | None = None, for_class: bool = False) -> None:
    """The server process: import, warm up, freeze, then fork on request until the owner's end closes.

    With ``listen`` (a Unix socket's path), other apps of this user connect there too
    (:meth:`ForkServer.connect`) and share this server's torch.  With ``lock`` too (a
    user's own server, :mod:`.per_user`), it ends with the last app it serves rather
    than with its owner: the file ``lock`` is what apps hold while they connect.
    With ``for_class`` (``quadtui --class DIR --torch-server``), apps of every account
    may connect, and each is served as a stranger (:class:`_Client`).
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
            if for_class:  # every account may connect (the class folder's own mode says who reaches it)
                os.chmod(listen, 0o666)
            listener.listen(64)
        except OSError as exc:
            owner.send(("failed", f"cannot listen at {listen}: {exc.strerror or exc}"))
            os._exit(1)
    server = _Server(owner, listener, lock, for_class)
    owner.send(("ready",))
    try:
        server.serve()
    finally:  # the owner (or the last app) is gone: leave at once (unloading torch would cost seconds of CPU)
        if listen is not None and lock is None:  # a user's server removed its socket under the lock
            remove_address(listen, folder=not for_class)
        os._exit(0)


class _Client:
    """An app the server works for: its channel, the processes forked for it, the place they run in.

    A stranger (any app of a class's server, whatever its account) is served as
    another user must be: its messages are read with :func:`restricted.loads` (no
    function it names is run but a run's, time travel's and a sweep's), its processes work in
    ``/`` with the server's environment and a private umask (they write no files: the
    app writes its own, as its own user), and it has at most
    :data:`PER_SESSION` of them at once.
    """

    def __init__(
        self,
        channel: Channel,
        setting: tuple[str, dict[str, str], int] | None = None,
        uid: int | None = None,
        stranger: bool = False,
    ) -> None:
        self.channel = channel
        self.setting = setting  # (working folder, environment, umask) of an app that connected; None: the owner's
        self.uid = os.getuid() if uid is None else uid
        self.stranger = stranger
        self.children: set[int] = set()

    def loads(self, data: bytes) -> Any:
        return restricted.loads(data) if self.stranger else pickle.loads(data)


class _Server:
    """The fork server's loop: one owner (whose end closing ends everything) and any apps that connect."""

    def __init__(
        self, owner: Channel, listener: socket.socket | None, lock: str | None = None, for_class: bool = False
    ) -> None:
        import selectors

        self.owner = _Client(owner)
        self.listener = listener
        self.lock = lock  # a user's server: it ends with the last app, not with its owner
        self.for_class = for_class  # apps of any account connect, each served as a stranger
        self.clients: dict[int, _Client] = {owner.fileno(): self.owner}
        #: a class's server: connections accepted whose hello has not come yet, by descriptor (socket, account)
        self.pending: dict[int, tuple[socket.socket, int]] = {}
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
        """Until the owner's end closes (a user's server: until its last app has gone)."""
        while True:
            for key, _ in self.selector.select():
                if key.fileobj == self.wake_r:
                    os.read(self.wake_r, 4096)
                elif key.fileobj is self.listener:
                    self._welcome() if self.for_class else self._accept()
                elif key.fd in self.pending:
                    self._greet_stranger(*self.pending.pop(key.fd))
                elif (client := self.clients.get(key.fd)) is not None:  # (None: dropped earlier in this pass)
                    try:
                        data, fds = client.channel._recv_with_fds()
                        self._handle(client, client.loads(data), fds)
                    except Exception:  # its end closed, or it sent what no app of ours sends
                        if client is self.owner and self.lock is None:
                            return
                        self._drop(client)
            self._reap()
            if self.lock is not None and not self.clients and self._alone():
                return

    def _alone(self) -> bool:
        """A user's server whose last app left: is it still alone once no app can be connecting?

        Apps hold the lock file while they connect, so with the lock held here every
        app that connected is waiting to be accepted; if none is, the socket goes (under
        the lock: the next app starts a new server) and the server may leave.
        """
        import fcntl

        assert self.lock is not None and self.listener is not None
        try:
            held = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # the folder is gone (the user's login ended): no one can connect any more
            return True
        fcntl.flock(held, fcntl.LOCK_EX)
        self.listener.setblocking(False)
        try:
            while self._accept():
                pass
        finally:
            self.listener.setblocking(True)
        if self.clients:
            os.close(held)  # someone came: serve on
            return False
        os.unlink(self.listener.getsockname())
        return True  # the lock is let go as the process ends

    def _welcome(self) -> None:
        """A class's server: a new connection waits for its hello in the loop, never stalling it (a student
        who connects and says nothing holds up no one); an account over its share of connections is closed."""
        import selectors

        try:
            sock, _ = self.listener.accept()  # type: ignore[union-attr]
        except OSError:
            return
        uid = peer(sock)[1]
        held = sum(c.uid == uid for c in self.clients.values()) + sum(u == uid for _, u in self.pending.values())
        if held >= CONNECTIONS_PER_ACCOUNT:
            sock.close()
            return
        sock.settimeout(STRANGER_TIMEOUT)
        self.pending[sock.fileno()] = (sock, uid)
        self.selector.register(sock, selectors.EVENT_READ)

    def _greet_stranger(self, sock: socket.socket, uid: int) -> None:
        import selectors

        self.selector.unregister(sock)
        channel = Channel(sock, limit=restricted.MAX_MESSAGE, within=STRANGER_TIMEOUT)
        try:
            kind, *_ = restricted.loads(channel.recv_bytes())
            if kind != "hello":
                raise ValueError(kind)
            # where a stranger's processes work: nowhere of theirs, with nothing of theirs
            client = _Client(channel, ("/", dict(os.environ), 0o077), uid, stranger=True)
            client.channel.send(("ready",))
        except Exception:
            sock.close()
            return
        self.clients[sock.fileno()] = client
        self.selector.register(sock, selectors.EVENT_READ)

    def _accept(self) -> bool:
        import selectors

        try:
            sock, _ = self.listener.accept()  # type: ignore[union-attr]
        except OSError:  # none waiting (or it went already)
            return False
        if peer(sock)[1] != os.getuid():  # the folder is private already; a socket is checked all the same
            sock.close()
            return True
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
            return True
        self.clients[sock.fileno()] = client
        self.selector.register(sock, selectors.EVENT_READ)
        return True

    def _handle(self, client: _Client, message: tuple[Any, ...], fds: list[int]) -> None:
        kind, *body = message
        if kind == "spawn":
            token, function, args = body
            try:
                if len(fds) != 1 or not stat.S_ISSOCK(os.fstat(fds[0]).st_mode):
                    raise ValueError("a spawn comes with one end of a socket pair")
                if client.stranger:
                    self._check_stranger(client, function, args)
                pid = os.fork()
            except (OSError, ValueError) as exc:  # e.g. the user's process limit: that spawn fails, we serve on
                for received in fds:
                    os.close(received)
                reason = getattr(exc, "strerror", None) or str(exc)
                self._send(client, ("refused", token, f"cannot start a process: {reason}"))
                return
            if pid == 0:
                server_fds = [*self.own_fds, *self.clients, *self.pending]  # no app's socket stays open in it
                _child(fds[0], server_fds, function, args, client.setting, client.stranger)
            os.close(fds[0])
            client.children.add(pid)
            self.by_pid[pid] = client
            self._send(client, ("spawned", token, pid))
        elif kind == "kill" and body[0] in client.children:  # only its own: never another app's, nor a recycled pid
            _kill(body[0])

    def _check_stranger(self, client: _Client, function: Any, args: Any) -> None:
        """A stranger's spawn is a run, time travel or a sweep, within its session's share (else ValueError:
        refused)."""
        name = restricted.name_of(function)
        if name not in restricted.SPAWNABLE or (
            name != ("quadtui.core.remote", "_child")  # a call or a job: of what it may be
            and not (isinstance(args, tuple) and args and restricted.name_of(args[0]) in restricted.CALLABLE)
        ):
            raise ValueError(f"a class's server does not start {'.'.join(name)}")
        if len(client.children) >= PER_SESSION:
            raise ValueError(f"a class's server runs at most {PER_SESSION} processes for each session at once")

    def _send(self, client: _Client, message: tuple[Any, ...]) -> None:
        try:
            client.channel.send(message)
        except OSError:
            if client is self.owner and self.lock is None:
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


def _child(
    fd: int,
    server_fds: list[int],
    function: Callable[..., None],
    args: tuple[Any, ...],
    setting: tuple[str, dict[str, str], int] | None,
    stranger: bool = False,
) -> None:
    """A forked process: drop the server's ends, run ``function(channel, *args)``, and leave without clean-up.

    For an app that connected, it first takes on that app's working folder,
    environment and umask, so that it works as if the app had forked it.  For a
    stranger's, :data:`restricted.for_stranger` says so to the function.
    """
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for server_fd in server_fds:
            os.close(server_fd)
        die_with_parent()  # the server gone (the app ended): this process ends too, mid-epoch or not
        restricted.for_stranger = stranger
        if setting is not None:
            cwd, environment, umask = setting
            os.environ.clear()
            os.environ.update(environment)
            os.umask(umask)
            try:
                os.chdir(cwd)
            except OSError:  # its folder is gone (or closed to it): a run needs none; a file it writes says so itself
                pass
        function(Channel(socket.socket(fileno=fd)), *args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        pass
    finally:
        os._exit(code)
