"""Rating and closure: the citizen's verdict reopens or closes; silence closes after 10 working days, once."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from suarawarga.bootstrap import App
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import Inbound
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, ComplaintStatus, EventKind
from suarawarga.jobs.closure import close_unanswered
from suarawarga.jobs.deadlines import check_deadlines
from tests.jobs.support import file, officer, outbox_to
from tests.support.clock import JAKARTA, FrozenClock
from tests.support.dialog import Conversation

RESOLVED_AT = datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA)  # a Monday


async def resolved_complaint(app: App, clock: FrozenClock) -> Complaint:
    """File a complaint from chat `warga-1`, accept and resolve it on Monday 23 November 2026."""
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=JAKARTA))
    staff = await officer(app, "DPUPR", "andi")
    complaint = await file(app, clock.now())
    async with app.uow() as uow:
        accepted = await handling.accept(uow, staff, complaint, RESOLVED_AT)
        done = await handling.resolve(uow, staff, accepted.complaint, "Sudah ditambal", (), RESOLVED_AT)
        await uow.commit()
    clock.set(RESOLVED_AT)
    return done.complaint


async def status_of(app: App, complaint: Complaint) -> tuple[ComplaintStatus, list[EventKind]]:
    """Return a complaint's status and the kinds of its events."""
    async with app.uow() as uow:
        stored = await uow.complaints.by_code(complaint.code)
        history = await uow.complaints.history(complaint.id)
    assert stored is not None
    return stored.status, [e.kind for e in history]


def press(citizen: Conversation, choice: str) -> Inbound:
    """Return a button press in the citizen's chat."""
    return dataclasses.replace(citizen.inbound("x"), text=None, choice=choice)


async def test_no_answer_closes_after_ten_working_days_once(app: App, clock: FrozenClock) -> None:
    """Nine working days after the resolution nothing happens; on the tenth it closes, once, with one invitation."""
    complaint = await resolved_complaint(app, clock)
    assert (await close_unanswered(app, datetime(2026, 12, 4, 16, 0, tzinfo=JAKARTA))).done == 0
    assert (await close_unanswered(app, datetime(2026, 12, 7, 6, 0, tzinfo=JAKARTA))).done == 1
    assert (await close_unanswered(app, datetime(2026, 12, 8, 6, 0, tzinfo=JAKARTA))).done == 0
    status, kinds = await status_of(app, complaint)
    assert status is ComplaintStatus.DITUTUP
    assert kinds[-1] is EventKind.CLOSED
    keys = [m.text_key for m in await outbox_to(app, "warga-1")]
    assert keys.count("update.closed") == 1
    assert keys.count("rating.survey_invite") == 1


async def test_good_rating_closes_and_invites_to_the_survey(
    app: App, clock: FrozenClock, dispatcher: Dispatcher
) -> None:
    """'Ya' then 4 closes the complaint and invites the citizen once to the OPD's IKM survey."""
    complaint = await resolved_complaint(app, clock)
    citizen = Conversation(dispatcher, clock, app.catalogue, "warga-1")
    assert await citizen.send(press(citizen, f"cmd:nilai {complaint.code} ya")) == ["rating.ask_score"]
    assert await citizen.say("4") == ["rating.closed"]  # typed "4" = the fourth option, score 4
    status, _ = await status_of(app, complaint)
    assert status is ComplaintStatus.DITUTUP
    assert [m.text_key for m in await outbox_to(app, "warga-1")].count("rating.survey_invite") == 1
    async with app.uow() as uow:
        rating = await uow.ratings.rating(complaint.id, 1)
        assert rating is not None and (rating.solved, rating.score) == ("ya", 4)
    assert (await close_unanswered(app, datetime(2026, 12, 8, 6, 0, tzinfo=JAKARTA))).done == 0


