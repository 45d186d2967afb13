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

Sharing: a server started with ``shared=True`` also listens on a Unix socket in
a private folder; other apps of the same user connect there
(:meth:`ForkServer.connect`; ``quadtui --serve`` names it to every session in
:data:`ADDRESS_ENV`), and their processes are forked in the app's working folder
with its environment and umask.  An app that connected owns only its own
processes: they end the moment its end closes; the server ends with its owner.

A user's own server (:mod:`.per_user`) is shared this way by all of that user's
sessions, and ends with the last of them rather than with the one that started it.

The app's side is :mod:`.client`, the server's :mod:`.server`, the wire :mod:`.channel`.
"""

from quadtui.core.forkserver.channel import Channel
from quadtui.core.forkserver.client import ADDRESS_ENV, CONNECT_TIMEOUT, PRELOAD, Child, ForkServer, ServerError

__all__ = ["ADDRESS_ENV", "CONNECT_TIMEOUT", "PRELOAD", "Channel", "Child", "ForkServer", "ServerError"]
