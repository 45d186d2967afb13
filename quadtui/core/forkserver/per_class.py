"""The class's torch server: one fork server for every student's session, whatever their accounts.

The teacher runs it in the class folder (``quadtui --class DIR --torch-server``, see
:mod:`quadtui.cli.torch_server`); it listens at ``DIR/torch.sock``.  A session whose
class folder that is (``--class DIR``, or ``$QUADTUI_CLASS``) has its runs forked
there, and trusts the socket only if the process behind it runs as the folder's owner;
it then reads it as a stranger's (:mod:`.restricted`).  No torch here: the command
line names the folder before the app starts.
"""

from __future__ import annotations

import os
import stat

from quadtui.core.forkserver.client import ForkServer, ServerError

#: the class's torch server's socket, in the class folder
CLASS_SOCKET = "torch.sock"

_class_folder: str | None = None


def use_class_folder(folder: str | os.PathLike[str] | None) -> None:
    """The class folder given on the command line (``--class DIR``): its torch server, if any, trains our runs."""
    global _class_folder
    _class_folder = None if folder is None else os.fspath(folder)


def class_server() -> ForkServer | None:
    """The class's torch server, if its folder has one run by the folder's owner (the teacher)."""
    from quadtui.core.classroom import ENV

    folder = _class_folder if _class_folder is not None else os.environ.get(ENV, "").strip()
    if not folder:
        return None
    address = os.path.join(folder, CLASS_SOCKET)
    try:
        if not stat.S_ISSOCK(os.lstat(address).st_mode):
            return None
        return ForkServer.connect(address, owner=os.stat(folder).st_uid)
    except (OSError, ServerError):  # none (or not the teacher's): this user's own server trains
        return None
