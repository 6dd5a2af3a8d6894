"""Reading every complaint of some statuses a page at a time, with the pages' histories in one query."""

from __future__ import annotations

from datetime import datetime, timedelta

from suarawarga.bootstrap import App
from suarawarga.complaints import handling
from suarawarga.complaints.model import OPEN_STATUSES, EventKind
from suarawarga.storage.complaints import pages
from tests.jobs.support import file, officer
from tests.support.clock import JAKARTA

FILED = datetime(2026, 11, 16, 9, 0, tzinfo=JAKARTA)


async def test_pages_read_every_complaint_once_in_filing_order(app: App) -> None:
    """Seven complaints (two filed at the same moment) read two at a time: all seven, oldest first, none twice."""
    moments = [FILED + timedelta(hours=h) for h in (0, 1, 1, 2, 3, 4, 5)]
    filed = [await file(app, at, chat=f"warga-{i}") for i, at in enumerate(moments)]
    staff = await officer(app, "DPUPR", "andi")
    async with app.uow() as uow:  # one leaves the open statuses: it must not be read
        accepted = await handling.accept(uow, staff, filed[3], FILED + timedelta(days=1))
        await handling.resolve(uow, staff, accepted.complaint, "Sudah ditambal", (), FILED + timedelta(days=1))
        await uow.commit()
    async with app.uow() as uow:
        read = [page async for page in pages(uow.complaints, OPEN_STATUSES, size=2)]
    assert [len(page) for page in read] == [2, 2, 2]
    assert [c.code for page in read for c in page] == [c.code for i, c in enumerate(filed) if i != 3]


async def test_histories_of_many_complaints_match_each_history(app: App) -> None:
    """`histories` returns, for each id, what `history` returns; an id without events maps to an empty list."""
    first = await file(app, FILED, chat="warga-1")
    second = await file(app, FILED + timedelta(hours=1), chat="warga-2")
    staff = await officer(app, "DPUPR", "andi")
    async with app.uow() as uow:
        await handling.accept(uow, staff, second, FILED + timedelta(hours=2))
        await uow.commit()
    async with app.uow() as uow:
        many = await uow.complaints.histories([first.id, second.id, 999_999])
        one = {i: await uow.complaints.history(i) for i in (first.id, second.id)}
    assert many == {**one, 999_999: []}
    assert [e.kind for e in many[second.id]][-1] is EventKind.ACCEPTED
    assert len(many[second.id]) > len(many[first.id]) > 0
