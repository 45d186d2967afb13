"""Keys in a browser: show the ones a browser lets through.

A browser keeps some keys for itself before the page sees them: ctrl+t opens a
tab, ctrl+n a window, ctrl+w closes the tab (and the session with it), and
Firefox quits on ctrl+q.  Every control bound to one of these has another key
too (F5 trains, F12 folds the lesson); served to a browser, the app shows that
one in the footer, the help and its hints, and quitting is the footer's Quit
button.  The browser-taken keys stay bound, for terminals.  And a browser may
have no emoji font: the command palette's search glyph is a plain one there.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from textual.binding import Binding
from textual.command import CommandPalette, SearchIcon

#: keys a browser takes for itself (Chromium and Firefox), so a page never receives them
BROWSER_TAKEN = frozenset(
    {
        "ctrl+t",
        "ctrl+n",
        "ctrl+w",
        "ctrl+q",
        "ctrl+tab",
        "ctrl+shift+t",
        "ctrl+shift+n",
        "ctrl+shift+w",
        "ctrl+shift+q",
    }
)
#: what the help and hints call a control whose keys are all browser-taken (only quitting is)
BUTTON = "the Quit button (bottom right)"
QUIT_BUTTON_LABEL = "×"
#: the command palette's search glyph in a browser, for Textual's 🔎 (a box where no emoji font is installed)
SEARCH_GLYPH = ">"
_KEY_IN_TEXT = re.compile(r"\bctrl\+(?:shift\+)?[a-z]\b", re.IGNORECASE)


def _keys(binding: Binding) -> list[str]:
    return [key.strip() for key in binding.key.split(",") if key.strip()]


def alternatives(bindings: Iterable[Binding]) -> dict[str, str | None]:
    """For each browser-taken key in ``bindings``: another key of the same binding, or None if it has none."""
    found: dict[str, str | None] = {}
    for binding in bindings:
        keys = _keys(binding)
        for key in keys:
            if key in BROWSER_TAKEN and found.get(key) is None:
                found[key] = next((other for other in keys if other not in BROWSER_TAKEN), None)
    return found


def key_name(key: str) -> str:
    """A key as the help writes it: F-keys in capitals, the rest as bound."""
    return key.upper() if re.fullmatch(r"f\d{1,2}", key) else key


def for_browser(text: str, alternative: dict[str, str | None]) -> str:
    """``text`` with every browser-taken key it names replaced by the key that works in a browser."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(0).lower()
        if key not in alternative:
            return match.group(0)
        other = alternative[key]
        return BUTTON if other is None else key_name(other)

    return _KEY_IN_TEXT.sub(replace, text)


def browser_bindings(bindings: Iterable[Binding]) -> list[Binding]:
    """``bindings`` without their browser-taken keys (for the help's keys table)."""
    kept = []
    for binding in bindings:
        keys = _keys(binding)
        safe = [key for key in keys if key not in BROWSER_TAKEN]
        if safe == keys:
            kept.append(binding)
        elif safe:
            kept.append(dataclasses.replace(binding, key=",".join(safe)))
        else:  # no key a browser lets through: a footer button
            tip = binding.tooltip or binding.description
            kept.append(dataclasses.replace(binding, key="", tooltip=f"{tip}: {BUTTON}"))
    return kept


class BrowserCommandPalette(CommandPalette):
    """Textual's command palette, its search glyph one every monospace font has."""

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = SEARCH_GLYPH
