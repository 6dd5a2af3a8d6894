"""The queue service against seeded data: filters, search, sort and paging in SQL equal the rules in Python."""

from __future__ import annotations

from datetime import timedelta

from suarawarga.bootstrap import App
from suarawarga.complaints.deadlines import clocks
from suarawarga.complaints.model import OPEN_STATUSES, ComplaintStatus, IdentityMode
from suarawarga.complaints.queue import Deadline, GroupBy, QueueFilter, QueueSort, breakdown, queue_export, queue_page
from tests.staffweb.seeding import seed_city


async def _everything(app: App, unit_ids: frozenset[int] | None, wanted: QueueFilter) -> list[str]:
    async with app.uow() as uow:
        items, total = await queue_export(uow, unit_ids, wanted, app.clock.now(), app.calendar)
    assert total == len(items)
    return [i.row.code for i in items]


async def test_filters_match_the_stored_complaints(app: App) -> None:
    """Each filter returns exactly the complaints a Python check over every row picks, and only the member's."""
    seeded = await seed_city(app)
    now = app.clock.now()
    dpupr = frozenset({seeded.staff.officer.unit_id})
    everything = seeded.complaints
    async with app.uow() as uow:
        kuranji = await uow.units.by_code("KEC-KURANJI")
        sampah = await uow.categories.by_code("sampah")
    assert kuranji and sampah
    mine = [c for c in everything if c.unit_id in dpupr]
    assert 0 < len(mine) < len(everything)

    got = await _everything(app, dpupr, QueueFilter())
    assert sorted(got) == sorted(c.code for c in mine)
    assert got == [c.code for c in sorted(mine, key=lambda c: (c.filed_at, c.id))]  # oldest first

    wanted = QueueFilter(statuses=(ComplaintStatus.DITERIMA, ComplaintStatus.DIPROSES))
    assert sorted(await _everything(app, dpupr, wanted)) == sorted(c.code for c in mine if c.status in wanted.statuses)

    wanted = QueueFilter(kecamatan_ids=(kuranji.id,))
    assert sorted(await _everything(app, None, wanted)) == sorted(
        c.code for c in everything if c.kecamatan_id == kuranji.id
    )
    wanted = QueueFilter(category_ids=(sampah.id,))
    assert sorted(await _everything(app, None, wanted)) == sorted(
        c.code for c in everything if c.category_id == sampah.id
    )
    assert await _everything(app, dpupr, wanted) == []  # another OPD's category: nothing of it leaks

    wanted = QueueFilter(identity_modes=(IdentityMode.RAHASIA,))
    expected = sorted(c.code for c in mine if c.identity_mode is IdentityMode.RAHASIA)
    assert expected and sorted(await _everything(app, dpupr, wanted)) == expected

    start = (now - timedelta(days=30)).astimezone(app.clock.tz).date()
    end = (now - timedelta(days=10)).astimezone(app.clock.tz).date()
    wanted = QueueFilter(filed_from=start, filed_to=end)
    expected = sorted(c.code for c in everything if start <= c.filed_at.astimezone(app.clock.tz).date() <= end)
    assert expected and sorted(await _everything(app, None, wanted)) == expected


async def test_the_overdue_filter_is_the_digests_rule(app: App) -> None:
    """SQL's overdue rows are exactly the open complaints with a missed clock, computed with deadlines.clocks."""
    seeded = await seed_city(app)
    now = app.clock.now()
    async with app.uow() as uow:
        categories = {c.id: c for c in await uow.statistics.categories()}
        expected = []
        for c in seeded.complaints:
            history = await uow.complaints.history(c.id)
            missed = any(k.missed(now) for k in clocks(c.filed_at, categories[c.category_id], history, app.calendar))
            if c.status in OPEN_STATUSES and missed:
                expected.append(c.code)
    got = await _everything(app, None, QueueFilter(overdue=True))
    assert expected and sorted(got) == sorted(expected)
    assert len(got) < len([c for c in seeded.complaints if c.status in OPEN_STATUSES])  # some still on time
    async with app.uow() as uow:
        items, _ = await queue_export(uow, None, QueueFilter(), now, app.calendar)
    marked = sorted(i.row.code for i in items if i.deadline is Deadline.OVERDUE)
    assert marked == sorted(expected)
    assert all(i.deadline is Deadline.DONE for i in items if i.row.status not in OPEN_STATUSES)


async def test_search_sort_paging_and_counts(app: App) -> None:
    """Search finds by code or text, pages cover the list once, counts per status ignore the status filter."""
    seeded = await seed_city(app)
    now = app.clock.now()
    one = seeded.complaints[5]
    got = await _everything(app, None, QueueFilter(search=one.code.lower().replace("-", " ")))
    assert got == [one.code]
    got = await _everything(app, None, QueueFilter(search="SALURAN air"))
    assert sorted(got) == sorted(c.code for c in seeded.complaints if "saluran air" in c.description.lower())
    assert await _everything(app, None, QueueFilter(search="100%_")) == []  # wildcards are literal

    newest = await _everything(app, None, QueueFilter(sort=QueueSort.NEWEST))
    assert newest == [c.code for c in sorted(seeded.complaints, key=lambda c: (c.filed_at, c.id), reverse=True)]
    seen: list[str] = []
    async with app.uow() as uow:
        for number in (1, 2, 3, 4):
            page = await queue_page(uow, None, QueueFilter(sort=QueueSort.NEWEST, page=number), now, app.calendar)
            seen += [i.row.code for i in page.items]
        assert page.pages == 2 and page.page == 2  # a page past the end shows the last one
        wanted = QueueFilter(statuses=(ComplaintStatus.SELESAI,), per_page=50)
        page = await queue_page(uow, None, wanted, now, app.calendar)
    assert seen[:40] == newest and seen[40:] == seen[25:40] * 2  # pages 3 and 4 repeat the last page
    assert page.total == sum(1 for c in seeded.complaints if c.status is ComplaintStatus.SELESAI)
    for status in ComplaintStatus:
        assert page.status_counts[status] == sum(1 for c in seeded.complaints if c.status is status)


async def test_statistics_per_category_and_kecamatan_count_in_sql(app: App) -> None:
    """The grouped counts equal a count over the filed complaints, within the member's units and the window."""
    seeded = await seed_city(app)
    now = app.clock.now()
    start, end = now - timedelta(days=45), now
    dpupr = frozenset({seeded.staff.officer.unit_id})
    async with app.uow() as uow:
        overdue_codes = set(await _everything(app, None, QueueFilter(overdue=True)))
        for by, key in ((GroupBy.CATEGORY, "category_id"), (GroupBy.KECAMATAN, "kecamatan_id")):
            for scope in (None, dpupr):
                got = await breakdown(uow, scope, by, start, end, now, app.calendar)
                window = [
                    c for c in seeded.complaints if start <= c.filed_at < end and (scope is None or c.unit_id in scope)
                ]
                expected: dict[int | None, list[int]] = {}
                for c in window:
                    group = expected.setdefault(getattr(c, key), [0, 0, 0, 0])
                    group[0] += 1
                    group[1] += c.status in (ComplaintStatus.SELESAI, ComplaintStatus.DITUTUP)
                    group[2] += c.status in OPEN_STATUSES
                    group[3] += c.code in overdue_codes
                assert {g.key: [g.received, g.resolved, g.open_now, g.overdue_now] for g in got} == expected
                assert [g.received for g in got] == sorted((g.received for g in got), reverse=True)
    assert any(g.overdue_now for g in got)
