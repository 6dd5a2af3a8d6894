"""Retention: after the configured time, closed complaints lose their files and personal data.

What stays is what the statistics need: category, unit, kecamatan, identity mode, dates, statuses and the
kinds of events. Names, contacts, the chat, the citizen link, the description, event notes and every file
are removed. The marks make each complaint's erasure happen once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from suarawarga.handlers.common import DRAFT_HOURS, draft_files
from suarawarga.jobs.context import JobResult, job_context

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)
ERASED = "[dihapus]"


async def erase_old(app: App, now: datetime) -> JobResult:
    """Erase personal data and files of complaints closed longer ago than the retention period."""
    result = JobResult("retention")
    async with app.uow() as uow:
        # Message logs (raw updates, sent messages, processed ids) only serve delivery and deduplication.
        cutoff = now - timedelta(days=app.settings.message_log_days)
        pruned = await uow.inbox.prune(cutoff) + await uow.outbox.prune(cutoff) + await uow.processed.prune(cutoff)
        await uow.commit()
    if pruned:
        result.details.append(f"{pruned} old message records pruned")
    async with app.uow() as uow:
        # Drafts kept for `lanjut` hold the citizen's words and photos: they go once they expired.
        drafts = await uow.conversations.drop_parked(now - timedelta(hours=DRAFT_HOURS))
        await uow.commit()
    for path in (path for draft in drafts for path in draft_files(draft)):
        try:
            app.attachments.path_of(path).unlink(missing_ok=True)
        except (OSError, ValueError):
            log.warning("could not delete a photo of an expired draft")
    if drafts:
        result.details.append(f"{len(drafts)} expired drafts removed")
    limit = now - timedelta(days=app.settings.retention_days)
    async with app.uow() as uow:
        # Only complaints still holding personal data: those erased before are not read again night after night.
        due = await uow.complaints.closed_before(limit, ERASED)
    for complaint_id in due:
        async with job_context(app, now) as ctx:
            if not await ctx.uow.jobs.mark(f"retention:{complaint_id}", now):
                result.skipped += 1
                continue
            files = await ctx.uow.complaints.attachments(complaint_id)
            await ctx.uow.complaints.erase_personal_data(complaint_id, ERASED, now)
            await ctx.commit()
        # Files go only after the commit: a failed transaction must not leave records pointing at nothing.
        for item in files:
            try:
                app.attachments.path_of(item.path).unlink(missing_ok=True)
            except (OSError, ValueError):
                log.warning("could not delete an attachment of complaint %d", complaint_id)
        result.done += 1
    return result
