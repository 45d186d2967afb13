"""Unpickling across accounts: only the few kinds of object a run's messages are made of.

A class's fork server (``quadtui --class DIR --torch-server``) works for students who are other
users than its own.  A plain :func:`pickle.loads` of what another user sends runs any
function that user names, as the reader: a student could take over the teacher's
account through the server, or a server squatting on the class's address could take
over a student's.  So both ends of a cross-account channel read with :func:`loads`,
which resolves only the globals listed here (Python's documented way of restricting
unpickling: ``Unpickler.find_class``) — a run's configuration, snapshots' and sweeps' numpy arrays
and enums, and the functions a class server may start — and refuses everything else
in one line.  Sizes are capped too (:data:`MAX_MESSAGE`), so one message cannot fill
the reader's memory.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

#: set in a process a class's server forked for a stranger: what it was asked is checked as a stranger's
#: (a run's config against the server's memory budget, its threads against the machine's cores)
for_stranger = False

#: the largest message read from another account (bytes): a run's delta is a few hundred kB at most
MAX_MESSAGE = 64 << 20

#: the functions a class server forks for another account: a run, a call, a job that reports as it goes
SPAWNABLE = frozenset(
    {
        ("quadtui.core.remote", "_child"),
        ("quadtui.core.remote", "_call_child"),
        ("quadtui.core.streamed", "_stream_child"),
    }
)
#: what a call or a job may be for another account: a run's past states (time travel), a sweep, a grid —
#: nothing that writes files (it would write as the server's user)
CALLABLE = frozenset(
    {
        ("quadtui.core.timeline", "past_states"),
        ("quadtui.core.sweep.jobs", "sweep_job"),
        ("quadtui.core.sweep.jobs", "grid_job"),
    }
)

#: (module, name) of every global a cross-account message may name
ALLOWED = frozenset(
    {
        *SPAWNABLE,
        *CALLABLE,
        ("quadtui.core.config", "Config"),
        ("quadtui.core.snapshot", "Status"),
        ("quadtui.core.hand_edit", "WeightEdit"),
        ("quadtui.core.timeline", "PastQuestion"),
        ("quadtui.core.history", "LossHistory"),
        ("quadtui.core.sweep.results", "SweepMember"),
        ("quadtui.core.sweep.results", "SweepProgress"),
        ("quadtui.core.sweep.results", "SweepResult"),
        ("quadtui.core.sweep.grid", "GridResult"),
        # numpy arrays and scalars (numpy 2 names its core ``numpy._core``; numpy 1, ``numpy.core``)
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        *(
            (f"{core}.{module}", name)
            for core in ("numpy._core", "numpy.core")
            for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))
        ),
    }
)


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} may not be sent between accounts")
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    """Unpickle ``data`` that came from another account (raises :class:`pickle.UnpicklingError` for any
    global not in :data:`ALLOWED`, or a message over :data:`MAX_MESSAGE`)."""
    if len(data) > MAX_MESSAGE:
        raise pickle.UnpicklingError(f"a message of {len(data):,} bytes is over the {MAX_MESSAGE:,} allowed")
    return _Restricted(io.BytesIO(data)).load()


def name_of(function: Any) -> tuple[str, str]:
    """(module, qualified name) of a function, as pickle names it."""
    return getattr(function, "__module__", ""), getattr(function, "__qualname__", "")
