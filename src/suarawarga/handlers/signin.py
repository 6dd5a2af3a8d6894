"""Staff sign in to the web console from chat: `masuk` answers with a one-time link, `keluar` signs out everywhere.

The link goes only to the officer's private chat (never a group, where others could open it first).
"""

from __future__ import annotations

import logging

from suarawarga.bot.conversation import STAY, Turn
from suarawarga.complaints import handling, signin
from suarawarga.handlers.common import sender_of

log = logging.getLogger(__name__)


async def sign_in_command(turn: Turn, _args: str) -> str:
    """`masuk`: send a member of staff a one-time link to the staff console, valid for a few minutes."""
    if turn.inbound.group:
        turn.reply("staffweb.private_only")
        return STAY
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if not memberships:
        turn.reply("staffweb.not_staff")
        return STAY
    token = await signin.issue_link(turn.uow, memberships[0], turn.clock.now())
    minutes = int(signin.LINK_LIFETIME.total_seconds() // 60)
    turn.reply("staffweb.link", link=f"{turn.policy.console_url}/staf/masuk/{token}", minutes=str(minutes))
    log.info("officer %d asked for a console link", memberships[0].id)
    return STAY


async def sign_out_command(turn: Turn, _args: str) -> str:
    """`keluar`: end every console session of the member of staff (e.g. a phone left signed in somewhere)."""
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if not memberships:  # a citizen who wants out of something: say how, and leave their flow as it is
        turn.reply("staffweb.sign_out.citizen")
        return STAY
    ended = await signin.sign_out_everywhere(turn.uow, memberships, turn.clock.now())
    turn.reply("staffweb.signed_out" if ended else "staffweb.signed_out_none", count=str(ended))
    return STAY
