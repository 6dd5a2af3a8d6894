"""Weekly digests: figures checked against the database, sent once per unit and week, chart and workbook."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from PIL import Image

from suarawarga.bootstrap import App
from suarawarga.bot.messages import Attachment
from suarawarga.complaints import handling
from suarawarga.complaints.model import StaffRole, Unit
from suarawarga.jobs.digests import send_weekly_digests
from suarawarga.reports.digest import DIGEST_KINDS, gather
from suarawarga.surveys.definitions import Unsur
from suarawarga.surveys.model import NewResponse, ResponseSource
from suarawarga.surveys.periods import parse_period
from tests.jobs.support import file, officer, outbox_to
from tests.support.clock import JAKARTA, FrozenClock

MONDAY_W49 = datetime(2026, 11, 30, 7, 0, tzinfo=JAKARTA)


async def seed_week(app: App, clock: FrozenClock) -> None:
    """Three DPUPR complaints in week 48 (one accepted, one resolved), one in week 47, and survey answers."""
    andi = await officer(app, "DPUPR", "andi")
    await officer(app, "DPUPR", "kepala", StaffRole.HEAD)
    await officer(app, "BAG-ORGANISASI", "admin", StaffRole.ADMIN)
    await file(app, datetime(2026, 11, 18, 9, 0, tzinfo=JAKARTA))  # week 47
    first = await file(app, datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA))
    second = await file(app, datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA))
    await file(app, datetime(2026, 11, 25, 9, 0, tzinfo=JAKARTA), category="sampah")  # goes to DLH
    async with app.uow() as uow:
        await handling.accept(uow, andi, first, datetime(2026, 11, 23, 15, 0, tzinfo=JAKARTA))  # 6 h
        accepted = await handling.accept(uow, andi, second, datetime(2026, 11, 25, 9, 0, tzinfo=JAKARTA))  # 24 h
        await handling.resolve(uow, andi, accepted.complaint, "Sudah", (), datetime(2026, 11, 27, 9, 0, tzinfo=JAKARTA))
        unit = await uow.units.by_code("DPUPR")
        assert unit is not None
        for day, score in ((23, 4), (24, 3), (26, 3)):
            await uow.surveys.add(
                NewResponse(
                    unit_id=unit.id,
                    submitted_at=datetime(2026, 11, day, 10, 0, tzinfo=JAKARTA),
                    answers=dict.fromkeys(Unsur, score),
                    source=ResponseSource.CHAT,
                )
            )
        await uow.commit()
    clock.set(MONDAY_W49)


async def test_unit_figures_match_the_database(app: App, clock: FrozenClock) -> None:
    """Received, accepted, resolved, medians, week-on-week change and IKM are computed from the stored data."""
    await seed_week(app, clock)
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, parse_period("2026-W48", JAKARTA), MONDAY_W49)
    line = next(u for u in digest.units if u.unit.code == "DPUPR")
    assert (line.received, line.accepted, line.resolved, line.reopened) == (2, 2, 1, 0)
    assert line.received_change == 1
    assert line.median_accept_hours == Decimal("15.00")  # median of 6 h and 24 h
    assert line.median_resolve_days == Decimal("3.00")
    # Three respondents answering 4, 3, 3 on every unsur: NRR 10/3, IKM = 10/3 x 25 = 83.33 (B).
    assert line.ikm_week.ikm == Decimal("83.33")
    assert line.ikm_week.mutu == "B"
    assert line.ikm_week.n == 3
    assert line.ikm_quarter.n == 3
    # The week-47 complaint has been open since 18 November: past its 3-working-day acceptance clock.
    assert line.overdue == 1
    dlh = next(u for u in digest.units if u.unit.code != "DPUPR" and u.received == 1)
    assert dlh.ikm_week.ikm is None


async def test_each_digest_is_sent_once(app: App, clock: FrozenClock) -> None:
    """The first run sends to the OPD's officers and head and the city admins; a rerun sends nothing."""
    await seed_week(app, clock)
    first = await send_weekly_digests(app, MONDAY_W49)
    again = await send_weekly_digests(app, MONDAY_W49 + timedelta(minutes=5))
    assert first.done == 3  # DPUPR, Bagian Organisasi (the admin is its officer) and the city ranking
    assert again.done == 0
    assert again.skipped == 3
    officer_msgs = [m for m in await outbox_to(app, "andi") if m.text_key == "digest.unit"]
    head_msgs = [m for m in await outbox_to(app, "kepala") if m.text_key == "digest.unit"]
    city_msgs = [m for m in await outbox_to(app, "admin") if m.text_key == "digest.city"]
    assert (len(officer_msgs), len(head_msgs), len(city_msgs)) == (1, 1, 1)
    text = app.catalogue.render("digest.unit", "id", officer_msgs[0].params)
    assert "Pengaduan masuk: 2 (+1 dari minggu lalu)" in text
    assert "IKM minggu ini: 83,33" in text
    files = city_msgs[0].files
    assert [f.kind for f in files] == [Attachment.PHOTO, Attachment.DOCUMENT]
    with Image.open(app.attachments.root / files[0].path) as chart:
        assert chart.format == "PNG"
        assert chart.size[1] > 300  # the units with figures; the others are counted in a footnote
    workbook = load_workbook(app.attachments.root / files[1].path)
    rows = list(workbook["Ringkasan"].iter_rows(min_row=3, values_only=True))
    codes = {row[1] for row in rows}
    async with app.uow() as uow:
        expected = {u.code for u in digest_units(await uow.units.list())}
    assert codes == expected
    dpupr = next(row for row in rows if row[1] == "DPUPR")
    assert dpupr[3:8] == (2, 2, 1, 0, 1)
    assert dpupr[15] == 83.33


