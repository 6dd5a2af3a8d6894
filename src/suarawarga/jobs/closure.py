"""Closing resolved complaints the citizen did not answer within 10 working days, once each."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, ComplaintStatus, EventKind
from suarawarga.handlers.notify import tell_citizen
from suarawarga.handlers.rating import invite_to_survey
from suarawarga.jobs.context import JobResult, job_context

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

NO_ANSWER_WORKING_DAYS = 10


async def close_unanswered(app: App, now: datetime) -> JobResult:
    """Close complaints resolved 10 or more working days ago whose reporter did not reopen them."""
    result = JobResult("closure")
    after: Complaint | None = None
    while True:
        # A page at a time, with the pages' histories in one query; each closing in its own transaction.
        async with app.uow() as uow:
            page = await uow.complaints.page([ComplaintStatus.SELESAI], after)
            histories = await uow.complaints.histories([c.id for c in page])
        if not page:
            return result
        after = page[-1]
        for complaint in page:
            resolutions = [e.at for e in histories[complaint.id] if e.kind is EventKind.RESOLVED]
            if not resolutions:
                continue
            if app.calendar.working_days_between(resolutions[-1], now) < NO_ANSWER_WORKING_DAYS:
                continue
            async with job_context(app, now) as ctx:
                if not await ctx.uow.jobs.mark(f"close:{complaint.id}:{len(resolutions)}", now):
                    result.skipped += 1
                    continue
                handled = await handling.close(ctx.uow, complaint, "no answer", now, by_citizen=False)
                tell_citizen(ctx, handled.complaint, "update.closed")
                await invite_to_survey(ctx, handled.complaint, handled.unit, now)
                await ctx.commit()
                result.done += 1
