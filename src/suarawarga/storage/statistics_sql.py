"""SQL reads for what the public sees: complaint statistics and the Open311 feed, without any personal field.

Only the columns a statistic or the feed needs are selected (unit, category, status, times, a location the
caller rounds), so nothing personal can leak into a public page through these reads. Confidential (*rahasia*)
complaints are never listed. The statistics are aggregates (counts per unit, the middle values for a median),
so their cost follows the number of units, not of complaints; the rules behind them (in time, overdue) come
from `complaints.statistics`. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, and_, case, func, literal, select, type_coerce, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.complaints.model import OPEN_STATUSES, Category, ComplaintStatus, EventKind, IdentityMode
from suarawarga.complaints.public import PublicRequest
from suarawarga.complaints.statistics import (
    WAITING_FOR_OPD,
    OpenCounts,
    OutcomeCounts,
    OverdueCutoffs,
    Resolution,
    resolution,
)
from suarawarga.storage.base_sql import CATEGORIES, COMPLAINTS
from suarawarga.storage.orm.base import AwareDateTime
from suarawarga.storage.units_sql import CategoryRepo

BACKFILL_BATCH = 5000


def _sum_of(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class StatisticsRepo:
    """Aggregate reads for the public site, and the stored first resolution they count."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def categories(self) -> list[Category]:
        """Return every category, also those no longer offered (old complaints keep theirs)."""
        return [CategoryRepo._category(r) for r in await self.conn.execute(select(CATEGORIES))]

    async def record_resolution(self, complaint_id: int, first: Resolution) -> None:
        """Keep a complaint's first resolution; a later one (after a reopen) leaves it as it is."""
        await self.conn.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint_id, COMPLAINTS.c.first_resolved_at.is_(None))
            .values(first_resolved_at=first.at, resolve_seconds=first.seconds, resolved_in_time=first.within_deadline)
        )

    async def outcome_counts(self, since: datetime) -> list[OutcomeCounts]:
        """Return, per unit, the complaints filed since a moment, those resolved and those resolved in time."""
        query = (
            select(
                COMPLAINTS.c.unit_id,
                func.count().label("received"),
                func.count(COMPLAINTS.c.resolve_seconds).label("resolved"),
                _sum_of(COMPLAINTS.c.resolved_in_time.is_(True)).label("on_time"),
            )
            .where(COMPLAINTS.c.filed_at >= since, COMPLAINTS.c.merged_into_id.is_(None))  # a duplicate is demand
            .group_by(COMPLAINTS.c.unit_id)
        )
        return [
            OutcomeCounts(int(r.unit_id), int(r.received), int(r.resolved), int(r.on_time))
            for r in await self.conn.execute(query)
        ]

    async def open_counts(self, cutoffs: Mapping[int, OverdueCutoffs]) -> list[OpenCounts]:
        """Return, per unit, the complaints open now and how many are overdue by their category's cutoffs."""
        filed = COMPLAINTS.c.filed_at
        waiting = COMPLAINTS.c.status.in_(sorted(s.value for s in WAITING_FOR_OPD))
        # Categories with the same deadlines share one branch: every branch is evaluated on every open row, and
        # most categories have the city's default deadlines.
        sharing: dict[OverdueCutoffs, list[int]] = {}
        for category_id, bounds in sorted(cutoffs.items()):
            sharing.setdefault(bounds, []).append(category_id)
        overdue = [
            and_(
                COMPLAINTS.c.category_id.in_(category_ids),
                sa.or_(
                    filed <= literal(bounds.resolve_by, AwareDateTime()),
                    and_(waiting, filed < literal(bounds.accept_before, AwareDateTime())),
                ),
            )
            for bounds, category_ids in sharing.items()
        ]
        query = (
            select(
                COMPLAINTS.c.unit_id,
                func.count().label("open_now"),
                (_sum_of(sa.or_(*overdue)) if overdue else literal(0)).label("overdue_now"),
            )
            .where(COMPLAINTS.c.status.in_(sorted(s.value for s in OPEN_STATUSES)))
            .group_by(COMPLAINTS.c.unit_id)
        )
        return [OpenCounts(int(r.unit_id), int(r.open_now), int(r.overdue_now)) for r in await self.conn.execute(query)]

    async def middle_resolve_seconds(self, since: datetime, groups: Mapping[int, int]) -> dict[int, tuple[int, ...]]:
        """Return, per group, the middle one or two of the resolution times (seconds) of complaints filed since.

        `groups` maps each unit id to the group (its OPD) it is counted in; units not in it are left out (give
        only units with resolved complaints: the fewer, the cheaper). One query for every group: on SQLite, rows
        numbered in order within their group and only the middle kept; on PostgreSQL, its `percentile_disc`
        (the same values; a test checks both databases against the rule applied complaint by complaint).
        """
        if not groups:
            return {}
        # Only units counted under another one need a CASE branch: evaluated on every row, a long CASE costs more
        # than the sort itself.
        moved = {unit_id: top for unit_id, top in groups.items() if unit_id != top}
        unit = COMPLAINTS.c.unit_id
        group = (case(moved, value=unit, else_=unit) if moved else unit).label("grp")
        counted = (
            COMPLAINTS.c.filed_at >= since,
            COMPLAINTS.c.resolve_seconds.is_not(None),
            COMPLAINTS.c.unit_id.in_(sorted(groups)),
        )
        if self.conn.dialect.name == "postgresql":
            return await self._middles_by_percentile(group, counted)
        ordered = (
            select(
                group,
                COMPLAINTS.c.resolve_seconds.label("seconds"),
                func.row_number().over(partition_by=group, order_by=COMPLAINTS.c.resolve_seconds).label("position"),
                func.count().over(partition_by=group).label("total"),
            )
            .where(*counted)
            .subquery()
        )
        query = (
            select(ordered.c.grp, ordered.c.seconds)
            .where(ordered.c.position.in_([(ordered.c.total + 1) // 2, (ordered.c.total + 2) // 2]))
            .order_by(ordered.c.grp, ordered.c.position)
        )
        found: dict[int, list[int]] = {}
        for row in await self.conn.execute(query):
            found.setdefault(int(row.grp), []).append(int(row.seconds))
        return {key: tuple(values) for key, values in found.items()}

    async def _middles_by_percentile(self, group: Any, counted: tuple[Any, ...]) -> dict[int, tuple[int, ...]]:
        """The same middle values on PostgreSQL, with its ordered-set aggregate (about twice as fast).

        `percentile_disc(0.5)` is the value at position ceil(n/2) of the ascending order: the lower middle. The
        same in descending order is the value at position floor(n/2) + 1: the upper middle. For an odd n both are
        the middle value, given once.
        """
        seconds = COMPLAINTS.c.resolve_seconds
        query = (
            select(
                group,
                func.percentile_disc(0.5).within_group(seconds).label("lower"),
                func.percentile_disc(0.5).within_group(seconds.desc()).label("upper"),
                func.count().label("total"),
            )
            .where(*counted)
            .group_by(group)
        )
        found: dict[int, tuple[int, ...]] = {}
        for row in await self.conn.execute(query):
            lower, upper = int(row.lower), int(row.upper)
            found[int(row.grp)] = (lower,) if row.total % 2 else (lower, upper)
        return found

    async def public_requests(
        self,
        start: datetime,
        end: datetime,
        *,
        statuses: Collection[ComplaintStatus] | None = None,
        category_ids: Collection[int] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[PublicRequest]:
        """Return the non-confidential complaints filed in [start, end), newest first, one page of them."""
        query = select(
            COMPLAINTS.c.code,
            COMPLAINTS.c.category_id,
            COMPLAINTS.c.unit_id,
            COMPLAINTS.c.status,
            COMPLAINTS.c.filed_at,
            COMPLAINTS.c.updated_at,
            COMPLAINTS.c.latitude,
            COMPLAINTS.c.longitude,
        ).where(
            COMPLAINTS.c.filed_at >= start,
            COMPLAINTS.c.filed_at < end,
            COMPLAINTS.c.identity_mode != IdentityMode.RAHASIA.value,
        )
        if statuses is not None:
            query = query.where(COMPLAINTS.c.status.in_(sorted(s.value for s in statuses)))
        if category_ids is not None:
            query = query.where(COMPLAINTS.c.category_id.in_(sorted(category_ids)))
        query = query.order_by(COMPLAINTS.c.filed_at.desc(), COMPLAINTS.c.id.desc()).offset(offset).limit(limit)
        return [_request(r) for r in await self.conn.execute(query)]

    async def public_request(self, code: str) -> PublicRequest | None:
        """Return one non-confidential complaint by its code."""
        query = select(COMPLAINTS).where(
            COMPLAINTS.c.code == code, COMPLAINTS.c.identity_mode != IdentityMode.RAHASIA.value
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else _request(row)


def _request(row: Row[Any]) -> PublicRequest:
    return PublicRequest(
        code=row.code,
        category_id=int(row.category_id),
        unit_id=int(row.unit_id),
        status=ComplaintStatus(row.status),
        filed_at=row.filed_at,
        updated_at=row.updated_at,
        latitude=row.latitude,
        longitude=row.longitude,
    )


def backfill_resolutions(bind: Connection) -> int:
    """Store the first resolution of every resolved complaint that lacks it; return how many were stored.

    Run by migration 0021 (and the site benchmark) on a plain connection. Reads the complaints and their first
    `resolved` event in batches by id, judges each with `complaints.statistics.resolution`, and writes back.
    Declares only the columns it uses, so it works on the schema as migration 0021 leaves it.
    """
    limits = select(sa.column("id", sa.Integer()), sa.column("resolve_days", sa.Integer()))
    categories = {
        int(r.id): Category(int(r.id), "", "", "", 0, resolve_days=int(r.resolve_days))
        for r in bind.execute(limits.select_from(sa.table("categories")))
    }
    complaints = sa.table(
        "complaints",
        sa.column("id", sa.Integer()),
        sa.column("category_id", sa.Integer()),
        sa.column("filed_at", AwareDateTime()),
        sa.column("first_resolved_at", AwareDateTime()),
        sa.column("resolve_seconds", sa.Integer()),
        sa.column("resolved_in_time", sa.Boolean()),
    )
    events = sa.table(
        "complaint_events", sa.column("complaint_id", sa.Integer()), sa.column("kind"), sa.column("at", AwareDateTime())
    )
    change = (
        update(complaints)
        .where(complaints.c.id == sa.bindparam("key"))
        .values(
            first_resolved_at=sa.bindparam("at", type_=AwareDateTime()),
            resolve_seconds=sa.bindparam("seconds"),
            resolved_in_time=sa.bindparam("in_time"),
        )
    )
    stored, last = 0, 0
    while True:
        batch = bind.execute(
            select(complaints.c.id, complaints.c.category_id, complaints.c.filed_at)
            .where(complaints.c.id > last, complaints.c.first_resolved_at.is_(None))
            .order_by(complaints.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not batch:
            return stored
        last = int(batch[-1].id)
        resolved = (  # the batch's first resolutions, through the index on complaint_id
            select(events.c.complaint_id, type_coerce(func.min(events.c.at), AwareDateTime()).label("at"))
            .where(events.c.kind == EventKind.RESOLVED.value, events.c.complaint_id.between(int(batch[0].id), last))
            .group_by(events.c.complaint_id)
        )
        first_resolved = {int(r.complaint_id): r.at for r in bind.execute(resolved)}
        values = []
        for row in batch:
            category, resolved_at = categories.get(int(row.category_id)), first_resolved.get(int(row.id))
            if category is None or resolved_at is None:
                continue
            kept = resolution(row.filed_at, resolved_at, category)
            values.append({"key": row.id, "at": kept.at, "seconds": kept.seconds, "in_time": kept.within_deadline})
        if values:
            bind.execute(change, values)
            stored += len(values)
