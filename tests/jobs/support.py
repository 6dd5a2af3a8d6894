"""Helpers for job tests: file complaints and register officers without going through chat."""

from __future__ import annotations

from datetime import datetime

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName, Outbound
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, IdentityMode, Staff, StaffRole
from suarawarga.complaints.services import ComplaintDraft, file_complaint


async def file(app: App, at: datetime, category: str = "jalan_rusak", chat: str = "warga-1") -> Complaint:
    """File a named complaint from a console citizen at a given moment."""
    async with app.uow() as uow:
        citizen = await uow.citizens.find(ChannelName.CONSOLE, chat)
        citizen_id = citizen.id if citizen else await uow.citizens.register(ChannelName.CONSOLE, chat, "id", at, True)
        filed = await file_complaint(
            uow,
            ComplaintDraft(
                category_code=category,
                description="Jalan berlubang besar di depan sekolah",
                identity_mode=IdentityMode.NAMED,
                channel=ChannelName.CONSOLE,
                chat_id=chat,
                citizen_id=citizen_id,
                language="id",
                reporter_name="Ani",
            ),
            at,
            "PDG",
        )
        await uow.commit()
        complaint = await uow.complaints.by_code(filed.code)
    assert complaint is not None
    return complaint


async def officer(app: App, unit: str, name: str, role: StaffRole = StaffRole.OFFICER) -> Staff:
    """Register an officer of a unit on the console channel."""
    now = app.clock.now()
    async with app.uow() as uow:
        code, _, _ = await handling.create_invite(uow, unit, role, now)
        await handling.join(uow, code, ChannelName.CONSOLE, name, name, name.title(), now)
        await uow.commit()
        members = await uow.staff.memberships(ChannelName.CONSOLE, name)
    return members[0]


async def outbox_to(app: App, chat: str) -> list[Outbound]:
    """Return every outbox message to a console chat, oldest first."""
    async with app.uow() as uow:
        return [state.message for state in await uow.outbox.for_recipient(ChannelName.CONSOLE, chat)]
