"""Dialog tests of merging a duplicate into another complaint (`gabungkan`) and undoing it (`pisahkan`)."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.complaints.model import ComplaintStatus, EventKind
from suarawarga.complaints.statistics import complaint_statistics
from suarawarga.jobs.deadlines import check_deadlines
from suarawarga.reports.digest import gather
from suarawarga.surveys.periods import PeriodKind, period_containing
from tests.dialogs.test_staff_dialog import Officer, invite, to
from tests.jobs.support import file
from tests.site.support import client
from tests.support.clock import FrozenClock


async def officer_of(app: App, dispatcher: Dispatcher, clock: FrozenClock, unit: str, name: str) -> Officer:
    """Register an officer of a unit with a private console chat."""
    officer = Officer(dispatcher, app, clock, name)
    assert await officer.join(await invite(app, unit)) == ["staff.join.ok"]
    return officer


async def test_merge_closes_the_duplicate_and_its_reporter_follows_the_other(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, recorder: RecordingSender
) -> None:
    """The duplicate closes, its deadlines stop, its reporter is told and supports the target; pisahkan undoes it."""
    officer = await officer_of(app, dispatcher, clock, "DPUPR", "petugas-pu")
    target = await file(app, clock.now(), chat="warga-1")
    clock.advance(timedelta(hours=1))
    duplicate = await file(app, clock.now(), chat="warga-2")
    await officer.private.verify([(f"gabungkan {duplicate.code} ke {target.code}", ["merge.done"])])
    assert "Pelapornya sudah diberi tahu" in officer.private.last_texts[0]
    told = to(recorder, "warga-2")[-1]
    assert told.text_key == "update.merged" and told.params["target"] == target.code
    async with app.uow() as uow:
        merged = await uow.complaints.by_code(duplicate.code)
        (support,) = await uow.supports.of_complaint(target.id)
    assert merged is not None and merged.status is ComplaintStatus.DITUTUP
    assert support.chat_id == "warga-2" and support.merged_from_id == duplicate.id
    await officer.private.verify([("antrian", ["staff.queue"])])
    queue = officer.private.last_texts[0]
    assert f"{target.code} — Tercatat" in queue and "didukung 1 warga" in queue and duplicate.code not in queue
    # Deadlines: only the target's ladder runs (one complaint's alerts, not two).
    clock.advance(timedelta(days=6))
    await check_deadlines(app, clock.now())
    async with app.uow() as uow:
        alerted = {e.kind for e in await uow.complaints.history(duplicate.id)}
        target_alerts = [e for e in await uow.complaints.history(target.id) if e.kind is EventKind.ESCALATED]
    assert EventKind.ESCALATED not in alerted and EventKind.REMINDER not in alerted
    assert target_alerts
    # The merged complaint's reporter now hears the target's news.
    assert await officer.press(officer.private, f"cmd:st acc {target.code}", group=False) == ["staff.accepted"]
    assert to(recorder, "warga-2")[-1].text_key == "support.update.accepted"
    # Undo within 7 days: back in its own status, the reporter no longer a supporter, and told.
    await officer.private.verify([(f"pisahkan {duplicate.code}", ["unmerge.done"])])
    assert to(recorder, "warga-2")[-1].text_key == "update.unmerged"
    async with app.uow() as uow:
        back = await uow.complaints.by_code(duplicate.code)
        assert await uow.supports.of_complaint(target.id) == []
        history = [e.kind for e in await uow.complaints.history(duplicate.id)]
    assert back is not None and back.status is ComplaintStatus.DITERIMA
    assert history[-2:] == [EventKind.MERGED, EventKind.UNMERGED]


async def test_merge_moves_the_duplicates_supporters_and_unmerge_brings_them_back(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, recorder: RecordingSender
) -> None:
    """A supporter of the duplicate follows the target after a merge (and is told), and returns with an unmerge."""
    officer = await officer_of(app, dispatcher, clock, "DPUPR", "petugas-pu")
    target = await file(app, clock.now(), chat="warga-1")
    duplicate = await file(app, clock.now(), chat="warga-2")
    async with app.uow() as uow:
        await uow.supports.add(
            {
                "complaint_id": duplicate.id,
                "citizen_id": None,
                "channel": "console",
                "chat_id": "warga-3",
                "identity_mode": "named",
                "language": "id",
                "created_at": clock.now(),
                "via": "chat",
            }
        )
        await uow.commit()
    await officer.private.verify([(f"gabungkan {duplicate.code} {target.code}", ["merge.done"])])
    assert to(recorder, "warga-3")[-1].text_key == "update.merged.supporter"
    async with app.uow() as uow:
        assert (await uow.supports.counts([target.id, duplicate.id])) == {target.id: 2}
    await officer.private.verify([(f"pisahkan {duplicate.code}", ["unmerge.done"])])
    async with app.uow() as uow:
        assert (await uow.supports.counts([target.id, duplicate.id])) == {duplicate.id: 1}
        (back,) = await uow.supports.of_complaint(duplicate.id)
    assert back.chat_id == "warga-3" and back.merged_from_id is None


async def test_merge_is_refused_across_opds_to_other_units_and_to_citizens(
    app: App, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """Across OPDs: refused (even for the city admin); an officer of another unit, or a citizen: not allowed."""
    officer = await officer_of(app, dispatcher, clock, "DPUPR", "petugas-pu")
    other = await officer_of(app, dispatcher, clock, "DLH", "petugas-dlh")
    admin = await officer_of(app, dispatcher, clock, "BAG-ORGANISASI", "admin-kota")
    road = await file(app, clock.now(), chat="warga-1")
    road_again = await file(app, clock.now(), chat="warga-2")
    rubbish = await file(app, clock.now(), category="sampah", chat="warga-3")
    await officer.private.verify([(f"gabungkan {road.code} ke {rubbish.code}", ["staff.not_allowed"])])
    await admin.private.verify([(f"gabungkan {road.code} ke {rubbish.code}", ["merge.other_unit"])])
    await other.private.verify([(f"gabungkan {road_again.code} ke {road.code}", ["staff.not_allowed"])])
    citizen = other.private.__class__(dispatcher, clock, app.catalogue, "warga-1")
    await citizen.verify([(f"gabungkan {road_again.code} ke {road.code}", ["staff.not_allowed"])])
    await officer.private.verify(
        [
            (f"gabungkan {road.code} ke {road.code}", ["merge.same"]),
            ("gabungkan", ["usage.gabungkan"]),
            (f"gabungkan {road.code}", ["usage.gabungkan"]),
            (f"pisahkan {road.code}", ["unmerge.not_merged"]),
        ]
    )
    async with app.uow() as uow:
        statuses = {c.code: c.status for c in await uow.complaints.list()}
    assert set(statuses.values()) == {ComplaintStatus.DITERIMA}


async def test_a_merged_complaint_cannot_take_merges_and_unmerge_has_seven_days(
    app: App, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """Nothing merges into a closed duplicate; after 7 days the merge stays."""
    officer = await officer_of(app, dispatcher, clock, "DPUPR", "petugas-pu")
    first = await file(app, clock.now(), chat="warga-1")
    second = await file(app, clock.now(), chat="warga-2")
    third = await file(app, clock.now(), chat="warga-3")
    await officer.private.verify(
        [
            (f"gabungkan {second.code} ke {first.code}", ["merge.done"]),
            (f"gabungkan {third.code} ke {second.code}", ["merge.not_open"]),
        ]
    )
    clock.advance(timedelta(days=7, minutes=1))
    await officer.private.verify([(f"pisahkan {second.code}", ["unmerge.too_late"])])


async def test_digest_and_statistics_count_a_merged_duplicate_as_demand(
    app: App, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """Two complaints, one merged into the other: received 1 and supporters 1, in the digest and on the site."""
    officer = await officer_of(app, dispatcher, clock, "DPUPR", "petugas-pu")
    target = await file(app, clock.now(), chat="warga-1")
    duplicate = await file(app, clock.now(), chat="warga-2")
    await officer.private.verify([(f"gabungkan {duplicate.code} ke {target.code}", ["merge.done"])])
    week = period_containing(PeriodKind.WEEK, clock.now(), clock.tz)
    clock.set(week.end + timedelta(hours=1))
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, clock.now())
        (line,) = [u for u in digest.units if u.unit.code == "DPUPR"]
        (stats,) = await complaint_statistics(uow, app.calendar, clock.now())
    assert (line.received, line.supporters) == (1, 1)
    assert (stats.unit.code, stats.received, stats.supporters, stats.open_now) == ("DPUPR", 1, 1, 1)


async def test_the_tracking_page_shows_the_supporters_and_the_merge(
    app: App, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """/lacak shows "Didukung: N warga" on the target and the "digabungkan" step on the duplicate; no names."""
    officer = await officer_of(app, dispatcher, clock, "DPUPR", "petugas-pu")
    target = await file(app, clock.now(), chat="warga-1")
    duplicate = await file(app, clock.now(), chat="warga-2")
    await officer.private.verify([(f"gabungkan {duplicate.code} ke {target.code}", ["merge.done"])])
    async with client(app) as http:
        shown = (await http.get(f"/lacak/{target.code}")).text
        merged = (await http.get(f"/lacak/{duplicate.code}")).text
    assert 'data-supporters="1"' in shown and "1 warga" in shown
    assert "Digabungkan dengan laporan lain tentang masalah yang sama" in merged
    assert "Ani" not in shown + merged and "warga-2" not in shown + merged
