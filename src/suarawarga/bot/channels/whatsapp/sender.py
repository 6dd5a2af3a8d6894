"""Sending to WhatsApp: parcels of a chat's messages, the 24-hour window, templates, uploads, resumed parts."""

from __future__ import annotations

import asyncio
import functools
import logging
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from suarawarga.bot.attachments import AttachmentStore
from suarawarga.bot.batching import GroupCommit
from suarawarga.bot.channels.base import remember
from suarawarga.bot.messages import (
    Attachment,
    ChannelName,
    Outbound,
    OutboundFile,
)
from suarawarga.bot.sender import Progress, SendReport
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock
from suarawarga.config import WhatsAppTemplate
from suarawarga.storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    pass

from suarawarga.bot.channels.ordered import Failure, Outcome, Resume, Sent, Verdict, by_chat, send_in_order
from suarawarga.bot.channels.whatsapp.api import THROUGHPUT, GraphApi, GraphError, classify
from suarawarga.bot.channels.whatsapp.callback import IDS_MAX, callback_data
from suarawarga.bot.channels.whatsapp.limits import (
    BODY_MAX,
    DOCUMENT_MAX,
    IMAGE_MAX,
    IMAGE_MIMES,
    MEDIA_ID_TTL,
    TEXT_MAX,
    WINDOW,
    WINDOW_MARGIN,
    RecentContacts,
    limit_problems,
)
from suarawarga.bot.channels.whatsapp.receiving import BSUID
from suarawarga.bot.channels.whatsapp.render import Part, render_parts, render_template

log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP


@dataclass(slots=True)
class _Parcel:
    """Messages to one chat sent together: plain texts merged into the message after them."""

    ids: list[str]
    message: Outbound
    text: str


@dataclass(slots=True)
class _BatchState:
    throttled: Failure | None = None  # the number hit its throughput limit: nothing more in this batch


