"""The SQL unit of work: one connection and transaction, with every repository bound to it.

The `UnitOfWork` port (storage/uow.py) is the one list of repositories and their Protocols. `SqlUnitOfWork`
subclasses it, so mypy rejects a repository the port lists but `_bind` does not (the class stays abstract)
and an implementation that does not match its Protocol (the assignment does not type-check).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from suarawarga.storage.audit_sql import AuditRepo
from suarawarga.storage.citizens_sql import CitizenRepo
from suarawarga.storage.complaints_sql import ComplaintRepo, RatingRepo
from suarawarga.storage.conversations_sql import ConversationRepo
from suarawarga.storage.inbox_sql import ContactRepo, InboxRepo, ProcessedRepo
from suarawarga.storage.jobs_sql import JobRepo
from suarawarga.storage.lookups_sql import LookupRepo
from suarawarga.storage.outbox_sql import OutboxRepo
from suarawarga.storage.queue_sql import QueueRepo
from suarawarga.storage.reference import ReferenceCache
from suarawarga.storage.secrets_sql import SecretRepo
from suarawarga.storage.staff_sql import StaffRepo
from suarawarga.storage.staffweb_sql import StaffSessionRepo
from suarawarga.storage.statistics_sql import StatisticsRepo
from suarawarga.storage.supporters_sql import SupportRepo
from suarawarga.storage.survey_sql import SurveyRepo
from suarawarga.storage.units_sql import CategoryRepo, UnitRepo
from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


async def _close(conn: AsyncConnection) -> None:
    """Return a connection to the pool, to the end even when the task is cancelled meanwhile.

    A task cancelled while its connection went back to the pool (a stopping loop) left the driver's connection
    open, for the garbage collector to find (aiosqlite warns). Cancelled, this still waits for the close, so the
    connection is back before the task ends (and before an engine disposed after it looks for it).
    """
    closing = asyncio.ensure_future(conn.close())
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        await asyncio.wait({closing})
        if not closing.cancelled() and closing.exception() is not None:
            log.warning("could not return a connection to the pool: %r", closing.exception())
        raise


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on one database connection and transaction (its repositories typed by the port)."""

    def __init__(
        self, engine: AsyncEngine, tz: tzinfo, *, autocommit: bool = False, reference: ReferenceCache | None = None
    ) -> None:
        """Work on the engine's database; `tz` is the city's timezone (the IKM roll-up counts its days).

        `autocommit`: each statement commits on its own, so a unit that only reads, or makes one write that
        stands alone, costs no BEGIN and no COMMIT/ROLLBACK round trip; `commit()` then has nothing to do.
        `reference`: the process's snapshots of units and categories (storage/reference.py); without it this unit
        of work keeps its own.
        """
        self._engine = engine
        self._tz = tz
        self._autocommit = autocommit
        self._reference = reference if reference is not None else ReferenceCache()
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        """Open a connection and begin a transaction (none in autocommit), with every repository on it."""
        conn = await self._engine.connect()
        try:
            if self._autocommit:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                await conn.begin()
        except BaseException:  # cancelled (a stopping process) or failed here: the block never runs, nor __aexit__
            await _close(conn)
            raise
        self._conn = conn
        self._bind(conn)
        return self

    def _bind(self, conn: AsyncConnection) -> None:
        """Make each repository of the port on this connection."""
        self._cached = (UnitRepo(conn, self._reference), CategoryRepo(conn, self._reference))
        self.units, self.categories = self._cached
        self.citizens = CitizenRepo(conn)
        self.complaints, self.ratings = ComplaintRepo(conn), RatingRepo(conn)
        self.conversations = ConversationRepo(conn)
        self.inbox, self.processed, self.contacts = InboxRepo(conn), ProcessedRepo(conn), ContactRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.staff = StaffRepo(conn)
        self.jobs = JobRepo(conn)
        self.surveys = SurveyRepo(conn, self._tz)
        self.audit = AuditRepo(conn)
        self.lookups = LookupRepo(conn)
        self.secrets = SecretRepo(conn)
        self.statistics = StatisticsRepo(conn)
        self.supports = SupportRepo(conn)
        self.staff_sessions = StaffSessionRepo(conn)
        self.queue = QueueRepo(conn)

    async def __aexit__(self, *exc: object) -> None:
        """Roll back anything not committed and return the connection to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                self._settle_reference()
                await _close(conn)

    async def commit(self) -> None:
        """Commit, and begin a new transaction on the same connection."""
        if self._conn is None:
            raise RuntimeError("commit() outside 'async with'")
        if self._autocommit:
            return  # every statement committed as it ran
        await self._conn.commit()
        self._settle_reference()
        await self._conn.begin()

    async def rollback(self) -> None:
        """Roll back, and begin a new transaction on the same connection."""
        if self._conn is None:
            raise RuntimeError("rollback() outside 'async with'")
        if self._autocommit:
            raise RuntimeError("nothing to roll back in autocommit: each statement committed as it ran")
        await self._conn.rollback()
        self._settle_reference()
        await self._conn.begin()

    def _settle_reference(self) -> None:
        """After a commit or rollback of units or categories: drop the snapshots read meanwhile, cache again."""
        if any(repo.wrote for repo in self._cached):
            self._reference.invalidate()
            for repo in self._cached:
                repo.wrote = False
