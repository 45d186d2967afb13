"""The command line: one set of flags for the app, ``--headless``, sweeps, ``--serve`` and the class folder.

``main`` parses and checks the flags (``checks``) and hands over to the mode asked for:
``headless`` (one run), ``sweep`` (one run per value or pair of values), ``serve`` (the
app in browsers), ``classroom`` (the class folder and board) or the Textual app.
``terminal`` holds what they share about the terminal: is there one, ctrl+c and
signals, the progress bar.  Nothing heavy is imported here: the app must paint its
first frame before torch loads, and ``--sweep`` and ``--help`` never load it at all.
"""

from quadtui.cli.checks import parse_config
from quadtui.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, build_parser, entry, flag, main

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "entry",
    "flag",
    "main",
    "parse_config",
]
