"""Messages about a complaint to the OPD that handles it and to the citizen who filed it."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX
from suarawarga.bot.messages import Attachment, ChannelName, Choice, ConversationKey, Outbound, OutboundFile
from suarawarga.bot.texts import Catalogue
from suarawarga.complaints.model import ActorKind, Complaint, IdentityMode, Staff, StaffRole, Unit
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


async def unit_targets(ctx: Notifier, unit_id: int) -> list[ConversationKey]:
    """Return where a unit's notifications go: its linked groups, or else its officers' private chats."""
    return [key for key, _ in await unit_recipients(ctx, unit_id)]


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


async def announce_complaint(ctx: Notifier, complaint: Complaint, unit: Unit, text_key: str = "staff.new") -> None:
    """Post a complaint with its action buttons (and the citizen's photos) to the unit's officers."""
    category = await ctx.uow.categories.get(complaint.category_id)
    kecamatan = await ctx.uow.units.get(complaint.kecamatan_id) if complaint.kecamatan_id else None
    photos = await ctx.uow.complaints.attachments(complaint.id, ActorKind.CITIZEN)
    if complaint.latitude is not None and complaint.longitude is not None:
        where = f"{complaint.latitude:.5f}, {complaint.longitude:.5f}"
    else:
        where = complaint.location_text or ""
    description = complaint.description
    if len(description) > DESCRIPTION_PREVIEW:
        description = description[:DESCRIPTION_PREVIEW] + "…"
    for key, language in await unit_recipients(ctx, unit.id):
        ctx.notify(
            Outbound(
                key=key,
                text_key=text_key,
                params={
                    "code": complaint.code,
                    "unit": unit.name,
                    "category": category.name(language) if category else "-",
                    "description": description,
                    "location": where or ctx.catalogue.render("complaint.summary.no_location", language, {}),
                    "kecamatan": kecamatan_label(kecamatan.name)
                    if kecamatan
                    else ctx.catalogue.render("complaint.summary.no_kecamatan", language, {}),
                    "reporter": _reporter(ctx, complaint, language),
                    "photos": str(len(photos)),
                },
                choices=staff_actions(complaint.code, complaint.identity_mode is IdentityMode.RAHASIA),
                language=language,
                files=tuple(OutboundFile(Attachment.PHOTO, p.path) for p in photos),
                template="complaint_new",
            )
        )


def contact_text(ctx: Notifier, complaint: Complaint, language: str) -> str:
    """Return the reporter's phone number, or words saying there is none (never a bare dash)."""
    return complaint.reporter_contact or ctx.catalogue.render("staff.no_contact", language, {})


def _reporter(ctx: Notifier, complaint: Complaint, language: str) -> str:
    """Say what the OPD may see of the reporter, which depends on the identity mode the citizen chose."""
    if complaint.identity_mode is IdentityMode.NAMED:
        return ctx.catalogue.render(
            "staff.reporter.named",
            language,
            {"name": complaint.reporter_name or "", "contact": contact_text(ctx, complaint, language)},
        )
    return ctx.catalogue.render(f"staff.reporter.{complaint.identity_mode}", language)


async def tell_unit(ctx: Notifier, unit_id: int, text_key: str, **params: str) -> None:
    """Send a short message about a complaint to a unit's officers."""
    for key, language in await unit_recipients(ctx, unit_id):
        ctx.notify(Outbound(key=key, text_key=text_key, params=params, language=language, template="staff_update"))


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
    template: str = "complaint_update",
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
            template=template,
        )
    )
    return True
