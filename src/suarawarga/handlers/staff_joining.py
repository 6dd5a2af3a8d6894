"""An officer joins a unit with an invite (`gabung KODE`), or links a group to it (`hubungkan KODE`); the first
chat of a unit gets the unit's open complaints."""

from __future__ import annotations

import logging

from suarawarga.bot.conversation import END, STAY, Turn
from suarawarga.bot.messages import ChannelName, ConversationKey
from suarawarga.complaints import handling
from suarawarga.complaints.model import OPEN_STATUSES, Unit
from suarawarga.errors import NotFound
from suarawarga.handlers.common import sender_of, sender_tag, usage
from suarawarga.handlers.notify import announce_complaint
from suarawarga.handlers.staff_views import QUEUE_LIMIT

log = logging.getLogger(__name__)


async def join_command(turn: Turn, args: str) -> str:
    """`gabung CODE` in a private chat: become an officer of the invite's unit."""
    if turn.inbound.group:
        turn.reply("staff.join.private_only")
        return END
    if not args.strip():
        usage(turn, "usage.gabung", "")
        return STAY
    try:
        unit, role = await handling.join(
            turn.uow,
            args,
            turn.inbound.key.channel,
            sender_of(turn),
            turn.inbound.key.chat_id,
            (turn.inbound.sender_name or "").strip()[:100] or turn.text("staff.unnamed"),
            turn.clock.now(),
        )
    except NotFound:
        log.warning("invalid invite code used by %s", sender_tag(turn))
        turn.reply("staff.invite_invalid")
    else:
        await turn.uow.staff.set_language(turn.inbound.key.channel, sender_of(turn), turn.language)  # as chosen so far
        turn.reply("staff.join.ok", unit=unit.name, role=turn.text(f"staff.role.{role}"))
        await _send_backlog(turn, unit)
    return STAY


async def link_command(turn: Turn, args: str) -> str:
    """`hubungkan CODE` in a group: post the invite's unit's complaints to this group."""
    if not turn.inbound.group:
        turn.reply("staff.link.group_only")
        return STAY
    if not args.strip():
        usage(turn, "usage.hubungkan", "")
        return END
    try:
        unit = await handling.link_group(
            turn.uow, args, turn.inbound.key.channel, turn.inbound.key.chat_id, turn.clock.now()
        )
    except NotFound:
        log.warning("invalid invite code used in a group by %s", sender_tag(turn))
        turn.reply("staff.invite_invalid")
    else:
        turn.reply("staff.link.ok", unit=unit.name)
        await _send_backlog(turn, unit)
    return END


async def _send_backlog(turn: Turn, unit: Unit) -> None:
    """Send the unit's open complaints to this chat when it is the unit's only recipient, i.e. its first one.

    A complaint filed while a unit had no officer and no group reached no one; it must reach the first who joins.
    """
    officers = await turn.uow.staff.for_unit(unit.id)
    others = {ConversationKey(ChannelName(s.channel), s.chat_id) for s in officers}
    others |= set(await turn.uow.staff.chats_of_unit(unit.id))
    if others - {turn.inbound.key}:
        return  # an officer or a group of the unit had its complaints already
    waiting = await turn.uow.complaints.list(unit.id, statuses=OPEN_STATUSES, limit=QUEUE_LIMIT)
    if not waiting:
        return
    turn.reply("staff.backlog", unit=unit.name, count=str(len(waiting)))
    for complaint in waiting:
        await announce_complaint(turn, complaint, unit, "staff.new", targets=[(turn.inbound.key, turn.language)])
