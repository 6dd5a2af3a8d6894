"""The Telegram channel: its client (python-telegram-bot), webhook registration, long polling, and wiring."""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute
from telegram import (
    Bot,
)
from telegram.error import (
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from suarawarga.bot.attachments import AttachmentStore
from suarawarga.bot.channels.telegram.pacing import Limits, retry_seconds
from suarawarga.bot.channels.telegram.receiving import TelegramReceiver, chat_of, telegram_route
from suarawarga.bot.channels.telegram.request import KeepAliveRequest
from suarawarga.bot.channels.telegram.sender import TelegramSender
from suarawarga.bot.inbox import Acceptor, Parser
from suarawarga.bot.messages import (
    ChannelName,
    Inbound,
)
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.sender import Sender
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock
from suarawarga.errors import ChannelError
from suarawarga.logging import redact

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)

CHANNEL = ChannelName.TELEGRAM
ALLOWED_UPDATES = ("message", "callback_query")  # edits, reactions and member updates are not acted on
POLL_TIMEOUT = 50  # seconds a getUpdates long poll may wait for an update
STORE_RETRY = 2.0  # seconds before fetching again an update that could not be stored
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

Accept = Callable[[ChannelName, str, dict[str, Any]], Awaitable[bool]]


class TelegramChannel:
    """Telegram as a channel: webhook route, parser of stored updates, sender, and long polling."""

    name = CHANNEL
    chat_of = staticmethod(chat_of)
    echo_grace = timedelta(0)  # the Bot API tells nothing of a sent message afterwards: no echo to wait for

    def __init__(
        self,
        bot: Bot,
        *,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        clock: Clock,
        webhook_secret: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.bot = bot
        self.clock = clock
        self.attachments = attachments
        self.webhook_secret = webhook_secret or None
        self.telegram_sender = TelegramSender(bot, catalogue, attachments, clock, limits)
        self.sender: Sender = self.telegram_sender
        self.receiver = TelegramReceiver(bot, clock, self.telegram_sender, self._username)
        self.parser: Parser = self.receiver.parse
        self.fetch = self.receiver.fetch
        # Set by telegram_channel(): messages older than this by their own date are refused at the webhook (a
        # replay of a captured request after the processed-ids log was pruned would be processed again).
        self.horizon: timedelta | None = None
        self.metrics: Metrics | None = None

    @classmethod
    def connect(
        cls,
        token: str,
        api_url: str = "https://api.telegram.org",
        *,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        clock: Clock,
        webhook_secret: str | None = None,
        limits: Limits | None = None,
        request: str = "tuned",
    ) -> TelegramChannel:
        """Build the channel on a PTB Bot for a Bot API server root (Telegram's, or a self-hosted one).

        `request` picks the HTTP client of the calls: "httpx" (PTB's HTTPXRequest) or "tuned" (`KeepAliveRequest`).
        """
        root = api_url.rstrip("/")
        parallel = (limits or Limits()).parallel
        kind = {"httpx": HTTPXRequest, "tuned": KeepAliveRequest}.get(request)
        if kind is None:
            raise ValueError(f"unknown Telegram request kind {request!r} (httpx or tuned)")
        bot = Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=kind(
                connection_pool_size=parallel + 8,  # sends, plus downloads and callback answers beside them
                pool_timeout=10.0,
                read_timeout=15.0,
                write_timeout=20.0,
                media_write_timeout=60.0,
            ),
            # One long poll at a time, every 50 s: not worth leaving PTB's own client.
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10.0),
        )
        return cls(
            bot,
            catalogue=catalogue,
            attachments=attachments,
            clock=clock,
            webhook_secret=webhook_secret,
            limits=limits,
        )

    @property
    def username(self) -> str:
        """Return the bot's @username (known once started)."""
        return self.bot.username

    def _username(self) -> str | None:
        try:
            return self.bot.username
        except RuntimeError:  # not started: every /command@bot is taken as ours
            return None

    async def parse(self, payload: dict[str, Any]) -> Inbound | None:
        """Turn a stored update into an Inbound (see `TelegramReceiver.parse`)."""
        return await self.receiver.parse(payload)

    def routes(self, inbox: Acceptor) -> Sequence[BaseRoute]:
        """Return POST /telegram when a webhook secret is configured (no secret, no webhook)."""
        if self.webhook_secret is None:
            return []
        return [telegram_route(inbox, self.webhook_secret, self._too_old)]

    def _too_old(self, update: Any) -> bool:
        """Tell whether a webhook update's message is older than the horizon by its own date (and count it)."""
        message = update.get("message") if isinstance(update, dict) else None
        date = message.get("date") if isinstance(message, dict) else None
        if self.horizon is None or type(date) is not int or date >= (self.clock.now() - self.horizon).timestamp():
            return False
        log.warning("refused a Telegram message older than %d days (a replay?)", self.horizon.days)
        if self.metrics is not None:
            self.metrics.too_old.labels(CHANNEL.value).inc()
        return True

    async def start(self) -> None:
        """Open the HTTP clients and learn the bot's identity (getMe), which also checks the token."""
        # PTB 22 warns on every 429 unless PTB_TIMEDELTA is set; `retry_seconds` reads both forms.
        warnings.filterwarnings("ignore", message=r".*`retry_after`", category=PTBDeprecationWarning)
        try:
            await self.bot.initialize()
        except InvalidToken:
            # PTB's message repeats the token: never let it reach a log.
            raise ChannelError("the Bot API rejected SUARAWARGA_TELEGRAM_TOKEN") from None
        except TelegramError as exc:
            raise ChannelError(f"could not reach the Bot API ({type(exc).__name__}: {redact(str(exc))})") from None

    async def stop(self) -> None:
        """Close the HTTP clients."""
        await self.bot.shutdown()

    def secret_is_valid(self) -> bool:
        """Tell whether the webhook secret is one Telegram accepts (1-256 of A-Z a-z 0-9 _ -)."""
        return self.webhook_secret is not None and SECRET_TOKEN.fullmatch(self.webhook_secret) is not None

    async def set_webhook(self, url: str) -> None:
        """Register the webhook URL and secret with Telegram (for `serve`)."""
        if not self.secret_is_valid():
            raise ChannelError("the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        try:
            await self.bot.set_webhook(url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as exc:
            raise ChannelError(f"setWebhook failed: {redact(str(exc))}") from None

    async def delete_webhook(self) -> None:
        """Remove any webhook (pending updates are kept), so that long polling works."""
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            raise ChannelError(f"deleteWebhook failed: {redact(str(exc))}") from None

    async def poll(self, accept: Accept, *, wait: int = POLL_TIMEOUT) -> None:
        """Long-poll getUpdates until cancelled; each update is stored (`accept`) before the offset passes it."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=wait, allowed_updates=ALLOWED_UPDATES)
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except TelegramError as exc:  # network trouble, a conflicting poller, a webhook set meanwhile
                failures += 1
                log.warning("getUpdates failed (%s: %s); trying again", type(exc).__name__, redact(str(exc)))
                await asyncio.sleep(min(2.0**failures, 30.0))
                continue
            failures = 0
            for update in updates:
                try:
                    await accept(CHANNEL, str(update.update_id), update.to_dict())
                except Exception:  # the database is down: the update is fetched again, offset unchanged
                    log.exception("could not store Telegram update; fetching it again")
                    await asyncio.sleep(STORE_RETRY)
                    break
                offset = update.update_id + 1


def telegram_channel(app: App, *, limits: Limits | None = None) -> TelegramChannel | None:
    """Build the Telegram channel from the settings; None when no bot token is set."""
    settings = app.settings
    token = settings.telegram_token.get_secret_value() if settings.telegram_token is not None else ""
    if not token:
        return None
    secret = settings.telegram_webhook_secret
    if limits is None and settings.telegram_send_rate is not None:
        limits = Limits(per_second=settings.telegram_send_rate)
    channel = TelegramChannel.connect(
        token,
        settings.telegram_api_url,
        catalogue=app.catalogue,
        attachments=app.attachments,
        clock=app.clock,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        limits=limits,
        request=settings.telegram_request,
    )
    channel.horizon, channel.metrics = timedelta(days=settings.message_log_days), app.metrics
    return channel
