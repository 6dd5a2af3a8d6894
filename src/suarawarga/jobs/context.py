"""What a job runs with: a unit of work and the messages it queues, written to the outbox before the commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from suarawarga.bot.messages import Outbound
from suarawarga.bot.texts import Catalogue
from suarawarga.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


@dataclass
class JobContext:
    """A job's transaction: notifications queued here reach the outbox in the same commit."""

    uow: UnitOfWork
    catalogue: Catalogue
    now: datetime
    messages: list[Outbound] = field(default_factory=list)

    def notify(self, outbound: Outbound) -> None:
        """Queue a message, written to the outbox when the job commits."""
        self.messages.append(outbound)

    async def commit(self) -> None:
        """Write the queued messages to the outbox and commit everything at once."""
        await self.uow.outbox.add_many(self.messages, self.now)
        self.messages = []
        await self.uow.commit()


@asynccontextmanager
async def job_context(app: App, now: datetime) -> AsyncIterator[JobContext]:
    """Open a unit of work for a job; nothing is kept unless the job commits."""
    async with app.uow() as uow:
        yield JobContext(uow, app.catalogue, now)


@dataclass
class JobResult:
    """What a job run did, for the CLI and the logs."""

    name: str
    done: int = 0
    skipped: int = 0
    details: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return a one-line account of the run."""
        extra = f" ({'; '.join(self.details)})" if self.details else ""
        return f"{self.name}: {self.done} done, {self.skipped} already done{extra}"
