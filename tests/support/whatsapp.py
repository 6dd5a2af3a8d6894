"""The product running with its WhatsApp channel against the fake Graph API, served over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fakes.serving import serve_app
from fakes.whatsapp_server import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    VERIFY_TOKEN,
    VERSION,
    FakeGraphApi,
)
from pydantic import SecretStr

from suarawarga.bootstrap import App
from suarawarga.bot.channels.whatsapp import WhatsAppChannel, whatsapp_channel
from suarawarga.bot.messages import ChannelName
from suarawarga.runtime import Running, running, web_app
from suarawarga.storage.outbox import MessageState
from tests.support.clock import FrozenClock


def configure(app: App, api: FakeGraphApi, client: str | None = None) -> None:
    """Point the app's WhatsApp settings at the fake (and pick the HTTP client, when given)."""
    app.settings = app.settings.model_copy(
        update={
            **({"whatsapp_client": client} if client is not None else {}),
            "whatsapp_api_url": api.root_url,
            "whatsapp_api_version": VERSION,
            "whatsapp_token": SecretStr(TOKEN),
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_app_secret": SecretStr(APP_SECRET),
            "whatsapp_verify_token": SecretStr(VERIFY_TOKEN),
        }
    )


@dataclass
class Rig:
    """A running product (webhook served by uvicorn) wired to a running fake Graph API."""

    app: App
    api: FakeGraphApi
    run: Running
    channel: WhatsAppChannel
    url: str

    async def settle(self) -> None:
        """Process every stored delivery and wait until the replies it caused were handed to the fake."""
        while await self.run.inbox.drain():
            pass
        await self.run.pump.drain()

    async def outbox(self, chat_id: str) -> list[MessageState]:
        """Return every message the product wrote to a WhatsApp chat, with its delivery state."""
        async with self.app.uow() as uow:
            return await uow.outbox.for_recipient(ChannelName.WHATSAPP, chat_id)

    async def keys(self, chat_id: str) -> list[str]:
        """Return the catalogue keys of the messages written to a chat (sorted: a frozen clock gives no order)."""
        return sorted(state.message.text_key for state in await self.outbox(chat_id))


@asynccontextmanager
async def whatsapp_rig(
    app: App, clock: FrozenClock, client: str | None = None, fake: type[FakeGraphApi] = FakeGraphApi, **options: Any
) -> AsyncIterator[Rig]:
    """Run the fake, the product (channels, dispatcher, inbox, outbox pump) and its web app.

    `client`: SUARAWARGA_WHATSAPP_CLIENT of the product (None: the settings' default); `fake`: the fake's class.
    """
    async with fake(clock.now, **options) as api:
        configure(app, api, client)
        channel = whatsapp_channel(app)
        assert channel is not None
        async with running(app, [channel], retries=False) as run, serve_app(web_app(run)) as url:
            api.webhook_url = f"{url}/whatsapp"
            yield Rig(app, api, run, channel, url)