class WhatsAppSender:
    """Sends outbox messages through the Cloud API: each chat's in order, chats side by side."""

    def __init__(
        self,
        api: GraphApi,
        templates: Mapping[str, WhatsAppTemplate],
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        concurrency: int = 8,
        recent: RecentContacts | None = None,
    ) -> None:
        self.api = api
        self.templates = dict(templates)
        self.uow_factory = uow_factory
        self.clock = clock
        self.catalogue = catalogue
        self.attachments = attachments
        self.parallel = asyncio.Semaphore(max(concurrency, 1))  # chats sent to at the same time
        self._uploading = asyncio.Lock()
        self._resume = Resume()  # parcel -> (rendering, parts sent, last wamid)
        self._media: dict[str, tuple[str, datetime]] = {}  # attachment path -> (media id, uploaded at)
        # When chats last wrote, for sends side by side (each chat's delivery is its own): one query for all, and
        # none for a chat this process saw write within the window (the channel shares its receiver's memory).
        self._windows: GroupCommit[list[str], dict[str, datetime]] = GroupCommit(self._last_contacts)
        self.recent = recent or RecentContacts()

    async def _last_contacts(self, chat_lists: list[list[str]]) -> list[dict[str, datetime]]:
        """Return when the chats of many sends last wrote, in one query."""
        async with self.uow_factory(autocommit=True) as uow:
            last = await uow.contacts.last_contacts(CHANNEL, {chat for chats in chat_lists for chat in chats})
        return [{chat: last[chat] for chat in chats if chat in last} for chats in chat_lists]

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send messages (each chat's in order, chats side by side) and say what happened to each."""
        state = _BatchState()
        chats = by_chat(messages)
        now = self.clock.now()
        last = {chat: at for chat in chats if (at := self.recent.get(chat)) is not None and _open(at, now)}
        unknown = [chat for chat in chats if chat not in last]
        if unknown:
            last.update(await self._windows.add(unknown))
        report = SendReport()
        sends = (
            self._send_chat(chat, batch, _open(last.get(chat), now), state, progress) for chat, batch in chats.items()
        )
        for part in await asyncio.gather(*sends):
            report.merge(part)
        return report

    async def _send_chat(
        self, chat_id: str, messages: list[Outbound], window: bool, state: _BatchState, progress: Progress | None
    ) -> SendReport:
        open_window = [window]

        async def attempt(parcel: _Parcel) -> Outcome:
            outcome, open_window[0] = await self._deliver(chat_id, parcel, open_window[0])
            if isinstance(outcome, Failure) and outcome.code == THROUGHPUT:
                state.throttled = outcome
            return outcome

        async with self.parallel:
            items = [(parcel.ids, parcel) for parcel in self._parcels(messages, window)]
            return await send_in_order(items, attempt, progress, halted=lambda: state.throttled)

    def _parcels(self, messages: list[Outbound], window: bool) -> list[_Parcel]:
        """Render texts; inside the window, merge a plain text into the next message when it fits."""
        parcels: list[_Parcel] = []
        for message in messages:
            text = self.catalogue.render(message.text_key, message.language, message.params)
            previous = parcels[-1] if parcels else None
            if window and previous is not None and _plain(previous.message):
                limit = BODY_MAX if message.choices or message.ask_location else TEXT_MAX
                merged = f"{previous.text}\n\n{text}"
                # A parcel's ids ride in its callback data, which Meta caps (whatsapp/callback.py).
                if len(merged) <= limit and not message.files and len(previous.ids) < IDS_MAX:
                    parcels[-1] = _Parcel([*previous.ids, message.id], message, merged)
                    continue
            parcels.append(_Parcel([message.id], message, text))
        return parcels

    async def _deliver(self, chat_id: str, parcel: _Parcel, window: bool) -> tuple[Sent | Failure, bool]:
        """Send one parcel; return (wamid or (verdict, error, wait), whether the window is still open)."""
        use_template = not window
        while True:
            if use_template:
                spec = self.templates.get(parcel.message.notice or "")
                if spec is None:
                    kind = parcel.message.notice or "-"
                    return Failure(Verdict.FAILED, f"outside the 24-hour window; no template for kind {kind}"), False
                parts = [Part(render_template(spec, parcel.message, parcel.text))]
                rendering = f"template:{spec.name}"
            else:
                labels = [
                    (c.id, self.catalogue.render(c.text_key, parcel.message.language, c.params))
                    for c in parcel.message.choices
                ]
                parts = render_parts(
                    parcel.text,
                    labels,
                    parcel.message.files,
                    self.catalogue,
                    parcel.message.language,
                    ask_location=parcel.message.ask_location,
                )
                rendering = f"free:{len(parts)}"
            try:
                wamid = await self._send_parts(chat_id, parcel.ids, parts, rendering)
                return Sent(wamid), not use_template
            except GraphError as exc:
                verdict, wait = classify(exc)
                if verdict is Verdict.WINDOW and not use_template:
                    log.info("WhatsApp window closed for a chat: sending the template instead")
                    async with self.uow_factory() as uow:
                        await uow.contacts.forget_contact(CHANNEL, chat_id)
                        await uow.commit()
                    self.recent.forget(chat_id)
                    use_template = True
                    continue
                if verdict is Verdict.WINDOW:
                    verdict = Verdict.FAILED
                return Failure(verdict, exc.describe(), wait, exc.code), not use_template

    async def _send_parts(self, chat_id: str, ids: list[str], parts: list[Part], rendering: str) -> str:
        """Send the parts in order, resuming after those a previous attempt already delivered.

        Each part carries callback data naming the parcel's outbox ids and the part: Meta echoes it in the part's
        status webhooks, which mark the messages sent should this process die before it records the send.
        """
        tag = "|".join(ids)

        async def call(index: int, part: Part) -> str | None:
            body = dict(part.body)
            if part.file is not None:
                kind = body["type"]
                media_id = await self._media_id(part.file)
                if media_id is not None:
                    body[kind] = {**body[kind], "id": media_id}
                elif body[kind].get("caption"):  # the file is gone from the store: keep at least its text
                    body = {"type": "text", "text": {"body": body[kind]["caption"], "preview_url": False}}
                else:
                    return None
            problems = limit_problems(body)
            if problems:  # never leave it to Meta to reject: this is a bug in the rendering
                self._resume.forget(tag)
                raise GraphError(None, 400, "over a WhatsApp limit: " + "; ".join(problems))
            recipient = {"recipient": chat_id} if BSUID.match(chat_id) else {"to": chat_id}
            echo = callback_data(ids, index + 1, len(parts))
            return await self.api.send(
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    **recipient,
                    **body,
                    "biz_opaque_callback_data": echo,
                }
            )

        calls = [functools.partial(call, index, part) for index, part in enumerate(parts)]
        return await self._resume.run(tag, calls, rendering)

    async def _media_id(self, item: OutboundFile) -> str | None:
        """Upload a stored file (once per 25 days) and return its media id; None if the file is missing."""
        async with self._uploading:  # chats sent to side by side often share a photo: upload it once
            return await self._upload(item)

    async def _upload(self, item: OutboundFile) -> str | None:
        cached = self._media.get(item.path)
        now = self.clock.now()
        if cached is not None and now - cached[1] < MEDIA_ID_TTL:
            return cached[0]
        try:
            path = self.attachments.path_of(item.path)
            data = await asyncio.to_thread(path.read_bytes)
        except (OSError, ValueError):
            log.warning("attachment to send is missing from the store")
            return None
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if item.kind is Attachment.PHOTO and (mime not in IMAGE_MIMES or len(data) > IMAGE_MAX):
            raise GraphError(None, 400, f"photo {mime} of {len(data)} bytes cannot be sent as a WhatsApp image")
        if len(data) > DOCUMENT_MAX:
            raise GraphError(None, 400, f"file of {len(data)} bytes is over the WhatsApp limit")
        media_id = await self.api.upload(data, mime, item.filename or path.name)
        remember(self._media, item.path, (media_id, now))
        return media_id


def _plain(message: Outbound) -> bool:
    return not (message.choices or message.files or message.ask_location)


def _open(last_inbound: datetime | None, now: datetime) -> bool:
    return last_inbound is not None and now < last_inbound + WINDOW - WINDOW_MARGIN
