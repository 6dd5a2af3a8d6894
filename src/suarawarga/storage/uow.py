"""The unit-of-work protocol that services and flows depend on (no SQLAlchemy here).

A unit of work is opened with `async with`, gives access to the repositories, and is committed once by
whoever owns it (the dispatcher for a chat turn, a CLI command, a job). Repositories never commit; leaving
the block without committing rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from suarawarga.storage.queue import QueueRepository
    from suarawarga.storage.sql import (
        AuditRepo,
        CategoryRepo,
        CitizenRepo,
        ComplaintRepo,
        ConversationRepo,
        InboundRepo,
        InboxRepo,
        JobRepo,
        LookupRepo,
        OutboxRepo,
        SecretRepo,
        StaffRepo,
        UnitRepo,
    )
    from suarawarga.storage.staffweb import StaffSessionRepository
    from suarawarga.storage.statistics_sql import StatisticsRepo
    from suarawarga.storage.survey_sql import SurveyRepo


class UnitOfWork(Protocol):
    """One transaction with its repositories."""

    units: UnitRepo
    categories: CategoryRepo
    citizens: CitizenRepo
    complaints: ComplaintRepo
    conversations: ConversationRepo
    inbound: InboundRepo
    outbox: OutboxRepo
    staff: StaffRepo
    inbox: InboxRepo
    jobs: JobRepo
    surveys: SurveyRepo
    audit: AuditRepo
    lookups: LookupRepo
    secrets: SecretRepo
    statistics: StatisticsRepo
    queue: QueueRepository
    staff_sessions: StaffSessionRepository

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(self, *exc: object) -> None:
        """Roll back whatever was not committed and release the connection."""
        ...

    async def commit(self) -> None:
        """Commit the transaction."""
        ...

    async def rollback(self) -> None:
        """Roll back the transaction."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
