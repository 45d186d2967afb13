"""How a training process behaves on a shared server: it yields the CPU, and it never outlives its user.

A teaching server runs thirty students' sessions on a few cores.  Training is batch
work and the UIs are interactive, so every process (or thread) that trains lowers
its own scheduling priority (:func:`yield_cpu`): a key press in anyone's UI then
wins the CPU from anyone's training.  And a training process must end with the
session that started it, however that session ends — even by SIGKILL, which runs
no clean-up code at all — so it asks the kernel to kill it when its parent dies
(:func:`die_with_parent`), besides watching its pipe to the parent.

Linux-only mechanisms; elsewhere these do nothing.  No torch, no textual.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import threading

#: the niceness of training (0 is a normal process, 19 the lowest priority): a trainer runs
#: on what the interactive UIs leave, and trainers share that evenly among themselves
TRAINING_NICENESS = 19
_PR_SET_PDEATHSIG = 1


def yield_cpu(*, this_thread_only: bool = False) -> int:
    """Lower this process's (or, on Linux, only the calling thread's) priority to :data:`TRAINING_NICENESS`.

    A whole process (a training child) also moves to a scheduling group of its own with
    the lowest priority (:func:`_own_low_group`).  Never raises priority (an unprivileged
    process cannot take it back anyway) and never fails: a platform without the calls
    keeps its priority.  Returns the niceness now in force.
    """
    if not this_thread_only:
        _own_low_group()
    who = threading.get_native_id() if this_thread_only else 0
    try:
        now = os.getpriority(os.PRIO_PROCESS, who)
        if now < TRAINING_NICENESS:
            os.setpriority(os.PRIO_PROCESS, who, TRAINING_NICENESS)
        return os.getpriority(os.PRIO_PROCESS, who)
    except (AttributeError, OSError):
        return 0


def _own_low_group() -> None:
    """Start a session of our own and give its scheduling group the lowest priority.

    Linux's autogroup scheduling (on by default on many servers) shares the CPU between
    *sessions* first, and niceness only orders the processes inside one: a trainer niced
    in the student's SSH session would still take that session's full share from every
    other student's UI.  In a session of its own whose group has niceness 19, it only
    gets what the interactive sessions leave.  Only for a process that owns no terminal
    (a forked trainer): it leaves its parent's session, so the terminal's signals no
    longer reach it (its pipe and the parent-death signal end it instead).
    """
    try:
        os.setsid()
    except OSError:  # already a session or group leader: stay where we are
        return
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(TRAINING_NICENESS))
    except OSError:  # no autogroup here: niceness alone orders the processes
        pass


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux ``PR_SET_PDEATHSIG``).

    The parent here is the *thread* that forked this process: call it only in a process
    forked from a long-lived thread (a fork server's main loop, an asyncio loop).  If the
    parent is already gone by the time this runs, the process exits at once.  Returns
    whether the request was made.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (AttributeError, OSError):
        return False
    if os.getppid() != parent:  # the parent died before the request was in place
        os.kill(os.getpid(), sig)
    return True


def served_to_browser() -> bool:
    """Whether this process is an app session served to a browser tab (``--serve``, textual-serve's web driver)."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")
