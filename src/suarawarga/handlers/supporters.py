"""Updates to the citizens who support a complaint ("saya juga mengalami"); only status changes reach them."""

from __future__ import annotations

from suarawarga.bot.messages import ChannelName, Choice, ConversationKey, NoticeKind, Outbound
from suarawarga.complaints.model import Complaint
from suarawarga.handlers.notify import Notifier
from suarawarga.storage.supporters import Support


def support_key(support: Support) -> ConversationKey | None:
    """Return a supporter's chat (None when anonymous or erased)."""
    if support.channel is None or support.chat_id is None:
        return None
    return ConversationKey(ChannelName(support.channel), support.chat_id)


async def tell_supporters(
    ctx: Notifier,
    complaint: Complaint,
    text_key: str,
    choices: tuple[Choice, ...] = (),
    **params: str,
) -> int:
    """Send every reachable supporter of a complaint an update; return how many were reached.

    Only status changes reach supporters, never an officer's words to the reporter (they may be personal).
    """
    reached = 0
    for support in await ctx.uow.supports.of_complaint(complaint.id):
        key = support_key(support)
        if key is None:
            continue
        ctx.notify(
            Outbound(
                key=key,
                text_key=text_key,
                params={"code": complaint.code, **params},
                choices=choices,
                language=support.language,
                notice=NoticeKind.COMPLAINT_UPDATE,
            )
        )
        reached += 1
    return reached