def digest_units(units: list[Unit]) -> list[Unit]:
    """Return the units a digest covers (OPD-level: opd, kecamatan, other)."""
    return [u for u in units if u.kind in DIGEST_KINDS]


class Killed(Exception):
    """The process died: raised instead of a commit."""


async def test_a_run_killed_midway_and_restarted_sends_each_digest_once(app: App, clock: FrozenClock) -> None:
    """Twelve OPDs with officers; the run dies at the 5th commit; the rerun completes; everyone got exactly one."""
    from suarawarga.storage.uow_sql import SqlUnitOfWork

    async with app.uow() as uow:
        units = [u.code for u in digest_units(await uow.units.list())][:12]
    for number, code in enumerate(units):
        await officer(app, code, f"officer-{number}")
    await officer(app, "BAG-ORGANISASI", "admin", StaffRole.ADMIN)
    clock.set(MONDAY_W49)

    commits = 0

    class DyingUnitOfWork(SqlUnitOfWork):
        """Dies (instead of committing) at the 5th commit of the run."""

        async def commit(self) -> None:
            nonlocal commits
            commits += 1
            if commits == 5:
                raise Killed
            await super().commit()

    healthy = app.uow

    def dying(*, autocommit: bool = False) -> DyingUnitOfWork:
        return DyingUnitOfWork(app.db, app.settings.tz, autocommit=autocommit)

    app.uow = dying  # type: ignore[method-assign]
    try:
        await send_weekly_digests(app, MONDAY_W49)
    except Killed:
        pass
    else:
        raise AssertionError("the run should have died")
    app.uow = healthy  # type: ignore[method-assign]
    assert commits == 5
    rerun = await send_weekly_digests(app, MONDAY_W49)
    assert rerun.skipped == 4  # the four digests committed before the crash
    for number in range(len(units)):
        got = [m for m in await outbox_to(app, f"officer-{number}") if m.text_key == "digest.unit"]
        assert len(got) == 1, f"officer-{number} got {len(got)} digests"
    admin = [m.text_key for m in await outbox_to(app, "admin")]
    assert admin.count("digest.city") == 1


async def test_run_job_with_a_period_digests_that_week(app: App, clock: FrozenClock) -> None:
    """`run-job digests --period 2026-W48` (run as if at the end of W48) and Monday 07:00 of W49 both mean W48."""
    from suarawarga.jobs.digests import week_before

    assert week_before(parse_period("2026-W48", JAKARTA).end, app).label == "2026-W48"
    assert week_before(MONDAY_W49, app).label == "2026-W48"
    assert week_before(MONDAY_W49 + timedelta(days=6, hours=16), app).label == "2026-W48"  # Sunday evening
