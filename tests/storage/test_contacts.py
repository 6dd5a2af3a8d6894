"""The WhatsApp window's bookkeeping: when each chat last wrote, kept monotonic, many chats at once."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName

WA = ChannelName.WHATSAPP


async def test_many_contacts_are_noted_at_once_and_never_move_back(app: App) -> None:
    """`note_contacts` sets new chats, moves known ones forward, and leaves a later time where it is."""
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.contacts.note_contact(WA, "6281", now)
        await uow.contacts.note_contact(WA, "6282", now)
        await uow.commit()
    async with app.uow() as uow:
        await uow.contacts.note_contacts(
            WA, {"6281": now + timedelta(minutes=5), "6282": now - timedelta(hours=1), "6283": now}
        )
        await uow.commit()
    async with app.uow() as uow:
        seen = await uow.contacts.last_contacts(WA, ["6281", "6282", "6283", "6284"])
    assert seen == {"6281": now + timedelta(minutes=5), "6282": now, "6283": now}
