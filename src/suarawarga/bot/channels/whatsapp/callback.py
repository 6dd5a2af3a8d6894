"""The `biz_opaque_callback_data` of a send: which outbox messages (and which part of them) a WhatsApp message is.

Meta echoes the string in the status webhooks of the message (`docs/platforms.md` §2.5). A process killed after
Meta accepted a send but before it recorded it leaves the message pending; the echo tells any web process that the
message went out, so that it is not sent again after the restart. The string names outbox ids only: no personal
data. It comes back from the internet, so it is parsed strictly and anything else is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CALLBACK_MAX = 512  # Meta's limit on biz_opaque_callback_data, in characters
PREFIX = "sw1"
_OUTBOX_ID = r"[0-9A-Za-z_-]{1,36}"  # the outbox's id column holds 36 characters
_FORMAT = re.compile(rf"{PREFIX}:({_OUTBOX_ID}(?:,{_OUTBOX_ID})*):([1-9][0-9]?)/([1-9][0-9]?)")
# Outbox ids a parcel of merged messages may carry so that its callback data stays within Meta's limit.
IDS_MAX = (CALLBACK_MAX - len(PREFIX) - len(":99/99")) // 37


@dataclass(frozen=True, slots=True)
class Echo:
    """What a status's callback data names: outbox messages sent together, and the part (1-based) of `parts`."""

    ids: tuple[str, ...]
    part: int
    parts: int

    @property
    def last(self) -> bool:
        """Tell whether this is the message's last part (its acceptance means the whole message went out)."""
        return self.part == self.parts


def callback_data(ids: Sequence[str], part: int, parts: int) -> str:
    """Return the callback data of part `part` (1-based) of `parts` of a send carrying these outbox ids."""
    return f"{PREFIX}:{','.join(ids)}:{part}/{parts}"


def parse_echo(value: object) -> Echo | None:
    """Return what echoed callback data names; None for anything this product did not write."""
    if not isinstance(value, str) or len(value) > CALLBACK_MAX or not value.isascii():
        return None
    match = _FORMAT.fullmatch(value)
    if match is None:
        return None
    ids = tuple(match.group(1).split(","))
    part, parts = int(match.group(2)), int(match.group(3))
    if part > parts or len(ids) > IDS_MAX or len(set(ids)) != len(ids):
        return None
    return Echo(ids, part, parts)
