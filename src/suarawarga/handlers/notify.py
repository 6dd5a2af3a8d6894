"""Messages about a complaint to the OPD that handles it and to the citizen who filed it."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX
from suarawarga.bot.messages import Attachment, ChannelName, Choice, ConversationKey, NoticeKind, Outbound, OutboundFile
from suarawarga.bot.texts import Catalogue
from suarawarga.complaints.model import ActorKind, Complaint, IdentityMode, NewAttachment, Staff, StaffRole, Unit
from suarawarga.complaints.places import kecamatan_label
from suarawarga.storage.uow import UnitOfWork

STAFF_LANGUAGE = "id"  # officers' groups work in Indonesian; an officer's own chat uses the language they chose
DESCRIPTION_PREVIEW = 1500


class Notifier(Protocol):
    """What composing a notification needs: a flow's Turn, or a job's context."""

    uow: UnitOfWork
    catalogue: Catalogue

    def notify(self, outbound: Outbound) -> None:
        """Queue a message to some chat, sent after the commit."""
        ...


class Action(StrEnum):
    """Officer actions; their names are in the buttons' data (`st ACTION CODE`) and the button text keys."""

    ACCEPT = "acc"
    INFO = "info"
    REPLY = "reply"
    TRANSFER = "xfer"
    RESOLVE = "done"
    IDENTITY = "who"


def staff_actions(code: str, confidential: bool = False) -> tuple[Choice, ...]:
    """Return the buttons an officer gets with a complaint (and, if confidential, one to see the reporter)."""
    actions = [a for a in Action if confidential or a is not Action.IDENTITY]
    return tuple(Choice(f"{COMMAND_CHOICE_PREFIX}st {action} {code}", f"staff.button.{action}") for action in actions)


def officer_recipient(staff: Staff) -> tuple[ConversationKey, str]:
    """Return an officer's private chat and the language they chose."""
    return ConversationKey(ChannelName(staff.channel), staff.chat_id), staff.language


async def unit_recipients(ctx: Notifier, unit_id: int) -> list[tuple[ConversationKey, str]]:
    """Return a unit's notification chats with their language: groups in STAFF_LANGUAGE, officers in their own."""
    groups = await ctx.uow.staff.chats_of_unit(unit_id)
    if groups:
        return [(key, STAFF_LANGUAGE) for key in groups]
    officers = await ctx.uow.staff.for_unit(unit_id, (StaffRole.OFFICER, StaffRole.HEAD, StaffRole.ADMIN))
    return [officer_recipient(s) for s in officers]


QUOTE = "│ "  # starts every line of citizen text in an officer's message


def one_line(text: str) -> str:
    """Return citizen text for a one-line field of an officer's message: breaks and control characters as spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def quoted(text: str) -> str:
    """Return citizen text as a quoted block: each line starts with a bar, so none can pass for a field above it."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = "".join(ch if ch.isprintable() or ch == "\u200d" else " " for ch in raw).strip()
        if line or (lines and lines[-1]):  # one blank line at most between paragraphs
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(QUOTE + line for line in lines) or QUOTE + "-"


async def _photos_and_supporters(
    ctx: Notifier, complaint: Complaint, photos: Sequence[NewAttachment] | None, supporters: int | None
) -> tuple[Sequence[NewAttachment], int]:
    """Return the citizen's photos and the supporter count of a complaint, reading what the caller did not give."""
    if photos is None:
        photos = await ctx.uow.complaints.attachments(complaint.id, ActorKind.CITIZEN)
    if supporters is None:
        supporters = (await ctx.uow.supports.counts([complaint.id])).get(complaint.id, 0)
    return photos, supporters


async def card_params(
    ctx: Notifier,
    complaint: Complaint,
    unit: Unit,
    language: str = STAFF_LANGUAGE,
    photos: Sequence[NewAttachment] | None = None,
    supporters: int | None = None,
) -> dict[str, str]:
    """Return the fields of a complaint's card for officers; citizen text is made one-line or quoted.

    `photos`, `supporters`: the citizen's files and the supporter count when the caller has them; by default read.
    """
    category = await ctx.uow.categories.get(complaint.category_id)
    kecamatan = await ctx.uow.units.get(complaint.kecamatan_id) if complaint.kecamatan_id else None
    photos, supporters = await _photos_and_supporters(ctx, complaint, photos, supporters)
    if complaint.latitude is not None and complaint.longitude is not None:
        where = f"{complaint.latitude:.5f}, {complaint.longitude:.5f}"
    else:
        where = one_line(complaint.location_text or "")
    description = complaint.description
    if len(description) > DESCRIPTION_PREVIEW:
        description = description[:DESCRIPTION_PREVIEW] + "…"
    return {
        "code": complaint.code,
        "unit": unit.name,
        "category": category.name(language) if category else "-",
        "description": description,  # raw, for WhatsApp templates (which take one-line parameters)
        "text": quoted(description),  # what the catalogue texts show: last, and quoted
        "location": where or ctx.catalogue.render("complaint.summary.no_location", language, {}),
        "kecamatan": kecamatan_label(kecamatan.name)
        if kecamatan
        else ctx.catalogue.render("complaint.summary.no_kecamatan", language, {}),
        "reporter": _reporter(ctx, complaint, language),
        "photos": str(len(photos)),
        "supporters": ctx.catalogue.render("staff.card.supporters", language, {"count": str(supporters)})
        if supporters
        else "",
    }


