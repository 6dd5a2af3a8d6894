"""Text helpers every channel shares: lengths in a platform's unit, splitting long texts, clipping."""

from __future__ import annotations

from collections.abc import Callable

Length = Callable[[str], int]


def utf16_length(text: str) -> int:
    """Return the length Telegram counts: UTF-16 code units (a character beyond U+FFFF counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def code_point_units(char: str) -> int:
    """Return the length of one character counted in code points (as WhatsApp's limits are read): 1."""
    return 1


def split_text(text: str, limit: int, units: Callable[[str], int] = code_point_units) -> list[str]:
    """Split text into pieces of at most `limit` units, at a line break or space where possible.

    `units(char)` is the length of one character in the platform's unit (docs/platforms.md: Telegram counts
    UTF-16 code units, WhatsApp characters). A break is looked for in the piece's second half; without one the
    text is cut at the limit. Blank text gives no pieces.
    """
    pieces: list[str] = []
    rest = text.strip()
    while sum(units(char) for char in rest) > limit:
        fit, used = 0, 0
        for char in rest:
            used += units(char)
            if used > limit:
                break
            fit += 1
        # A break right after the last character that fits still leaves a piece within the limit.
        cut = rest.rfind("\n", 0, fit + 1)
        if cut < fit // 2:
            cut = rest.rfind(" ", 0, fit + 1)
        if cut < fit // 2:
            cut = fit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [piece for piece in pieces if piece]


def split_utf16(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` UTF-16 code units (Telegram's unit)."""
    return split_text(text, limit, _utf16_units)


def clip(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
