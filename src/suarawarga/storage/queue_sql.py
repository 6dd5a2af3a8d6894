"""SQL reads for the staff console: the filtered, sorted, paged queue and complaint statistics per group.

Every filter is a WHERE clause and the page is an OFFSET/LIMIT, so only the rows shown leave the database; the
indexes of migration 0019 serve the member's units, kecamatan and category with the filing time. The reporter's
name and contact are never selected. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from suarawarga.complaints.model import (
    OPEN_STATUSES,
    ActorKind,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
)
from suarawarga.complaints.queue import ACCEPT_STOPS, RESPOND_STOPS, GroupCount, QueueCriteria, QueueRow, QueueSort
from suarawarga.storage.base_sql import COMPLAINTS, EVENTS

C = COMPLAINTS.c
QUEUE_COLUMNS = (
    C.id,
    C.code,
    C.status,
    C.category_id,
    C.unit_id,
    C.kecamatan_id,
    C.identity_mode,
    C.filed_at,
    C.updated_at,
    C.description,
    C.location_text,
)


def _stopped(kinds: Sequence[str]) -> ColumnElement[bool]:
    return exists().where(EVENTS.c.complaint_id == C.id, EVENTS.c.kind.in_(kinds))


def overdue_clause(criteria: QueueCriteria) -> ColumnElement[bool]:
    """Return the SQL for "open with a missed clock" under the criteria's per-category cut-offs."""
    if not criteria.overdue:
        return false()
    arms = [
        and_(
            C.category_id == cut.category_id,
            or_(
                C.filed_at <= cut.resolve,
                and_(C.filed_at < cut.accept, ~_stopped(ACCEPT_STOPS)),
                and_(C.filed_at < cut.respond, ~_stopped(RESPOND_STOPS)),
            ),
        )
        for cut in criteria.overdue
    ]
    return and_(C.status.in_(sorted(s.value for s in OPEN_STATUSES)), or_(*arms))


def _where(query: Select[Any], criteria: QueueCriteria) -> Select[Any]:
    if criteria.unit_ids is not None:
        query = query.where(C.unit_id.in_(sorted(criteria.unit_ids)))
    if criteria.statuses:
        query = query.where(C.status.in_(criteria.statuses))
    if criteria.category_ids:
        query = query.where(C.category_id.in_(criteria.category_ids))
    if criteria.kecamatan_ids:
        query = query.where(C.kecamatan_id.in_(criteria.kecamatan_ids))
    if criteria.identity_modes:
        query = query.where(C.identity_mode.in_(criteria.identity_modes))
    if criteria.filed_from is not None:
        query = query.where(C.filed_at >= criteria.filed_from)
    if criteria.filed_before is not None:
        query = query.where(C.filed_at < criteria.filed_before)
    if criteria.code is not None:
        query = query.where(C.code == criteria.code)
    if criteria.text:
        # LIKE wildcards typed by a member are searched for as themselves.
        text = criteria.text.casefold()
        query = query.where(
            or_(
                C.code.contains(criteria.text.upper(), autoescape=True),
                func.lower(C.description).contains(text, autoescape=True),
            )
        )
    if criteria.overdue is not None:
        query = query.where(overdue_clause(criteria))
    return query


ORDER = {
    QueueSort.OLDEST: (C.filed_at.asc(), C.id.asc()),
    QueueSort.NEWEST: (C.filed_at.desc(), C.id.desc()),
    QueueSort.UPDATED: (C.updated_at.desc(), C.id.desc()),
    QueueSort.CODE: (C.code.asc(),),
}


def _row(row: Row[Any]) -> QueueRow:
    return QueueRow(
        id=int(row.id),
        code=row.code,
        status=ComplaintStatus(row.status),
        category_id=int(row.category_id),
        unit_id=int(row.unit_id),
        kecamatan_id=row.kecamatan_id,
        identity_mode=IdentityMode(row.identity_mode),
        filed_at=row.filed_at,
        updated_at=row.updated_at,
        description=row.description,
        location_text=row.location_text,
    )


class QueueRepo:
    """The staff queue's reads."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def count(self, criteria: QueueCriteria) -> int:
        """Return how many complaints match."""
        query = _where(select(func.count()).select_from(COMPLAINTS), criteria)
        return int((await self.conn.execute(query)).scalar_one())

    async def rows(self, criteria: QueueCriteria, offset: int, limit: int) -> list[QueueRow]:
        """Return one page of the matching complaints in the chosen order."""
        query = _where(select(*QUEUE_COLUMNS), criteria).order_by(*ORDER[criteria.sort]).offset(offset).limit(limit)
        return [_row(r) for r in await self.conn.execute(query)]

    async def status_counts(self, criteria: QueueCriteria) -> dict[str, int]:
        """Return how many complaints match, per status."""
        query = _where(select(C.status, func.count()).select_from(COMPLAINTS), criteria).group_by(C.status)
        return {str(status): int(n) for status, n in await self.conn.execute(query)}

    async def events_of(self, complaint_ids: Sequence[int], kinds: Sequence[str]) -> dict[int, list[ComplaintEvent]]:
        """Return the events of some kinds of a few complaints, oldest first (what their clocks need)."""
        query = (
            select(EVENTS)
            .where(EVENTS.c.complaint_id.in_(sorted(set(complaint_ids))), EVENTS.c.kind.in_(sorted(kinds)))
            .order_by(EVENTS.c.at, EVENTS.c.id)
        )
        found: dict[int, list[ComplaintEvent]] = {}
        for r in await self.conn.execute(query):
            found.setdefault(int(r.complaint_id), []).append(
                ComplaintEvent(
                    at=r.at,
                    kind=EventKind(r.kind),
                    actor=ActorKind(r.actor_kind),
                    from_status=ComplaintStatus(r.from_status) if r.from_status else None,
                    to_status=ComplaintStatus(r.to_status) if r.to_status else None,
                    unit_id=r.unit_id,
                    actor_id=r.actor_id,
                )
            )
        return found

    async def grouped(
        self, criteria: QueueCriteria, by: str, start: datetime, end: datetime, overdue: QueueCriteria
    ) -> list[GroupCount]:
        """Count the complaints filed in [start, end) per category or per kecamatan (`by`), with open and overdue.

        `overdue` carries the cut-offs at the moment the figures are for; open and overdue count every complaint
        of the window that is open now.
        """
        key = C.category_id if by == "category" else C.kecamatan_id
        done = (ComplaintStatus.SELESAI.value, ComplaintStatus.DITUTUP.value)
        open_values = sorted(s.value for s in OPEN_STATUSES)

        def total(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        query = (
            _where(
                select(
                    key.label("key"),
                    func.count().label("received"),
                    total(C.status.in_(done)).label("resolved"),
                    total(C.status.in_(open_values)).label("open_now"),
                    total(overdue_clause(overdue)).label("overdue_now"),
                ).select_from(COMPLAINTS),
                criteria,
            )
            .where(C.filed_at >= start, C.filed_at < end)
            .group_by(key)
        )
        return [
            GroupCount(r.key, int(r.received), int(r.resolved), int(r.open_now), int(r.overdue_now))
            for r in await self.conn.execute(query)
        ]
