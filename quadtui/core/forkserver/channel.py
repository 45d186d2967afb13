"""The fork server's wire: length-prefixed pickles over a Unix stream socket, descriptors riding along."""

from __future__ import annotations

import array
import os
import pickle
import socket
import struct
import time
from typing import Any

_HEADER = struct.Struct("!Q")
_MAX_FDS = 1


class Channel:
    """Length-prefixed messages over a connected stream socket (the two ends of a socket pair).

    ``send``/``recv`` pickle; ``send_bytes``/``recv_bytes`` move raw bytes.  Either end may be
    used from one sending thread and one receiving thread at a time.  A closed peer is
    :class:`EOFError` on receive and :class:`OSError` on send.
    """

    def __init__(self, sock: socket.socket, limit: int | None = None, within: float | None = None) -> None:
        self.sock = sock
        #: the largest message accepted (bytes; None: any): another account's cannot make us read gigabytes
        self.limit = limit
        #: a message, once its first byte came, must be whole within this long (s; None: no limit): another
        #: account's cannot hold the reader by sending it a byte at a time
        self.within = within
        self._deadline: float | None = None

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
        self._deadline = None if self.within is None else time.monotonic() + self.within
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                received = array.array("i")
                received.frombytes(data[: len(data) - len(data) % received.itemsize])
                fds.extend(received)
        size = _HEADER.unpack(first + self._exactly(_HEADER.size - 1))[0]
        if self.limit is not None and size > self.limit:
            for fd in fds:
                os.close(fd)
            raise ValueError(f"a message of {size:,} bytes is over the {self.limit:,} allowed")
        return self._exactly(size), fds

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            if self._deadline is not None:
                wait = self._deadline - time.monotonic()
                if wait <= 0:
                    raise TimeoutError("a message came too slowly")
                self.sock.settimeout(wait)
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


def peer(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end of a Unix socket."""
    credentials = struct.Struct("3i")
    pid, uid, _ = credentials.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, credentials.size))
    return pid, uid


def remove_address(address: str, folder: bool = True) -> None:
    """A shared server's socket, and (``folder``) the private folder made for it: not a class folder."""
    for remove, path in ((os.unlink, address), (os.rmdir, os.path.dirname(address)))[: 2 if folder else 1]:
        try:
            remove(path)
        except OSError:
            pass
