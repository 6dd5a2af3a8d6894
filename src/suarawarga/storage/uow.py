"""The unit-of-work port that services and flows depend on (no SQLAlchemy here).

A unit of work is opened with `async with`, gives access to the repositories, and is committed once by
whoever owns it (the dispatcher for a chat turn, a CLI command, a job). Repositories never commit; leaving
the block without committing rolls everything back (except in a unit opened with `autocommit=True`, where each
statement commits as it runs: see `UnitOfWorkFactory`).

`UnitOfWork` below is the one list of repositories: each attribute is typed by its repository's Protocol
(defined with its values in the neutral module of the same name, e.g. `storage/complaints.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:  # the domain's modules import this one; the ports import the domain's types
    from suarawarga.storage.audit import AuditRepository
    from suarawarga.storage.citizens import CitizenRepository
    from suarawarga.storage.complaints import ComplaintRepository, RatingRepository
    from suarawarga.storage.conversations import ConversationRepository
    from suarawarga.storage.inbox import ContactRepository, InboxRepository, ProcessedRepository
    from suarawarga.storage.jobs import JobRepository
    from suarawarga.storage.lookups import LookupRepository
    from suarawarga.storage.outbox import OutboxRepository
    from suarawarga.storage.queue import QueueRepository
    from suarawarga.storage.secrets import SecretRepository
    from suarawarga.storage.staff import StaffRepository
    from suarawarga.storage.staffweb import StaffSessionRepository
    from suarawarga.storage.statistics import StatisticsRepository
    from suarawarga.storage.supporters import SupportRepository
    from suarawarga.storage.surveys import SurveyRepository
    from suarawarga.storage.units import CategoryRepository, UnitRepository


class UnitOfWork(Protocol):
    """One transaction with its repositories."""

    units: UnitRepository
    categories: CategoryRepository
    citizens: CitizenRepository
    complaints: ComplaintRepository
    ratings: RatingRepository
    conversations: ConversationRepository
    inbox: InboxRepository
    processed: ProcessedRepository
    contacts: ContactRepository
    outbox: OutboxRepository
    staff: StaffRepository
    jobs: JobRepository
    surveys: SurveyRepository
    audit: AuditRepository
    lookups: LookupRepository
    secrets: SecretRepository
    statistics: StatisticsRepository
    supports: SupportRepository
    staff_sessions: StaffSessionRepository
    queue: QueueRepository

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


class UnitOfWorkFactory(Protocol):
    """Opens units of work.

    `autocommit`: each statement commits on its own (no transaction to begin or end, one round trip less each
    way): only for reads, or for a single write that needs no other to be atomic with it.
    """

    def __call__(self, *, autocommit: bool = False) -> UnitOfWork:
        """Return a new unit of work (use with `async with`)."""
        ...
