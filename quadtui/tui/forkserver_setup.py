"""Imported only by the fork server (multiprocessing's preload list), before it forks any run.

When the app ends — however it ends, SIGKILL included — the fork server sees its
pipe to the app close and exits.  Left to Python's normal exit it would first
unload torch, a second or two of CPU on a server others share; it holds nothing
worth a clean shutdown, so it leaves at once.
"""

from __future__ import annotations

import atexit
import os

atexit.register(os._exit, 0)  # registered last, so it runs first: nothing else is torn down
