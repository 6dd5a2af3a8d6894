"""What an officer reads in chat: the queue (`antrian`), a complaint's card with its actions (`tindak KODE`), a
complaint's whole history (`status KODE`), and the officers' part of the help."""

from __future__ import annotations

import logging

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX, STAY, Turn
from suarawarga.bot.messages import Choice, Outbound
from suarawarga.complaints import handling
from suarawarga.complaints.model import OPEN_STATUSES, EventKind, can_handle, normalise_code
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.handlers import common
from suarawarga.handlers.common import Cmd, format_time, sender_of, status_label, usage
from suarawarga.handlers.notify import card_params, one_line
from suarawarga.handlers.staff import allowed_actions, authorised

log = logging.getLogger(__name__)

QUEUE_LIMIT = 20


async def queue_command(turn: Turn, _args: str) -> str:
    """`antrian`: list the open complaints of the officer's units (in a group: those linked to it), oldest first.

    Each item has a button (and the documented `tindak KODE`) that shows it with its actions; only staff may
    read a queue, also in a linked group.
    """
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    unit_ids = [s.unit_id for s in memberships]
    if turn.inbound.group and memberships:
        linked = await turn.uow.staff.units_of_chat(turn.inbound.key.channel, turn.inbound.key.chat_id)
        admin = await turn.uow.units.city_admin()
        unit_ids = [u for u in linked if any(can_handle(s, u, admin.id if admin else None) for s in memberships)]
    if not unit_ids:
        turn.reply("staff.not_allowed")
        return STAY
    now = turn.clock.now()
    for unit_id in dict.fromkeys(unit_ids):
        unit = await turn.uow.units.get(unit_id)
        open_ = await turn.uow.complaints.list(unit_id, statuses=OPEN_STATUSES, limit=QUEUE_LIMIT)
        if unit is None:
            continue
        if not open_:
            turn.reply("staff.queue.empty", unit=unit.name)
            continue
        supporters = await turn.uow.supports.counts(c.id for c in open_)
        lines = [
            turn.text(
                "staff.queue.item",
                number=str(number),
                code=c.code,
                status=status_label(turn, c.status),
                days=str((now - c.filed_at).days),
                supporters=turn.text("staff.queue.supporters", count=str(supporters[c.id]))
                if supporters.get(c.id)
                else "",
            )
            for number, c in enumerate(open_, 1)
        ]
        buttons = [Choice(f"{COMMAND_CHOICE_PREFIX}{Cmd.ACT} {c.code}", "label", {"label": c.code}) for c in open_]
        turn.reply("staff.queue", buttons, unit=unit.name, items="\n".join(lines), count=str(len(open_)))
    return STAY


async def act_command(turn: Turn, args: str) -> str:
    """`tindak KODE`: show an officer a complaint of their unit with the actions its status allows."""
    code = normalise_code(args)
    if code is None:
        usage(turn, "usage.tindak", args)
        return STAY
    found = await authorised(turn, code)
    if found is not None:
        complaint = found[1]
        unit = await turn.uow.units.get(complaint.unit_id)
        if unit is not None:
            params = await card_params(turn, complaint, unit, turn.language)
            params["status"] = status_label(turn, complaint.status)
            params["filed"] = format_time(turn, complaint.filed_at)
            actions = allowed_actions(complaint)
            turn.replies.append(
                Outbound(
                    key=turn.inbound.key, text_key="staff.card", params=params, choices=actions, language=turn.language
                )
            )
            if not actions:
                turn.reply("staff.card.no_action")
    return STAY


async def officer_status(turn: Turn, code: str) -> bool:
    """Show `status KODE` to an officer who may handle the complaint (its whole history, and its actions).

    Returns False (nothing said) when the sender is not such an officer, or filed the complaint themselves:
    then the citizen's view answers.
    """
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if not memberships:
        return False
    try:
        staff, complaint = await handling.authorise(turn.uow, memberships, code)
    except (NotAllowed, NotFound):
        return False
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if found is not None and complaint.citizen_id == found.id:
        return False
    unit = await turn.uow.units.get(complaint.unit_id)
    category = await turn.uow.categories.get(complaint.category_id)
    lines = [
        turn.text(
            "staff.history.info_provided" if e.kind is EventKind.INFO_PROVIDED else f"history.{e.kind}",
            at=format_time(turn, e.at),
            note=one_line(e.note or ""),
        )
        for e in await turn.uow.complaints.history(complaint.id)
    ]
    turn.reply(
        "status.detail",
        allowed_actions(complaint),
        code=complaint.code,
        status=status_label(turn, complaint.status),
        category=category.name(turn.language) if category else "-",
        unit=unit.name if unit else "-",
        filed=format_time(turn, complaint.filed_at),
        history="\n".join(lines),
    )
    log.info("officer %d looked up complaint %d", staff.id, complaint.id)
    return True


async def help_command(turn: Turn, args: str) -> str:
    """`bantuan`: the commands everyone has, and for an officer also the officers' commands."""
    outcome = await common.help_(turn, args)
    if await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn)):
        # after the common commands, before the menu (whose buttons a typed number refers to)
        turn.replies.insert(1, Outbound(key=turn.inbound.key, text_key="staff.help", language=turn.language))
    return outcome
