"""The composition root: the one place that turns settings into connected, concrete objects."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.bot.attachments import AttachmentStore, Fetch, ImageRules, MediaIntake
from suarawarga.bot.conversation import ConversationEngine, Policy
from suarawarga.bot.dispatcher import Dispatcher, OnCommitted
from suarawarga.bot.messages import ChannelName, Outbound
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.sender import HOLD, Delivery, Sender
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock, SystemClock
from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.config import Settings
from suarawarga.handlers.registry import build_conversation_engine
from suarawarga.logging import SenderTags
from suarawarga.storage.db import database_problem, make_engine
from suarawarga.storage.reference import ReferenceCache
from suarawarga.storage.uow import UnitOfWork
from suarawarga.storage.uow_sql import SqlUnitOfWork
from suarawarga.storage.wakeups_sql import listening_for_inbox

log = logging.getLogger(__name__)

SENDER_TAG_ROW = "log_tag"  # name of the sender-tag key in the app_secrets table
LOCAL_URL = "http://127.0.0.1:8080"  # where `serve` listens by default: sign-in links without a public URL


@dataclass
class App:
    """Everything a process needs, wired together."""

    settings: Settings
    db: AsyncEngine
    clock: Clock
    catalogue: Catalogue
    policy: Policy
    conversations: ConversationEngine
    attachments: AttachmentStore
    calendar: WorkingCalendar
    media: MediaIntake
    _senders: dict[ChannelName, Sender] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    reference: ReferenceCache = field(default_factory=ReferenceCache)  # units and categories, for a few seconds

    @property
    def senders(self) -> Mapping[ChannelName, Sender]:
        """Return the registered senders by channel (read-only: `register_sender` adds one)."""
        return MappingProxyType(self._senders)

    def register_sender(self, channel: ChannelName, sender: Sender, fetch: Fetch | None = None) -> None:
        """Plug in a channel's sender (and how to download the files its chats send, once a step accepts one)."""
        self._senders[channel] = sender
        if fetch is not None:
            self.media.fetchers[channel] = fetch

    def database_problem(self, error: BaseException) -> str | None:
        """Return one line when an error means the database cannot be reached or used, else None."""
        return database_problem(error, self.settings.database_url)

    def uow(self, *, autocommit: bool = False) -> UnitOfWork:
        """Open a new unit of work (use with `async with`; `autocommit`: see `UnitOfWorkFactory`)."""
        return SqlUnitOfWork(self.db, self.settings.tz, autocommit=autocommit, reference=self.reference)

    def listening_for_inbox(
        self, wake: Callable[[], None], listening: Callable[[bool], None]
    ) -> AbstractAsyncContextManager[None]:
        """Call `wake` when another process stored updates, `listening` when notifications start or stop."""
        return listening_for_inbox(self.settings.database_url, wake, listening)

    def delivery(self) -> Delivery:
        """Return the outbox delivery over this app's senders."""
        return Delivery(self.senders, self.uow, self.clock, self.metrics)

    def dispatcher(
        self, on_committed: OnCommitted | None = None, *, lanes: int | None = None, holder: str | None = None
    ) -> Dispatcher:
        """Return a dispatcher; by default replies are delivered right after each commit."""
        if on_committed is None:
            delivery = self.delivery()

            async def deliver_now(messages: list[Outbound]) -> None:
                await delivery.deliver(messages)

            on_committed = deliver_now
        if lanes is None:
            # SQLite has one writer anyway; on PostgreSQL two lanes measured best on 2 cores (benchmarks/).
            lanes = 1 if self.db.dialect.name == "sqlite" else 2
        return Dispatcher(
            self.conversations,
            self.uow,
            self.clock,
            self.policy,
            self.catalogue,
            on_committed,
            lanes=lanes,
            hold=HOLD,
            holder=holder,
            on_erase=self.attachments.delete_all,
            metrics=self.metrics,
            outage=self.database_problem,
            media=self.media,
        )

    async def load_log_key(self) -> None:
        """Key the log's sender tags: the configured secret, else the one in the database (made there if none).

        Tolerant: a database without the table yet (a process started with --no-setup on an old schema) keeps
        the random per-process key, whose tags are just as unreversible but differ between processes.
        """
        if self.settings.log_tag_secret is not None:
            return  # set by build()
        try:
            async with self.uow() as uow:
                key = await uow.secrets.get_or_add(SENDER_TAG_ROW, secrets.token_hex(32), self.clock.now())
                await uow.commit()
        except Exception as exc:
            log.warning("sender tags use a per-process key: the stored key could not be read (%s)", type(exc).__name__)
            return
        self.policy.tags.set_key(bytes.fromhex(key))

    async def aclose(self) -> None:
        """Release the database connections."""
        await self.db.dispose()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    senders: Mapping[ChannelName, Sender] | None = None,
    db: AsyncEngine | None = None,
) -> App:
    """Build the application from settings; tests inject a clock, senders or a database engine."""
    catalogue = Catalogue.load(settings.texts_file, settings.language)
    attachments = AttachmentStore(settings.attachments_dir, image_rules(settings))
    return App(
        settings=settings,
        db=db or make_engine(settings.database_url),
        clock=clock or SystemClock(settings.tz),
        catalogue=catalogue,
        policy=Policy(
            city_code=settings.city_code,
            default_language=settings.language,
            complaints_per_day=settings.complaints_per_day,
            max_photos=settings.max_photos,
            surveys_per_unit_per_day=settings.surveys_per_unit_per_day,
            console_url=(settings.public_url or LOCAL_URL).rstrip("/"),
            tags=SenderTags(
                settings.log_tag_secret.get_secret_value().encode() if settings.log_tag_secret is not None else None
            ),
        ),
        conversations=build_conversation_engine(),
        attachments=attachments,
        calendar=WorkingCalendar(settings.tz, settings.extra_days_off),
        media=MediaIntake(attachments),
        _senders=dict(senders or {}),
    )


def image_rules(settings: Settings) -> ImageRules:
    """Return the limits on files from chats, from the settings."""
    mb = 1024 * 1024
    return ImageRules(
        max_pixels=settings.image_max_megapixels * 1_000_000,
        max_side=settings.image_max_side,
        max_bytes=settings.attachment_max_mb * mb,
        parallel=settings.image_decoders,
        chat_quota=settings.attachments_chat_quota_mb * mb,
        total_quota=settings.attachments_total_quota_mb * mb,
        min_free=settings.attachments_min_free_mb * mb,
    )
