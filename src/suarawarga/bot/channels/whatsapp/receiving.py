"""Receiving from WhatsApp: the signed webhook, delivery statuses, the chat of a stored delivery, the parser."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.inbox import Acceptor
from suarawarga.bot.messages import (
    ChannelName,
    ConversationKey,
    Inbound,
    IncomingFile,
    OutboxStatus,
    parse_command,
)
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.sender import MAX_SEND_ATTEMPTS, backoff
from suarawarga.bot.web import BodyReader, load_json
from suarawarga.clock import Clock
from suarawarga.storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    pass

from suarawarga.bot.channels.ordered import Verdict
from suarawarga.bot.channels.whatsapp.api import GraphApi, GraphError, _error_from, classify
from suarawarga.bot.channels.whatsapp.callback import Echo, parse_echo
from suarawarga.bot.channels.whatsapp.limits import MEDIA_KINDS, RecentContacts

log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP

STATUS_RANK = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read"}
RANKS = ("sent", "delivered", "read")  # the stored statuses, in the order they move
ID_MAX, CHAT_ID_MAX = 128, 64  # the longest message id and chat id the database holds (a wamid is ~60 characters)
BSUID = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]+$")  # business-scoped user id, e.g. US.13491208655302741918
WA_ID = re.compile(r"[0-9]{1,20}")  # a wa_id is the phone number's digits (E.164: at most 15)


def signature_ok(secret: bytes, body: bytes, header: str) -> bool:
    """Check an X-Hub-Signature-256 header ("sha256=" + hex HMAC of the raw body) in constant time."""
    if not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(header[7:].encode("latin-1", "replace"), expected)


def chat_of(payload: dict[str, Any]) -> str | None:
    """Return the chat a stored delivery belongs to (tolerant: None when the shape is unknown)."""
    message = payload.get("message")
    found = (message.get("from") or message.get("from_user_id")) if isinstance(message, dict) else None
    return str(found) if found else None


class WhatsAppReceiver:
    """The webhook (verification, signed deliveries, statuses) and the parser of stored deliveries."""

    def __init__(
        self,
        api: GraphApi,
        app_secret: str,
        verify_token: str | None,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        horizon: timedelta | None = None,
        metrics: Metrics | None = None,
        recent: RecentContacts | None = None,
    ) -> None:
        self.api = api
        self._secret = app_secret.encode()
        self._verify_token = verify_token
        self.uow_factory = uow_factory
        self.clock = clock
        self.horizon = horizon
        self.metrics = metrics
        self.bodies = BodyReader()  # webhook bodies read at once, before their signature can be checked
        # When chats last wrote (the 24-hour window), as parsed here; the turn stores it in the database.
        self.recent = recent or RecentContacts()  # the same in memory, for this process's sender

    def routes(self, inbox: Acceptor) -> Sequence[BaseRoute]:
        """Return GET /whatsapp (Meta's verification) and POST /whatsapp (signed deliveries)."""

        async def endpoint(request: Request) -> Response:
            """Dispatch GET (verification) and POST (deliveries)."""
            if request.method == "POST":
                return await self._receive(request, inbox)
            return self._verify(request)

        return [Route("/whatsapp", endpoint, methods=["GET", "POST"])]

    def _verify(self, request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "")
        if (
            self._verify_token
            and params.get("hub.mode") == "subscribe"
            and hmac.compare_digest(token.encode(), self._verify_token.encode())
        ):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def _receive(self, request: Request, inbox: Acceptor) -> Response:
        header = request.headers.get("x-hub-signature-256", "")
        if not header.startswith("sha256="):
            return PlainTextResponse("missing signature", status_code=401)
        body = await self.bodies.read(request)
        if isinstance(body, Response):
            return body
        if not signature_ok(self._secret, body, header):
            return PlainTextResponse("bad signature", status_code=401)
        try:
            delivery = load_json(body)
        except ValueError:
            return PlainTextResponse("bad json", status_code=400)
        if not isinstance(delivery, dict) or not isinstance(delivery.get("entry", []), list):
            return PlainTextResponse("bad delivery", status_code=400)
        statuses: list[dict[str, Any]] = []
        accepted: list[Awaitable[bool]] = []
        now = self.clock.now()
        for value in _values(delivery):
            metadata = _dict(value.get("metadata"))
            number = metadata.get("phone_number_id")
            if number is not None and str(number) != self.api.phone_number_id:
                continue  # another number of the same app
            contacts = _items(value.get("contacts"))
            for message in _items(value.get("messages")):
                wamid = _id(message.get("id"), ID_MAX)
                if wamid is not None and self._too_old(message, now):
                    continue  # a 200 all the same: Meta must not retry it
                if wamid is not None:
                    stored = {"message": message, "contacts": contacts, "metadata": metadata}
                    accepted.append(inbox.accept(CHANNEL, wamid, stored))
            statuses += _items(value.get("statuses"))
        await asyncio.gather(*accepted)  # in order, in one group commit rather than one commit each
        if statuses:
            await self.apply_statuses(statuses)
        return PlainTextResponse("ok")

    def _too_old(self, message: Mapping[str, Any], now: datetime) -> bool:
        """Tell whether a message is older than the horizon by its own timestamp (and count it if so)."""
        if self.horizon is None or _timestamp(message.get("timestamp"), now) >= now - self.horizon:
            return False
        log.warning("refused a WhatsApp message older than %d days (a replay?)", self.horizon.days)
        if self.metrics is not None:
            self.metrics.too_old.labels(CHANNEL.value).inc()
        return True

    async def apply_statuses(self, statuses: Sequence[Mapping[str, Any]]) -> None:
        """Record delivery statuses on the outbox rows sent as those wamids; statuses of others are ignored.

        A status of a wamid never recorded whose callback data names our outbox messages (the sending process died
        between Meta's acceptance and its commit) marks them sent, so that they are not sent again.
        """
        now = self.clock.now()
        wanted = [(wamid, status) for status in statuses if (wamid := _id(status.get("id"), ID_MAX)) is not None]
        echoed: dict[str, tuple[Echo, str]] = {}  # wamid -> (what its callback data names, its furthest status)
        async with self.uow_factory() as uow:
            sent_as = await uow.outbox.by_platform_ids(CHANNEL, [wamid for wamid, _ in wanted])
            for wamid, status in wanted:
                state, entries = status.get("status"), sent_as.get(wamid)
                if not isinstance(state, str):
                    continue
                if not entries:
                    echo = parse_echo(status.get("biz_opaque_callback_data"))
                    # Only the last part's acceptance means the whole message went out; failures are retried anyway.
                    if echo is not None and echo.last and state in STATUS_RANK:
                        rank = STATUS_RANK[state]
                        if wamid in echoed:
                            rank = max(rank, echoed[wamid][1], key=RANKS.index)
                        echoed[wamid] = (echo, rank)
                    continue
                ids = [e.id for e in entries]
                if state in STATUS_RANK:
                    await uow.outbox.set_platform_status(ids, STATUS_RANK[state])
                    continue
                if state != "failed":
                    continue
                errors = _items(status.get("errors"))
                first = errors[0] if errors else {}
                error = _error_from(first, 400, str(first.get("title") or first.get("message") or "delivery failed"))
                verdict, wait = classify(error)
                attempts = max(e.attempts for e in entries)
                if verdict is Verdict.WINDOW:
                    await uow.contacts.forget_contact(CHANNEL, entries[0].recipient)
                if verdict in (Verdict.RETRY, Verdict.WINDOW) and attempts < MAX_SEND_ATTEMPTS:
                    await uow.outbox.reopen(ids, error.describe(), now + (wait or backoff(attempts)))
                else:
                    final = OutboxStatus.UNREACHABLE if verdict is Verdict.UNREACHABLE else OutboxStatus.FAILED
                    await uow.outbox.fail_delivery(ids, final, error.describe())
                    log.warning("WhatsApp could not deliver outbox message(s) %s: %s", ids, error.describe())
            for wamid, (echo, rank) in echoed.items():
                if await uow.outbox.mark_echoed(CHANNEL, echo.ids, wamid, rank, now):
                    # Before its sender recorded it (usual when Meta is quick), or instead (the sender died).
                    log.debug("recorded a send from its status webhook")
            await uow.commit()

    # ------------------------------------------------------------------ parser

    async def parse(self, payload: dict[str, Any]) -> Inbound | None:
        """Turn a stored delivery into an Inbound (media as references), or None for what is not a message."""
        message = payload.get("message")
        if not isinstance(message, dict):
            return None
        wamid = _id(message.get("id"), ID_MAX)
        contacts = _items(payload.get("contacts"))
        wa_id = message.get("from")
        contact = next((c for c in contacts if wa_id and c.get("wa_id") == wa_id), contacts[0] if contacts else {})
        chat_id = _user_id(wa_id or message.get("from_user_id") or contact.get("user_id"))
        kind = message.get("type")
        if wamid is None or chat_id is None or kind == "system":
            return None
        now = self.clock.now()
        at = min(_timestamp(message.get("timestamp"), now), now)
        # To be safe, only a real message counts as opening the 24-hour window; the dispatcher stores it with
        # the turn (`opens_window`), and this process's sender knows it at once.
        opens_window = kind != "reaction"
        if opens_window:
            self.recent.note(chat_id, at)
        profile = _dict(contact.get("profile"))
        inbound = Inbound(
            key=ConversationKey(CHANNEL, chat_id),
            external_id=wamid,
            received_at=at,
            sender_id=chat_id,
            sender_name=str(profile.get("name") or "")[:100] or None,
            opens_window=opens_window,
        )
        return await self._content(inbound, message, str(kind))

    async def _content(self, inbound: Inbound, message: Mapping[str, Any], kind: str) -> Inbound:
        body = _dict(message.get(kind))
        if kind == "text":
            text = str(body.get("body") or "")
            command = parse_command(text, None)
            if command is not None:
                return _with(inbound, command=command[0], text=command[1] or None)
            return _with(inbound, text=text)
        if kind == "interactive":
            reply = body.get(str(body.get("type")))
            if body.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict) and reply.get("id"):
                return _with(inbound, choice=str(reply["id"]))
            return _with(inbound, unsupported="interactive")
        if kind == "button":  # a quick-reply button of a template
            if body.get("payload"):
                return _with(inbound, choice=str(body["payload"]))
            return _with(inbound, text=str(body.get("text") or ""))
        if kind == "location":
            try:
                point = (float(body["latitude"]), float(body["longitude"]))
            except (KeyError, TypeError, ValueError):
                return _with(inbound, unsupported="location")
            return _with(inbound, location=point)
        if kind in MEDIA_KINDS and body.get("id"):
            media_id = _id(body.get("id"), ID_MAX)
            if media_id is None:
                return _with(inbound, unsupported=f"{kind}_unavailable")
            # Only a reference: the file is downloaded if, and when, a step accepts it (fetch).
            mime = str(body.get("mime_type") or "application/octet-stream").split(";")[0].strip()
            name = body.get("filename")
            item = IncomingFile(MEDIA_KINDS[kind], mime, media_id, name=str(name)[:240] if name else None)
            caption = body.get("caption")
            return _with(inbound, media=(item,), text=str(caption) if caption else None)
        return _with(inbound, unsupported=kind or "unknown")

    async def fetch(self, item: IncomingFile, limit: int) -> bytes:
        """Download a file a step accepted (at most `limit` bytes); MediaRefused if Meta cannot give it."""
        try:
            data, _ = await self.api.download(item.source, limit)
        except GraphError as exc:
            log.warning("WhatsApp media could not be fetched: %s", exc.describe())
            if exc.status == 413:
                raise MediaRefused("media.too_large", max=str(limit // (1024 * 1024))) from None
            raise MediaRefused("media.unavailable") from None
        return data


def _timestamp(value: Any, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default


def _id(value: Any, limit: int) -> str | None:
    """Return an id from a delivery if it is one: printable ASCII the database can hold; None otherwise."""
    ok = isinstance(value, str) and 0 < len(value) <= limit and value.isascii() and value.isprintable()
    return value if ok else None


def _user_id(value: Any) -> str | None:
    """Return a sender id if it is one: a wa_id (digits) or a business-scoped user id, of bounded length."""
    if not isinstance(value, str) or len(value) > CHAT_ID_MAX:
        return None
    return value if WA_ID.fullmatch(value) or BSUID.fullmatch(value) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _values(delivery: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the `value` of every `messages` change in a delivery (one POST may batch several)."""
    values = []
    for entry in _items(delivery.get("entry")):
        for change in _items(entry.get("changes")):
            if change.get("field") == "messages" and isinstance(change.get("value"), dict):
                values.append(change["value"])
    return values


def _with(inbound: Inbound, **changes: Any) -> Inbound:
    return dataclasses.replace(inbound, **changes)
