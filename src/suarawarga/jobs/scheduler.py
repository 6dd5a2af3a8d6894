"""The one place that says when jobs run (APScheduler 3, in the city's timezone, in one worker process)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from suarawarga.bootstrap import App
from suarawarga.jobs.closure import close_unanswered
from suarawarga.jobs.context import JobResult
from suarawarga.jobs.deadlines import check_deadlines
from suarawarga.jobs.files import clean_files
from suarawarga.jobs.retention import erase_old
from suarawarga.jobs.rollup import check_yesterday

log = logging.getLogger(__name__)


class JobName(StrEnum):
    """Names of the scheduled jobs (also for `suarawarga run-job NAME`)."""

    DEADLINES = "deadlines"
    CLOSURE = "closure"
    RETENTION = "retention"
    DIGESTS = "digests"
    OUTBOX = "outbox"
    FILES = "files"
    ROLLUP_CHECK = "rollup-check"


Job = Callable[[App, datetime], Awaitable[JobResult]]


OUTBOX_PASSES = 1000  # one pass sends up to 200 messages: a run ends once nothing more is due


async def deliver_outbox(app: App, now: datetime) -> JobResult:
    """Send every outbox message that is due (digests, first tries left by other processes, retries)."""
    delivery = app.delivery()
    result = JobResult("outbox")
    retry = unreachable = failed = 0
    for _ in range(OUTBOX_PASSES):
        report = await delivery.deliver_due()
        result.done += len(report.sent)
        retry, unreachable, failed = (
            retry + len(report.retry),
            unreachable + len(report.unreachable),
            failed + len(report.failed),
        )
        if not report.sent:
            break
    if retry or unreachable or failed:
        result.details.append(f"{retry} to retry, {unreachable} unreachable, {failed} failed")
    return result


def jobs() -> dict[JobName, Job]:
    """Return every job by name."""
    from suarawarga.jobs.digests import send_weekly_digests

    return {
        JobName.DEADLINES: check_deadlines,
        JobName.CLOSURE: close_unanswered,
        JobName.RETENTION: erase_old,
        JobName.DIGESTS: send_weekly_digests,
        JobName.OUTBOX: deliver_outbox,
        JobName.FILES: clean_files,
        JobName.ROLLUP_CHECK: check_yesterday,
    }


async def run_job(app: App, name: JobName, at: datetime | None = None) -> JobResult:
    """Run one job now (or as if it were `at`), logging its result."""
    result = await jobs()[name](app, at or app.clock.now())
    log.info("%s", result.summary())
    return result


def build_scheduler(app: App) -> AsyncIOScheduler:
    """Return the scheduler with every job; the worker starts it."""
    tz = app.clock.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    hour, minute = app.settings.digest_time.split(":")
    triggers = {
        # Office hours on weekdays: alerts reach officers when they can act on them.
        JobName.DEADLINES: CronTrigger(day_of_week="mon-fri", hour="7-16", minute="0,30", timezone=tz),
        JobName.CLOSURE: CronTrigger(hour=6, minute=0, timezone=tz),
        JobName.RETENTION: CronTrigger(hour=2, minute=30, timezone=tz),
        JobName.DIGESTS: CronTrigger(
            day_of_week=app.settings.digest_day, hour=int(hour), minute=int(minute), timezone=tz
        ),
        JobName.OUTBOX: IntervalTrigger(seconds=10, timezone=tz),
        JobName.FILES: CronTrigger(hour=3, minute=15, timezone=tz),  # after retention has erased old files
        # After midnight, when yesterday's answers are all in; before the 02:30 retention run.
        JobName.ROLLUP_CHECK: CronTrigger(hour=1, minute=15, timezone=tz),
    }
    for name, trigger in triggers.items():
        scheduler.add_job(
            run_job,
            trigger,
            args=[app, name],
            id=name.value,
            name=name.value,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=900,
        )
    return scheduler
