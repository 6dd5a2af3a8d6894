"""Deadline reminders and the escalation ladder, with a frozen clock moved by the test."""

from __future__ import annotations

from datetime import datetime

from suarawarga.bootstrap import App
from suarawarga.complaints.model import ComplaintStatus, EventKind, StaffRole
from suarawarga.jobs.deadlines import check_deadlines
from tests.jobs.support import file, officer, outbox_to
from tests.support.clock import JAKARTA, FrozenClock


def at(day: int, month: int = 6, hour: int = 9) -> datetime:
    """Return a moment in 2026, city time."""
    return datetime(2026, month, day, hour, 0, tzinfo=JAKARTA)


async def test_reminders_and_escalations_happen_once_at_the_right_moment(app: App, clock: FrozenClock) -> None:
    """A complaint filed on the Friday before a long weekend is reminded and escalated on the right days, once."""
    await officer(app, "DPUPR", "andi")
    await officer(app, "DPUPR", "kepala", StaffRole.HEAD)
    await officer(app, "BAG-ORGANISASI", "admin", StaffRole.ADMIN)
    complaint = await file(app, at(29, 5, 10))

    async def run(moment: datetime) -> int:
        clock.set(moment)
        return (await check_deadlines(app, moment)).done

    assert await run(at(3)) == 0  # Wednesday: nothing due yet
    assert await run(at(4)) == 1  # Thursday, last working day: reminder (accept)
    assert await run(at(4, hour=15)) == 0  # same day again: nothing new
    assert await run(at(5)) == 1  # Friday: accept missed -> officers
    assert await run(at(6)) == 0  # Saturday
    assert await run(at(8)) == 2  # Monday: accept -> head; respond reminder
    assert await run(at(9)) == 2  # Tuesday: accept -> city admin; respond missed -> officers
    assert await run(at(9, hour=16)) == 0

    andi = [m.text_key for m in await outbox_to(app, "andi")]
    kepala = [m.text_key for m in await outbox_to(app, "kepala")]
    admin = [m.text_key for m in await outbox_to(app, "admin")]
    assert andi.count("alert.reminder") == 2
    assert andi.count("alert.escalated.officers") == 2
    assert kepala.count("alert.escalated.head") == 1
    assert admin.count("alert.escalated.city_admin") == 1
    async with app.uow() as uow:
        stored = await uow.complaints.by_code(complaint.code)
        history = await uow.complaints.history(complaint.id)
    assert stored is not None and stored.status is ComplaintStatus.DITERIMA  # escalation never changes status
    assert [e.kind for e in history].count(EventKind.ESCALATED) == 4
    assert [e.kind for e in history].count(EventKind.REMINDER) == 2


async def test_meeting_a_deadline_stops_its_alerts(app: App, clock: FrozenClock) -> None:
    """A complaint accepted in time gets no accept escalation; one answered in time gets no respond alerts."""
    from suarawarga.complaints import handling

    staff = await officer(app, "DPUPR", "andi")
    complaint = await file(app, at(29, 5, 10))
    async with app.uow() as uow:
        await handling.accept(uow, staff, complaint, at(2))
        updated = await uow.complaints.by_code(complaint.code)
        assert updated is not None
        await handling.reply(uow, staff, updated, "Akan kami tinjau", at(2, hour=10))
        await uow.commit()
    for day in (3, 4, 5, 8, 9, 10):
        clock.set(at(day))
        assert (await check_deadlines(app, at(day))).done == 0
