"""The WhatsApp channel: the receiver and the sender on one Graph API transport, and the factory from settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from suarawarga.bot.attachments import AttachmentStore
from suarawarga.bot.inbox import Parser
from suarawarga.bot.messages import (
    ChannelName,
    Inbound,
)
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.sender import Sender
from suarawarga.bot.texts import Catalogue
from suarawarga.bot.web import BodyReader
from suarawarga.clock import Clock
from suarawarga.config import WhatsAppTemplate
from suarawarga.storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

from suarawarga.bot.channels.whatsapp.api import GraphApi
from suarawarga.bot.channels.whatsapp.limits import RecentContacts
from suarawarga.bot.channels.whatsapp.receiving import WhatsAppReceiver, chat_of
from suarawarga.bot.channels.whatsapp.sender import WhatsAppSender
from suarawarga.bot.channels.whatsapp.transport import KINDS, HttpxTransport, open_transport

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP
# Meta's "sent" status of an accepted message, carrying its callback data, comes within a second or two.
ECHO_GRACE = timedelta(seconds=3)


class WhatsAppChannel:
    """The WhatsApp Cloud API as a channel: webhook routes, parser and sender on one Graph API transport."""

    name: ChannelName = CHANNEL
    sender: Sender
    parser: Parser
    echo_grace = ECHO_GRACE

    def __init__(
        self,
        *,
        api: GraphApi,
        app_secret: str,
        verify_token: str | None,
        templates: Mapping[str, WhatsAppTemplate],
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        client: httpx.AsyncClient | None = None,
        client_kind: str = "httpx",
        concurrency: int = 8,
        horizon: timedelta | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """Wire the channel; the transport is opened in start(): an injected httpx `client`, or a new one of
        `client_kind` ("httpx", or "tuned": the toolkit's keep-alive client).

        `horizon`: messages whose own timestamp is older are refused (acknowledged, not stored): the processed
        ids that stop a replayed delivery are pruned after the message-log period, so a replay after it would
        be processed again.
        """
        if client_kind not in KINDS:
            raise ValueError(f"unknown WhatsApp client kind {client_kind!r} (httpx or tuned)")
        self.api = api
        self.client_kind = client_kind
        self._own_transport = client is None
        api.transport = HttpxTransport(client, own=False) if client is not None else None
        recent = RecentContacts()  # what this process parsed opens the 24-hour window for its own sends
        self.receiver = WhatsAppReceiver(api, app_secret, verify_token, uow_factory, clock, horizon, metrics, recent)
        self.whatsapp_sender = WhatsAppSender(
            api, templates, uow_factory, clock, catalogue, attachments, concurrency, recent
        )
        self.sender = self.whatsapp_sender
        self.parser = self.receiver.parse
        self.fetch = self.receiver.fetch
        self.routes = self.receiver.routes
        self.apply_statuses = self.receiver.apply_statuses

    chat_of = staticmethod(chat_of)

    async def parse(self, payload: dict[str, Any]) -> Inbound | None:
        """Turn a stored delivery into an Inbound (see `WhatsAppReceiver.parse`)."""
        return await self.receiver.parse(payload)

    @property
    def parallel(self) -> asyncio.Semaphore:
        """Return the limit on chats sent to at the same time."""
        return self.whatsapp_sender.parallel

    @parallel.setter
    def parallel(self, value: asyncio.Semaphore) -> None:
        self.whatsapp_sender.parallel = value

    @property
    def bodies(self) -> BodyReader:
        """Return the reader of webhook bodies."""
        return self.receiver.bodies

    @bodies.setter
    def bodies(self, value: BodyReader) -> None:
        self.receiver.bodies = value

    async def start(self) -> None:
        """Open the transport of the channel's kind unless a client was injected."""
        if self.api.transport is None:
            self.api.transport = open_transport(self.client_kind)
            self._own_transport = True

    async def stop(self) -> None:
        """Close the transport if the channel opened it."""
        if self._own_transport and self.api.transport is not None:
            await self.api.transport.aclose()
            self.api.transport = None


def whatsapp_channel(app: App, client: httpx.AsyncClient | None = None) -> WhatsAppChannel | None:
    """Build the WhatsApp channel from the settings; None unless the token, number id and app secret are set."""
    settings = app.settings
    token, number, secret = settings.whatsapp_token, settings.whatsapp_phone_number_id, settings.whatsapp_app_secret
    if token is None or not number or secret is None:
        return None
    verify = settings.whatsapp_verify_token
    return WhatsAppChannel(
        api=GraphApi(settings.whatsapp_api_url, settings.whatsapp_api_version, number, token.get_secret_value()),
        app_secret=secret.get_secret_value(),
        verify_token=verify.get_secret_value() if verify is not None else None,
        templates=settings.whatsapp_templates,
        uow_factory=app.uow,
        clock=app.clock,
        catalogue=app.catalogue,
        attachments=app.attachments,
        client=client,
        client_kind=settings.whatsapp_client,
        horizon=timedelta(days=settings.message_log_days),
        metrics=app.metrics,
    )
