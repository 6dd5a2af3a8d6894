"""The statistics' rules: the overdue cutoffs say what `is_overdue` says, the median and the stored resolution."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.model import Category, ComplaintStatus
from suarawarga.complaints.statistics import (
    is_overdue,
    median_days,
    overdue_cutoffs,
    resolution,
    within_deadline,
)
from tests.support.clock import JAKARTA

CALENDAR = WorkingCalendar(JAKARTA, extra_days_off=[date(2026, 12, 1)])
STATUSES = (
    ComplaintStatus.DITERIMA,
    ComplaintStatus.DIPROSES,
    ComplaintStatus.MENUNGGU_INFO,
    ComplaintStatus.PERLU_DISPOSISI,
)


def _category(accept: int, resolve: int) -> Category:
    return Category(1, "c", "c", "c", 1, accept_working_days=accept, resolve_days=resolve)


@pytest.mark.parametrize("accept", [1, 3, 10])
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA),  # a Monday morning
        datetime(2026, 12, 2, 0, 0, tzinfo=JAKARTA),  # midnight after a city day off
        datetime(2026, 12, 26, 23, 59, tzinfo=JAKARTA),  # a Saturday after Christmas
        datetime(2027, 1, 4, 0, 0, 1, tzinfo=JAKARTA),  # just after the new year's weekend
    ],
)
def test_the_cutoffs_agree_with_the_rule_for_every_filing_moment(accept: int, now: datetime) -> None:
    """Over two months of filing moments (minutes apart near midnight), the cutoffs and is_overdue agree."""
    category = _category(accept, 20)
    cutoffs = overdue_cutoffs(category, CALENDAR, now)
    rnd = random.Random(accept)
    moments = [now - timedelta(minutes=rnd.randrange(0, 60 * 24 * 60)) for _ in range(1500)]
    day = CALENDAR.day_of(now)
    for back in range(40):  # around every local midnight, where the working-day rule changes its answer
        midnight = datetime.combine(day - timedelta(days=back), datetime.min.time(), tzinfo=JAKARTA)
        moments += [midnight - timedelta(seconds=1), midnight, midnight + timedelta(seconds=1)]
    moments += [now - timedelta(days=20), now - timedelta(days=20, seconds=-1)]  # at the resolution limit
    for filed in moments:
        for status in STATUSES:
            by_cutoff = filed <= cutoffs.resolve_by or (
                status in (ComplaintStatus.DITERIMA, ComplaintStatus.PERLU_DISPOSISI) and filed < cutoffs.accept_before
            )
            assert by_cutoff == is_overdue(status, filed, category, CALENDAR, now), (filed, status)


def test_a_resolution_at_the_limit_is_within_it() -> None:
    """Resolved exactly at filing + resolve_days counts as in time; a second later does not."""
    category = _category(3, 60)
    filed = datetime(2026, 1, 5, 10, 0, tzinfo=JAKARTA)
    assert within_deadline(filed, filed + timedelta(days=60), category)
    assert not within_deadline(filed, filed + timedelta(days=60, seconds=1), category)
    kept = resolution(filed, filed + timedelta(days=2, hours=12, seconds=30), category)
    assert (kept.seconds, kept.within_deadline) == (2 * 86_400 + 12 * 3600 + 30, True)


def test_the_median_of_the_middle_values() -> None:
    """One middle value gives itself; two give their mean; half a tenth of a day rounds up; none gives None."""
    assert median_days((3 * 86_400,)) == Decimal("3.0")
    assert median_days((86_400, 2 * 86_400)) == Decimal("1.5")
    assert median_days((8640 // 2 + 86_400,)) == Decimal("1.1")  # 1.05 days, half up
    assert median_days(()) is None
