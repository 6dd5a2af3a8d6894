"""Each category's own look-back for duplicates (`duplicate_days`): 30 days by default, 7 for rubbish, 0: never."""

from __future__ import annotations

from datetime import timedelta

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import IdentityMode
from suarawarga.complaints.services import ComplaintDraft, file_complaint
from suarawarga.complaints.supporting import find_duplicates
from tests.support.clock import FrozenClock

POINT = (-0.94710, 100.41720)


async def _file_at_point(app: App, category: str) -> int:
    async with app.uow() as uow:
        filed = await file_complaint(
            uow,
            ComplaintDraft(
                category_code=category,
                description="Sudah lama tidak ditangani",
                identity_mode=IdentityMode.ANONIM,
                channel=ChannelName.CONSOLE,
                chat_id="warga-1",
                citizen_id=None,
                language="id",
                latitude=POINT[0],
                longitude=POINT[1],
            ),
            app.clock.now(),
            "PDG",
        )
        await uow.commit()
    return filed.complaint_id


async def _offered(app: App, category: str) -> list[int]:
    async with app.uow() as uow:
        found = await find_duplicates(uow, category, app.clock.now(), latitude=POINT[0], longitude=POINT[1])
    return [m.complaint_id for m in found]


@pytest.mark.parametrize(
    ("category", "days"),
    [("jalan_rusak", 30), ("sampah", 7)],
)
async def test_a_report_is_offered_within_its_categorys_window_only(
    app: App, clock: FrozenClock, category: str, days: int
) -> None:
    complaint_id = await _file_at_point(app, category)
    clock.advance(timedelta(days=days) - timedelta(hours=1))
    assert await _offered(app, category) == [complaint_id]
    clock.advance(timedelta(hours=2))
    assert await _offered(app, category) == []


async def test_a_category_with_no_window_is_never_offered(app: App) -> None:
    await _file_at_point(app, "adminduk")
    assert await _offered(app, "adminduk") == []
    assert await _offered(app, "no-such-category") == []
