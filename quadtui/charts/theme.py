"""Chart colours: a small immutable theme the app derives from its Textual theme."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

RGB = tuple[int, int, int]

#: series colours that read well on a dark background (blue, amber, green, red, violet, cyan)
DARK_PALETTE: tuple[RGB, ...] = (
    (97, 175, 239),
    (229, 192, 123),
    (152, 195, 121),
    (224, 108, 117),
    (198, 120, 221),
    (86, 182, 194),
)
#: the same hues, darker, for a light background
LIGHT_PALETTE: tuple[RGB, ...] = (
    (0, 92, 197),
    (176, 98, 0),
    (40, 128, 52),
    (196, 36, 48),
    (128, 56, 176),
    (0, 124, 136),
)
# what an unpainted canvas probably looks like, to mix faint colours against
_ASSUMED_BACKGROUND = {True: (24, 24, 24), False: (250, 250, 250)}
_MIN_CONTRAST = 2.0  # accents closer than this to the background are skipped
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


@dataclass(frozen=True)
class ChartTheme:
    """How charts are coloured.

    ``color=False`` (NO_COLOR) gives output with no escape codes at all; series then
    differ by marker (block line, braille line, dashes, dots) rather than by colour.
    ``foreground``/``background`` of ``None`` leave the terminal's own colours.  The
    default palette follows ``dark``.
    """

    dark: bool = True
    color: bool = True
    foreground: RGB | None = None
    background: RGB | None = None
    palette: tuple[RGB, ...] = DARK_PALETTE

    def __post_init__(self) -> None:
        if not self.dark and self.palette == DARK_PALETTE:  # the default, on a light screen
            object.__setattr__(self, "palette", LIGHT_PALETTE)

    @classmethod
    def from_textual(
        cls,
        dark: bool,
        foreground: str | None,
        background: str | None,
        accents: Sequence[str | None] = (),
        color: bool = True,
    ) -> ChartTheme:
        """Build a theme from Textual colour strings such as ``"#1e1e1e"`` (None allowed).

        Accents that are unreadable on the background are dropped; the built-in
        palette for ``dark`` fills up the rest.
        """
        fg, bg = parse_hex(foreground), parse_hex(background)
        against = bg or _ASSUMED_BACKGROUND[bool(dark)]
        palette: list[RGB] = []
        for accent in (*accents, *(DARK_PALETTE if dark else LIGHT_PALETTE)):
            rgb = parse_hex(accent)
            if rgb is not None and rgb not in palette and contrast(rgb, against) >= _MIN_CONTRAST:
                palette.append(rgb)
        return cls(
            dark=bool(dark),
            color=bool(color),
            foreground=fg,
            background=bg,
            palette=tuple(palette) or (DARK_PALETTE if dark else LIGHT_PALETTE),
        )

    def series(self, index: int) -> RGB:
        """The colour of the ``index``-th series (cycling through the palette)."""
        palette = self.palette or (DARK_PALETTE if self.dark else LIGHT_PALETTE)
        return _clamp(palette[index % len(palette)])

    def faint(self, rgb: RGB, amount: float = 0.55) -> RGB:
        """``rgb`` mixed towards the background: for context lines and earlier runs."""
        return mix(_clamp(rgb), self.background or _ASSUMED_BACKGROUND[self.dark], amount)

    @property
    def muted(self) -> RGB:
        """A quiet colour for reference curves (the true function)."""
        base = self.foreground or ((200, 200, 200) if self.dark else (60, 60, 60))
        return self.faint(base, 0.35)


def parse_hex(text: object) -> RGB | None:
    """``"#1e1e1e"``, ``"1e1e1e"``, ``"#abc"`` or ``"#rrggbbaa"`` to RGB; anything else to None."""
    if isinstance(text, (tuple, list)) and len(text) == 3:
        try:
            return _clamp(tuple(int(c) for c in text))
        except (TypeError, ValueError):
            return None
    if not isinstance(text, str):
        return None
    match = _HEX.fullmatch(text.strip())
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def mix(a: RGB, b: RGB, amount: float) -> RGB:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    t = min(1.0, max(0.0, amount))
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours (1 = identical, 21 = black on white)."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _clamp(rgb: Sequence[int]) -> RGB:
    r, g, b = (min(255, max(0, int(c))) for c in rgb)
    return r, g, b
