"""Weekly digests: one message per OPD and one ranking (with a chart and the xlsx report) for the city admins.

Each digest is marked `digest:<week>:<unit>` in the same transaction that writes its messages to the outbox,
so a rerun, a second worker or a restart after a crash never sends one twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from suarawarga.bot.messages import Attachment, ConversationKey, NoticeKind, Outbound, OutboundFile
from suarawarga.bot.texts import Catalogue
from suarawarga.complaints.model import StaffRole
from suarawarga.handlers.notify import STAFF_LANGUAGE, officer_recipient, unit_recipients
from suarawarga.jobs.context import JobContext, JobResult, job_context
from suarawarga.reports.digest import CityDigest, UnitWeek, gather
from suarawarga.surveys.graphics import sample_short
from suarawarga.surveys.periods import Period, PeriodKind, period_containing, previous

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)
CITY_KEY = "city"


def week_before(now: datetime, app: App) -> Period:
    """Return the ISO week that ended most recently before `now` (city time)."""
    return previous(period_containing(PeriodKind.WEEK, now, app.clock.tz))


def number(value: Decimal | None, places: int = 2) -> str:
    """Format a figure the Indonesian way (decimal comma), or '-' when there is none."""
    if value is None:
        return "-"
    return f"{value:.{places}f}".replace(".", ",")


def signed(value: Decimal | int | None) -> str:
    """Format a change with its sign."""
    if value is None:
        return "-"
    text = number(value) if isinstance(value, Decimal) else str(value)
    return text if text.startswith("-") else f"+{text}"


def unit_params(line: UnitWeek, week: Period, catalogue: Catalogue, language: str = STAFF_LANGUAGE) -> dict[str, str]:
    """Return the catalogue parameters of one unit's digest in a language."""
    adequacy = {True: "ok", False: "short", None: "unknown"}[line.ikm_quarter.sample_ok]
    sample = catalogue.render(f"digest.sample.{adequacy}", language)
    return {
        "unit": line.unit.name,
        "week": week.label,
        "received": str(line.received),
        "received_change": signed(line.received_change),
        "supporters": str(line.supporters),
        "accepted": str(line.accepted),
        "resolved": str(line.resolved),
        "reopened": str(line.reopened),
        "overdue": str(line.overdue),
        "oldest": ", ".join(line.oldest_overdue) or "-",
        "accept_hours": number(line.median_accept_hours, 1),
        "resolve_days": number(line.median_resolve_days, 1),
        "rating": number(line.rating_mean),
        "rating_n": str(line.rating_n),
        "ikm_week": number(line.ikm_week.ikm),
        "n_week": str(line.ikm_week.n),
        "ikm_change": signed(line.ikm_change),
        "ikm_quarter": number(line.ikm_quarter.ikm),
        "mutu_quarter": line.ikm_quarter.mutu or "-",
        "n_quarter": str(line.ikm_quarter.n),
        "sample": sample,
        "weakest": ", ".join(line.ikm_quarter.weakest) or "-",
    }


def city_params(digest: CityDigest, catalogue: Catalogue, language: str = STAFF_LANGUAGE) -> dict[str, str]:
    """Return the parameters of the city admins' digest: the units with an IKM ranked, then the others."""

    def text(key: str, /, **params: str) -> str:
        """Render a digest text in the given language."""
        return catalogue.render(key, language, params)

    rows = [
        text(
            "digest.ranking_line",
            place=str(place),
            unit=line.unit.name,
            ikm=number(line.ikm_quarter.ikm),
            mutu=line.ikm_quarter.mutu or "-",
            n=str(line.ikm_quarter.n),
            small=text("digest.ranking_small") if sample_short(line.ikm_quarter.n, line.ikm_quarter.sample_ok) else "",
            received=str(line.received),
            resolved=str(line.resolved),
            overdue=str(line.overdue),
        )
        for place, line in enumerate(digest.ranking(), 1)
    ] or [text("digest.ranking_none")]
    unrated = digest.unrated()
    if unrated:
        rows.append(text("digest.unrated_title"))
        rows += [
            text(
                "digest.unrated_line",
                unit=line.unit.name,
                received=str(line.received),
                resolved=str(line.resolved),
                overdue=str(line.overdue),
            )
            for line in unrated
        ]
    idle = digest.idle()
    if idle:
        codes = ", ".join(sorted(line.unit.code for line in idle))  # codes keep a long list short
        rows.append(text("digest.idle_line", count=str(len(idle)), units=codes))
    return {
        "week": digest.week.label,
        "ranking": "\n".join(rows),
        "rated": str(len(digest.ranking())),
        "units": str(len(digest.units)),
    }


