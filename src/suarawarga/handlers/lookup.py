"""`status KODE` for everyone: an officer sees a complaint of their unit with its actions; anyone else gets the
citizen's view, with failed look-ups limited per chat (a code is the only key to an anonymous complaint)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from suarawarga.bot.conversation import STAY, Turn
from suarawarga.complaints.model import normalise_code
from suarawarga.handlers import common, staff_views

FAILED_LOOKUPS_MAX = 10  # failed look-ups a chat may make in LOOKUP_WINDOW; then a polite refusal
LOOKUP_WINDOW = timedelta(hours=1)


def chat_hash(turn: Turn) -> str:
    """Return the key failed look-ups are counted under (a hash: the chat id itself is not kept)."""
    return hashlib.sha256(f"lookup:{turn.inbound.key.channel}:{turn.inbound.key.chat_id}".encode()).hexdigest()


async def status_command(turn: Turn, args: str) -> str:
    """Show a complaint's status to its officer, or the citizen's status view within the look-up limit."""
    code = normalise_code(args) if args.strip() else None
    if code is not None and await staff_views.officer_status(turn, code):
        return STAY
    if not args.strip():
        return await common.status(turn, args)
    now = turn.clock.now()
    key = chat_hash(turn)
    if await turn.uow.lookups.failures_since(key, now - LOOKUP_WINDOW) >= FAILED_LOOKUPS_MAX:
        turn.reply("status.too_many", minutes=str(int(LOOKUP_WINDOW.total_seconds() // 60)))
        return STAY
    outcome = await common.status(turn, args)
    if turn.replies and turn.replies[-1].text_key == "status.not_found":
        await turn.uow.lookups.add_failure(key, now, now - LOOKUP_WINDOW)
    return outcome
