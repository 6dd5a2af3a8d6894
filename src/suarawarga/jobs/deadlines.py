"""Deadline watch: reminders before a complaint's deadlines and escalation after, each sent exactly once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from suarawarga.bot.messages import ConversationKey, NoticeKind, Outbound
from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.deadlines import Alert, Rung, clocks, due_alerts
from suarawarga.complaints.model import (
    OPEN_STATUSES,
    ActorKind,
    Category,
    Complaint,
    ComplaintEvent,
    EventKind,
    StaffRole,
)
from suarawarga.handlers.notify import officer_recipient, unit_recipients
from suarawarga.jobs.context import JobContext, JobResult, job_context

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)


async def _rung_targets(ctx: JobContext, complaint: Complaint, rung: Rung | None) -> list[tuple[ConversationKey, str]]:
    if rung in (None, Rung.OFFICERS):
        return await unit_recipients(ctx, complaint.unit_id)
    if rung is Rung.HEAD:
        heads = await ctx.uow.staff.for_unit(complaint.unit_id, (StaffRole.HEAD,))
        if heads:
            return [officer_recipient(s) for s in heads]
        return await unit_recipients(ctx, complaint.unit_id)  # no head registered: the ladder must still be heard
    admin = await ctx.uow.units.city_admin()
    admins = await ctx.uow.staff.for_unit(admin.id) if admin else []
    return [officer_recipient(s) for s in admins]


def _fmt(moment: datetime, calendar: WorkingCalendar) -> str:
    return moment.astimezone(calendar.tz).strftime("%d-%m-%Y %H:%M")


async def _send_alert(ctx: JobContext, complaint: Complaint, alert: Alert, calendar: WorkingCalendar) -> bool:
    if not await ctx.uow.jobs.mark(alert.key(complaint.id), ctx.now):
        return False
    kind = EventKind.REMINDER if alert.rung is None else EventKind.ESCALATED
    note = f"{alert.clock}" if alert.rung is None else f"{alert.clock}: {alert.rung}"
    await ctx.uow.complaints.add_event(
        complaint.id,
        ComplaintEvent(ctx.now, kind, ActorKind.SYSTEM, complaint.status, complaint.status, complaint.unit_id, note),
    )
    unit = await ctx.uow.units.get(complaint.unit_id)
    text_key = "alert.reminder" if alert.rung is None else f"alert.escalated.{alert.rung}"
    for key, language in await _rung_targets(ctx, complaint, alert.rung):
        ctx.notify(
            Outbound(
                key=key,
                text_key=text_key,
                params={
                    "code": complaint.code,
                    "clock": ctx.catalogue.render(f"alert.clock.{alert.clock}", language),
                    "due": _fmt(alert.due, calendar),
                    "unit": unit.name if unit else "-",
                },
                language=language,
                notice=NoticeKind.STAFF_UPDATE,
            )
        )
    return True


async def check_deadlines(app: App, now: datetime) -> JobResult:
    """Send every reminder and escalation that is due and was not sent before; never change a status."""
    result = JobResult("deadlines")
    calendar = app.calendar
    categories: dict[int, Category | None] = {}  # a few categories for many complaints: each read once
    after: Complaint | None = None
    while True:
        # A page at a time, with the pages' histories in one query; each complaint's alerts in one transaction.
        async with app.uow() as uow:
            page = await uow.complaints.page(OPEN_STATUSES, after)
            histories = await uow.complaints.histories([c.id for c in page])
            for category_id in {c.category_id for c in page} - categories.keys():
                categories[category_id] = await uow.categories.get(category_id)
        if not page:
            return result
        after = page[-1]
        for complaint in page:
            category = categories[complaint.category_id]
            if category is None:
                continue
            alerts = [
                alert
                for clock in clocks(complaint.filed_at, category, histories[complaint.id], calendar)
                for alert in due_alerts(clock, now, calendar)
            ]
            if not alerts:
                continue
            # One transaction per complaint: its events, marks and messages are committed together.
            async with job_context(app, now) as ctx:
                sent = 0
                for alert in alerts:
                    if await _send_alert(ctx, complaint, alert, calendar):
                        sent += 1
                    else:
                        result.skipped += 1
                if sent:
                    await ctx.commit()
                    result.done += sent
