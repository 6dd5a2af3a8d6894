"""Files: drafts untouched too long expire, and files no row refers to are deleted (daily).

A chat's draft (a complaint being written, an officer's evidence) keeps its photos in the drafts area; the flow
deletes them when the draft is cancelled or filed. What is left behind by a crash or a rolled-back transaction,
and drafts untouched for `draft_days`, are cleaned here: a drafts-area file no chat's state holds, and a filed
file no attachment row refers to, are deleted once older than a grace period (a file is written a moment before
the transaction that records it commits). Weekly digests (digests/) are not citizens' files and are left alone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from suarawarga.bot.attachments import DRAFTS, draft_paths
from suarawarga.jobs.context import JobResult

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)
GRACE = timedelta(hours=1)  # younger files may belong to a transaction still running


async def clean_files(app: App, now: datetime) -> JobResult:
    """Expire idle drafts and delete every stored file that no draft and no attachment row refers to."""
    result = JobResult("files")
    idle_since = now - timedelta(days=app.settings.draft_days)
    held: set[str] = set()
    expired: list[str] = []
    async with app.uow() as uow:
        for draft in await uow.conversations.drafts():
            paths = draft_paths(draft.data)
            if draft.updated_at <= idle_since and await uow.conversations.expire(draft.key, idle_since, now):
                expired += paths
                result.done += 1
            else:
                held |= paths
        filed = await uow.complaints.attachment_paths()
        await uow.commit()
    if result.done:
        result.details.append(f"{result.done} idle draft(s) expired")
    # Files go only after the commit: a failed transaction must not leave records pointing at nothing.
    cutoff = (now - GRACE).timestamp()
    gone = set(expired)
    orphans = {
        path: size
        for path, size, modified in app.attachments.files()
        if _citizens_file(path) and path not in held and path not in filed and (modified < cutoff or path in gone)
    }
    app.attachments.delete_all(list(orphans))
    if orphans:
        log.info("deleted %d stored file(s) no record refers to", len(orphans))
        result.details.append(f"{len(orphans)} unreferenced file(s) deleted ({sum(orphans.values()) // 1024} kB)")
    return result


def _citizens_file(path: str) -> bool:
    """Tell whether a stored path is a chat's file (drafts/ or YYYY/MM/), not a digest or anything else."""
    top = path.split("/", 1)[0]
    return top == DRAFTS or (len(top) == 4 and top.isdigit())
