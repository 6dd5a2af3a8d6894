"""Retention: closed complaints lose their files and personal data after the retention period, once."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.messages import MediaKind
from suarawarga.complaints import handling
from suarawarga.complaints.model import ActorKind, NewAttachment
from suarawarga.jobs.retention import ERASED, erase_old
from tests.jobs.support import file, officer
from tests.support.clock import FrozenClock
from tests.support.images import jpeg_with_gps


async def test_old_closed_complaints_are_anonymised(app: App, clock: FrozenClock) -> None:
    """Two years after closure the reporter, text, notes and photos are gone; statistics fields stay."""
    staff = await officer(app, "DPUPR", "andi")
    complaint = await file(app, clock.now())
    photo = app.attachments.save(jpeg_with_gps(), "image/jpeg", MediaKind.PHOTO, clock.now())
    async with app.uow() as uow:
        await uow.complaints.add_attachments(
            complaint.id,
            [NewAttachment("photo", photo.path, photo.mime, photo.size, photo.sha256)],
            ActorKind.CITIZEN,
            clock.now(),
        )
        done = await handling.resolve(uow, staff, complaint, "Sudah ditambal", (), clock.now())
        await handling.close(uow, done.complaint, "rating 4", clock.now(), by_citizen=True)
        await uow.commit()
    assert (await erase_old(app, clock.now() + timedelta(days=700))).done == 0
    later = clock.now() + timedelta(days=731)
    assert (await erase_old(app, later)).done == 1
    assert (await erase_old(app, later)).done == 0
    async with app.uow() as uow:
        stored = await uow.complaints.by_code(complaint.code)
        history = await uow.complaints.history(complaint.id)
        files = await uow.complaints.attachment_count(complaint.id)
    assert stored is not None
    assert (stored.reporter_name, stored.citizen_id, stored.chat_id, stored.description) == (None, None, None, ERASED)
    assert all(e.note is None for e in history)
    assert stored.category_id == complaint.category_id
    assert stored.unit_id == complaint.unit_id
    assert files == 0
    assert not (app.attachments.root / photo.path).exists()


async def test_message_logs_are_pruned_after_a_month(app: App, clock: FrozenClock) -> None:
    """Sent messages and processed raw updates older than the message-log period are deleted; pending stay."""
    from suarawarga.bot.channels.console import console_key
    from suarawarga.bot.messages import ChannelName, Outbound

    async with app.uow() as uow:
        sent, pending = await uow.outbox.add_many(
            [Outbound(console_key("a"), "menu.intro"), Outbound(console_key("b"), "menu.intro")], clock.now()
        )
        await uow.outbox.mark_sent([sent.id], clock.now())
        await uow.inbox.add(
            ChannelName.TELEGRAM, "1", {"update_id": 1, "message": {"from": {"first_name": "Ani"}}}, clock.now()
        )
        await uow.inbox.finish([update.id for update in await uow.inbox.pending()], clock.now())
        await uow.commit()
    result = await erase_old(app, clock.now() + timedelta(days=31))
    assert result.details == ["2 old message records pruned"]
    async with app.uow() as uow:
        assert await uow.outbox.counts() == {"pending": 1}
        assert await uow.inbox.counts() == {}
    assert pending.id


async def test_erased_complaints_are_not_read_again(app: App, clock: FrozenClock) -> None:
    """Once erased, a complaint no longer comes up for retention: the nightly run reads only what is due."""
    staff = await officer(app, "DPUPR", "andi")
    complaint = await file(app, clock.now())
    async with app.uow() as uow:
        done = await handling.resolve(uow, staff, complaint, "Sudah ditambal", (), clock.now())
        await handling.close(uow, done.complaint, "rating 4", clock.now(), by_citizen=True)
        await uow.commit()
    later = clock.now() + timedelta(days=731)
    async with app.uow() as uow:  # the cutoff: closed before this moment
        assert await uow.complaints.closed_before(clock.now() - timedelta(seconds=1), ERASED) == []
        assert await uow.complaints.closed_before(clock.now(), ERASED) == [complaint.id]
    assert (await erase_old(app, later)).done == 1
    again = await erase_old(app, later)
    assert (again.done, again.skipped) == (0, 0)
    async with app.uow() as uow:
        assert await uow.complaints.closed_before(clock.now(), ERASED) == []
