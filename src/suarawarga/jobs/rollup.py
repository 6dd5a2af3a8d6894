"""The nightly roll-up check: yesterday's IKM roll-up recomputed from the answers, differences reported and repaired."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from suarawarga.jobs.context import JobResult
from suarawarga.surveys.services import check_rollup

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)


async def check_yesterday(app: App, now: datetime) -> JobResult:
    """Compare the city-local day before `now` in the roll-up with the answers, and repair it if they differ."""
    day = now.astimezone(app.clock.tz).date() - timedelta(days=1)
    result = JobResult("rollup-check")
    async with app.uow() as uow:
        differences = await check_rollup(uow, day)
        await uow.commit()
        units = {u.id: u.code for u in await uow.units.list()} if differences else {}
    if differences:
        for difference in differences:
            log.warning(
                "IKM roll-up of %s for %s differed from the answers (%d respondents in the roll-up, %d answers);"
                " rewritten from the answers",
                units.get(difference.unit_id, difference.unit_id),
                day.isoformat(),
                difference.rollup_respondents,
                difference.answer_respondents,
            )
        result.details.append(f"{day.isoformat()}: {len(differences)} units differed and were repaired")
    else:
        result.details.append(f"{day.isoformat()}: the roll-up matches the answers")
    result.done = 1
    return result