async def test_typed_option_n_is_score_n(app: App, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    """The rating menu lists the scores 1..4 in order, so a citizen typing 1 (meaning bad) reopens the complaint."""
    complaint = await resolved_complaint(app, clock)
    citizen = Conversation(dispatcher, clock, app.catalogue, "warga-1")
    assert await citizen.send(press(citizen, f"cmd:nilai {complaint.code} ya")) == ["rating.ask_score"]
    menu = citizen.last_texts[0].splitlines()
    assert "1 (tidak baik)" in menu[0] and "4 (sangat baik)" in menu[0]
    assert menu[1:] == ["  1. Tidak baik", "  2. Kurang baik", "  3. Baik", "  4. Sangat baik"]
    assert await citizen.say("1") == ["rating.reopened"]
    status, _ = await status_of(app, complaint)
    assert status is ComplaintStatus.DIPROSES
    async with app.uow() as uow:
        rating = await uow.ratings.rating(complaint.id, 1)
        assert rating is not None and (rating.solved, rating.score) == ("ya", 1)


async def test_not_solved_reopens_and_the_clock_keeps_running(
    app: App, clock: FrozenClock, dispatcher: Dispatcher
) -> None:
    """'Belum' reopens at once and tells the OPD; the resolution clock runs again from the original filing."""
    complaint = await resolved_complaint(app, clock)
    citizen = Conversation(dispatcher, clock, app.catalogue, "warga-1")
    assert await citizen.send(press(citizen, f"cmd:nilai {complaint.code} belum")) == [
        "rating.reopened",
        "rating.ask_score",
    ]
    status, kinds = await status_of(app, complaint)
    assert status is ComplaintStatus.DIPROSES
    assert kinds[-1] is EventKind.REOPENED
    assert [m.text_key for m in await outbox_to(app, "andi")][-1] == "staff.reopened"
    assert await citizen.say("2") == ["rating.thanks"]  # the score is kept; the complaint is already reopened
    assert (await close_unanswered(app, datetime(2026, 12, 8, 6, 0, tzinfo=JAKARTA))).done == 0
    # Filed 20 November: the 60-day resolution deadline (19 January) is escalated again after the reopen.
    late = datetime(2027, 1, 20, 9, 0, tzinfo=JAKARTA)
    result = await check_deadlines(app, late)
    assert result.done >= 1
    _, kinds = await status_of(app, complaint)
    assert EventKind.ESCALATED in kinds


async def test_a_verdict_after_the_closure_only_keeps_the_rating(
    app: App, clock: FrozenClock, dispatcher: Dispatcher
) -> None:
    """Once closed by silence, 'belum' reopens nothing and a good score closes nothing: both are only kept."""
    complaint = await resolved_complaint(app, clock)
    assert (await close_unanswered(app, datetime(2026, 12, 7, 6, 0, tzinfo=JAKARTA))).done == 1
    citizen = Conversation(dispatcher, clock, app.catalogue, "warga-1")
    assert await citizen.send(press(citizen, f"cmd:nilai {complaint.code} belum")) == ["rating.ask_score"]
    assert await citizen.say("4") == ["rating.thanks"]
    status, kinds = await status_of(app, complaint)
    assert status is ComplaintStatus.DITUTUP
    assert kinds.count(EventKind.CLOSED) == 1 and EventKind.REOPENED not in kinds
    async with app.uow() as uow:
        rating = await uow.ratings.rating(complaint.id, 1)
        assert rating is not None and (rating.solved, rating.score) == ("belum", 4)


async def test_low_score_reopens(app: App, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    """'Sebagian' with a rating of 2 reopens the complaint."""
    complaint = await resolved_complaint(app, clock)
    citizen = Conversation(dispatcher, clock, app.catalogue, "warga-1")
    assert await citizen.send(press(citizen, f"cmd:nilai {complaint.code} sebagian")) == ["rating.ask_score"]
    assert await citizen.send(press(citizen, f"cmd:nilai {complaint.code} 2")) == ["rating.reopened"]
    status, _ = await status_of(app, complaint)
    assert status is ComplaintStatus.DIPROSES


async def test_only_the_reporter_can_rate(app: App, clock: FrozenClock, dispatcher: Dispatcher) -> None:
    """Someone else pressing a rating button of another's complaint gets 'not found' and nothing changes."""
    complaint = await resolved_complaint(app, clock)
    stranger = Conversation(dispatcher, clock, app.catalogue, "stranger")
    assert await stranger.send(press(stranger, f"cmd:nilai {complaint.code} belum")) == ["status.not_found"]
    status, _ = await status_of(app, complaint)
    assert status is ComplaintStatus.SELESAI
