"""The job commands of `suarawarga`: run-job (names from the job registry) and digest preview."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from suarawarga.cli.output import (
    city_time,
    fail,
    out,
    parse_moment,
    unit_code,
)

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


def _week(option: str, text: str, app: App) -> Any:
    """Parse an ISO week typed by an admin (a digest covers exactly one week), or fail naming the option."""
    from suarawarga.surveys.periods import PeriodError, PeriodKind, parse_period

    try:
        period = parse_period(text.strip(), app.clock.tz)
    except PeriodError as exc:
        fail(f"{option} {text!r}: {exc} (expected an ISO week, e.g. 2026-W48)")
    if period.kind is not PeriodKind.WEEK:
        fail(f"{option} {text!r} is a {period.kind.value}, expected an ISO week, e.g. 2026-W48")
    return period


class JobNames(Sequence[str]):
    """The names `run-job` accepts: the job registry's, read only when a job name is checked or listed."""

    def _names(self) -> list[str]:
        from suarawarga.jobs.scheduler import jobs

        return [name.value for name in jobs()]

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


async def cmd_run_job(app: App, args: argparse.Namespace) -> int:
    """Run one scheduled job now, or as if it were --at TIME (or just after the digest week --period)."""
    from suarawarga.jobs.digests import week_before
    from suarawarga.jobs.scheduler import JobName, jobs

    registry = jobs()
    name = next(job for job in registry if job == args.name)
    at = app.clock.now()
    if args.period and name != JobName.DIGESTS:
        fail(f"--period is for the digests job only; run {name} as of a time with --at")
    if args.at:
        at = parse_moment("--at", args.at, app.clock.tz)
    elif args.period:
        at = _week("--period", args.period, app).end  # the job runs as if just after the week ended
    if name == JobName.DIGESTS:
        week = week_before(at, app)
        if week.end > app.clock.now():
            # Sending it now would send a partial week and mark it sent, so the full digest would never go out.
            fail(
                f"week {week.label} has not ended yet (it ends {city_time(week.end, app.clock.tz)} "
                f"{app.settings.timezone}); its digest can be sent after that"
            )
    # The job itself, not scheduler.run_job: that one also logs the summary, which printed it twice here.
    result = await registry[name](app, at)
    out(result.summary())
    return 0


async def cmd_digest_preview(app: App, args: argparse.Namespace) -> int:
    """Print the digest a unit (or the city admins) would get for a week, without sending anything."""
    from suarawarga.jobs.digests import city_params, unit_params
    from suarawarga.reports.digest import gather

    week = _week("--week", args.week, app)
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, app.clock.now())
    if args.unit is None:
        out(app.catalogue.render("digest.city", "id", city_params(digest, app.catalogue)))
        return 0
    line = next((u for u in digest.units if u.unit.code == args.unit), None)
    if line is None:
        fail(f"no digest for unit {args.unit}: expected the code of an OPD-level unit (see suarawarga unit list)")
    out(app.catalogue.render("digest.unit", "id", unit_params(line, week, app.catalogue)))
    return 0


def register(sub: Any) -> None:
    """Add run-job and digest."""
    run_job_parser = sub.add_parser(
        "run-job", help="run one job now", description="Run one scheduled job by hand (idempotent: reruns skip)."
    )
    run_job_parser.add_argument("name", choices=JobNames(), metavar="JOB", help="the job: %(choices)s")
    when = run_job_parser.add_mutually_exclusive_group()
    when.add_argument("--at", help="run as if it were this time (ISO, city time if no offset)")
    when.add_argument("--period", help="digests only: the week, once it has ended, e.g. 2026-W48")
    run_job_parser.set_defaults(handler=cmd_run_job)

    digest = sub.add_parser("digest", help="weekly digests", description="Look at the weekly digests.")
    d_sub = digest.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    preview = d_sub.add_parser(
        "preview", help="print a digest without sending it", description="Print what a digest would say."
    )
    preview.add_argument("--unit", type=unit_code, help="unit code (default: the city admins' ranking)")
    preview.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    preview.set_defaults(handler=cmd_digest_preview)