async def _recipients(ctx: JobContext, line: UnitWeek) -> dict[ConversationKey, str]:
    heads = await ctx.uow.staff.for_unit(line.unit.id, (StaffRole.HEAD,))
    return _one_per_chat([*await unit_recipients(ctx, line.unit.id), *(officer_recipient(s) for s in heads)])


async def _city_recipients(ctx: JobContext) -> dict[ConversationKey, str]:
    admin = await ctx.uow.units.city_admin()
    staff = await ctx.uow.staff.for_unit(admin.id) if admin else []
    return _one_per_chat([officer_recipient(s) for s in staff])


def _one_per_chat(targets: list[tuple[ConversationKey, str]]) -> dict[ConversationKey, str]:
    """Keep one message per chat, in the language of its first listing."""
    chats: dict[ConversationKey, str] = {}
    for key, language in targets:
        chats.setdefault(key, language)
    return chats


def write_files(app: App, digest: CityDigest) -> tuple[OutboundFile, ...]:
    """Write the city digest's chart and spreadsheet into the attachment store and return them."""
    from suarawarga.reports.digest_files import write_chart, write_workbook

    folder = Path("digests") / digest.week.label
    (app.attachments.root / folder).mkdir(parents=True, exist_ok=True)
    chart = folder / f"ikm-{digest.week.label}.png"
    sheet = folder / f"laporan-{digest.week.label}.xlsx"

    def label(key: str, /, **params: str) -> str:
        """Render a chart text in the staff's language."""
        return app.catalogue.render(key, STAFF_LANGUAGE, params)

    write_chart(digest, app.attachments.root / chart, label, STAFF_LANGUAGE)
    write_workbook(digest, app.attachments.root / sheet)
    return (
        OutboundFile(Attachment.PHOTO, chart.as_posix(), chart.name),
        OutboundFile(Attachment.DOCUMENT, sheet.as_posix(), sheet.name),
    )


async def send_weekly_digests(app: App, now: datetime) -> JobResult:
    """Send the digest of the week before `now` to every OPD and to the city admins, each at most once."""
    result = JobResult("digests")
    week = week_before(now, app)
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, now)
    for line in digest.units:
        async with job_context(app, now) as ctx:
            recipients = await _recipients(ctx, line)
            if not recipients:
                continue
            if not await ctx.uow.jobs.mark(f"digest:{week.label}:{line.unit.code}", now):
                result.skipped += 1
                continue
            for key, language in recipients.items():
                params = unit_params(line, week, app.catalogue, language)
                ctx.notify(Outbound(key, "digest.unit", params, language=language, notice=NoticeKind.DIGEST))
            await ctx.commit()
            result.done += 1
    async with job_context(app, now) as ctx:
        recipients = await _city_recipients(ctx)
        if recipients and await ctx.uow.jobs.mark(f"digest:{week.label}:{CITY_KEY}", now):
            files = write_files(app, digest)
            for key, language in recipients.items():
                params = city_params(digest, app.catalogue, language)
                ctx.notify(
                    Outbound(key, "digest.city", params, language=language, files=files, notice=NoticeKind.DIGEST)
                )
            await ctx.commit()
            result.done += 1
        elif recipients:
            result.skipped += 1
    result.details.append(f"week {week.label}")
    return result