async def announce_complaint(
    ctx: Notifier,
    complaint: Complaint,
    unit: Unit,
    text_key: str = "staff.new",
    targets: list[tuple[ConversationKey, str]] | None = None,
    photos: Sequence[NewAttachment] | None = None,
    supporters: int | None = None,
) -> None:
    """Post a complaint with its action buttons (and the citizen's photos) to the unit's officers (or `targets`).

    `targets`: chats with the language to write in (by default the unit's recipients, each in their own).
    `photos`, `supporters`: the citizen's files and the supporter count when the caller has them (it just filed
    the complaint); by default they are read, once for all recipients. The card is built once per language.
    """
    recipients = await unit_recipients(ctx, unit.id) if targets is None else targets
    if not recipients:
        return
    photos, supporters = await _photos_and_supporters(ctx, complaint, photos, supporters)
    cards: dict[str, dict[str, str]] = {}  # one card per language
    for key, language in recipients:
        if language not in cards:
            cards[language] = await card_params(ctx, complaint, unit, language, photos, supporters)
        params = dict(cards[language])
        ctx.notify(
            Outbound(
                key=key,
                text_key=text_key,
                params=params,
                choices=staff_actions(complaint.code, complaint.identity_mode is IdentityMode.RAHASIA),
                language=language,
                files=tuple(OutboundFile(Attachment.PHOTO, p.path) for p in photos),
                notice=NoticeKind.COMPLAINT_NEW,
            )
        )


def contact_text(ctx: Notifier, complaint: Complaint, language: str) -> str:
    """Return the reporter's phone number, or words saying there is none (never a bare dash)."""
    return complaint.reporter_contact or ctx.catalogue.render("staff.no_contact", language, {})


def _reporter(ctx: Notifier, complaint: Complaint, language: str) -> str:
    """Say what the OPD may see of the reporter, which depends on the identity mode the citizen chose."""
    if complaint.identity_mode is IdentityMode.NAMED:
        # One line each: a name or number with line breaks could forge a field of the card.
        return ctx.catalogue.render(
            "staff.reporter.named",
            language,
            {
                "name": one_line(complaint.reporter_name or ""),
                "contact": one_line(contact_text(ctx, complaint, language)),
            },
        )
    return ctx.catalogue.render(f"staff.reporter.{complaint.identity_mode}", language)


async def tell_unit(ctx: Notifier, unit_id: int, text_key: str, **params: str) -> None:
    """Send a short message about a complaint to a unit's officers."""
    for key, language in await unit_recipients(ctx, unit_id):
        ctx.notify(
            Outbound(key=key, text_key=text_key, params=params, language=language, notice=NoticeKind.STAFF_UPDATE)
        )


def citizen_key(complaint: Complaint) -> ConversationKey | None:
    """Return the chat of the citizen who filed a complaint (None for anonymous complaints)."""
    if complaint.channel is None or complaint.chat_id is None:
        return None
    return ConversationKey(ChannelName(complaint.channel), complaint.chat_id)


def tell_citizen(
    ctx: Notifier,
    complaint: Complaint,
    text_key: str,
    choices: tuple[Choice, ...] = (),
    files: tuple[OutboundFile, ...] = (),
    notice: NoticeKind = NoticeKind.COMPLAINT_UPDATE,
    **params: str,
) -> bool:
    """Send the citizen an update about their complaint; False when they cannot be reached (anonymous)."""
    key = citizen_key(complaint)
    if key is None:
        return False
    ctx.notify(
        Outbound(
            key=key,
            text_key=text_key,
            params={"code": complaint.code, **params},
            choices=choices,
            language=complaint.language,
            files=files,
            notice=notice,
        )
    )
    return True
