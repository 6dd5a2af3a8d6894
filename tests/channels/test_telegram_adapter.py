"""The Telegram adapter against the fake Bot API: updates -> Inbound, Outbound -> Bot API calls, errors, pacing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fakes.telegram_server import Chat, FakeBotApi, User
from pydantic import SecretStr

from suarawarga.bootstrap import App
from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.channels.telegram import (
    Limits,
    Pacer,
    TelegramChannel,
    split_text,
    telegram_channel,
    utf16_length,
)
from suarawarga.bot.channels.telegram import channel as telegram_module
from suarawarga.bot.inbox import InboxProcessor
from suarawarga.bot.messages import (
    Attachment,
    ChannelName,
    Choice,
    ConversationKey,
    Inbound,
    MediaKind,
    NoticeKind,
    Outbound,
    OutboundFile,
    parse_command,
)
from suarawarga.bot.texts import Catalogue
from suarawarga.errors import ChannelError
from tests.support.clock import FrozenClock
from tests.support.images import jpeg_with_gps

CITIZEN = User(5001, "Budi", last_name="Santoso", language_code="en")
OTHER = User(5002, "Rina", language_code="id")
OFFICER = User(6001, "Andi")
GROUP = Chat.group(-100777, "DPUPR Pengaduan")
FAST = Limits(per_second=1000, private_burst=1000, private_per_second=1000, group_per_minute=1000)
JPEG = jpeg_with_gps()


class Api(FakeBotApi):
    """The fake Bot API, and which Bot API client the channels of a test use with it."""

    client = "httpx"


@pytest.fixture(params=["httpx", "tuned"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[FakeBotApi]:
    """Yield a running fake Bot API; every test runs on both clients (PTB's httpx, and the default, tuned)."""
    fake = Api()
    fake.client = request.param
    async with fake:
        yield fake


def connect(app: App, api: FakeBotApi, limits: Limits = FAST) -> TelegramChannel:
    """Return a Telegram channel of the app pointed at the fake, on the fake's client."""
    return TelegramChannel.connect(
        api.token,
        api.root_url,
        catalogue=app.catalogue,
        attachments=app.attachments,
        clock=app.clock,
        webhook_secret="test_secret-1",
        limits=limits,
        request=getattr(api, "client", "tuned"),
    )


@pytest.fixture
async def channel(app: App, api: FakeBotApi) -> AsyncIterator[TelegramChannel]:
    """Yield a started Telegram channel on the fake."""
    telegram = connect(app, api)
    await telegram.start()
    try:
        yield telegram
    finally:
        await telegram.stop()


def to(chat_id: int, text_key: str, *choices: Choice, **params: str) -> Outbound:
    """Return an outbound to a Telegram chat, with an outbox-like id."""
    return Outbound(
        key=ConversationKey(ChannelName.TELEGRAM, str(chat_id)),
        text_key=text_key,
        params=params,
        choices=choices,
        id=f"m-{chat_id}-{text_key}-{time.monotonic_ns()}",
    )


def messages(api: FakeBotApi, chat_id: int) -> list[dict[str, Any]]:
    """Return the messages (not edits) the bot sent to a chat."""
    return [r for r in api.sent(chat_id) if r["method"] in ("sendMessage", "sendPhoto", "sendDocument")]


def buttons(record: dict[str, Any]) -> list[str]:
    """Return the callback data of a sent message's inline keyboard."""
    rows = (record["reply_markup"] or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


# ------------------------------------------------------------------------------------------- parsing


async def test_text_commands_and_deep_links(channel: TelegramChannel, api: FakeBotApi, clock: FrozenClock) -> None:
    """Text, /commands (with @this_bot), deep-link payloads and the sender's details become Inbound fields."""
    text = await channel.parse(api.user_sends_text(CITIZEN, None, "Jalan <rusak> & berlubang"))
    assert text == Inbound(
        key=ConversationKey(ChannelName.TELEGRAM, str(CITIZEN.id)),
        external_id=str(api.pending_updates()[-1]["update_id"]),
        received_at=clock.now(),
        sender_id=str(CITIZEN.id),
        text="Jalan <rusak> & berlubang",
        language="en",
        sender_name="Budi Santoso",
    )
    start = await channel.parse(api.user_sends_command(CITIZEN, None, "start", "ikm_DPUPR"))
    assert start is not None
    assert (start.command, start.text) == ("start", "ikm_DPUPR")
    mention = await channel.parse(api.user_sends_command(OFFICER, GROUP, "Hubungkan", "AB12CD", mention_bot=True))
    assert mention is not None
    assert (mention.command, mention.text, mention.group, mention.sender_id) == (
        "hubungkan",
        "AB12CD",
        True,
        str(OFFICER.id),
    )
    assert mention.key.chat_id == str(GROUP.id)
    assert await channel.parse(api.user_sends_text(OFFICER, GROUP, "/antrian@another_bot")) is None
    bare = await channel.parse(api.user_sends_command(CITIZEN, None, "batal"))
    assert bare is not None
    assert (bare.command, bare.text) == ("batal", None)


def test_parse_command_rules() -> None:
    """Commands are lower-cased, keep their arguments, and ignore commands addressed to other bots."""
    assert parse_command("/START  ikm_DPUPR ", "sw_bot") == ("start", "ikm_DPUPR")
    assert parse_command("/gabung@SW_bot AB12", "sw_bot") == ("gabung", "AB12")
    assert parse_command("/gabung@other_bot AB12", "sw_bot") is None
    assert parse_command("/status\nPDG-123456", None) == ("status", "PDG-123456")
    assert parse_command("/ not a command", "sw_bot") is None


async def test_files_are_references_fetched_only_on_demand(channel: TelegramChannel, api: FakeBotApi, app: App) -> None:
    """Parsing downloads nothing (the largest photo size is referenced; captions are text); fetch downloads."""
    before = len(api.calls)
    photo = await channel.parse(api.user_sends_photo(CITIZEN, None, JPEG, caption="lubang besar"))
    assert photo is not None
    assert photo.text == "lubang besar"
    (media,) = photo.media
    assert (media.kind, media.mime, media.size) == (MediaKind.PHOTO, "image/jpeg", len(JPEG))

    document = await channel.parse(api.user_sends_document(CITIZEN, None, b"%PDF-1.4 data", file_name="surat.pdf"))
    assert document is not None
    assert (document.media[0].kind, document.media[0].mime) == (MediaKind.DOCUMENT, "application/pdf")
    assert document.media[0].name == "surat.pdf"

    voice = await channel.parse(api.user_sends_voice(CITIZEN, None, b"OggS voice"))
    assert voice is not None
    assert (voice.media[0].kind, voice.media[0].mime) == (MediaKind.VOICE, "audio/ogg")
    assert [method for method, _ in api.calls[before:]] == []  # not even getFile
    assert list(app.attachments.files()) == []

    assert await channel.fetch(media, 1024 * 1024) == JPEG
    assert await channel.fetch(document.media[0], 1024 * 1024) == b"%PDF-1.4 data"
    assert [method for method, _ in api.calls[before:]] == ["getFile", "getFile"]
    with pytest.raises(MediaRefused) as refused:
        await channel.fetch(media, 100)
    assert refused.value.text_key == "media.too_large"
    with pytest.raises(MediaRefused) as gone:
        await channel.fetch(dataclasses.replace(media, source="no-such-file"), 1024 * 1024)
    assert gone.value.text_key == "media.unavailable"


async def test_location_contact_sticker_and_service_messages(channel: TelegramChannel, api: FakeBotApi) -> None:
    """A location and a contact are parsed; a sticker is 'unsupported'; service messages and edits are ignored."""
    located = await channel.parse(api.user_shares_location(CITIZEN, None, -0.9471, 100.4172))
    assert located is not None
    assert located.location == (-0.9471, 100.4172)
    contact = await channel.parse(api.user_shares_contact(CITIZEN, None, "+6281234567890"))
    assert contact is not None
    assert contact.contact == "+6281234567890"

    base = api.user_sends_text(CITIZEN, None, "x")
    message = {k: v for k, v in base["message"].items() if k != "text"}
    sticker = {"file_id": "S1", "file_unique_id": "US1", "type": "regular", "width": 512, "height": 512}
    sticker |= {"is_animated": False, "is_video": False}
    parsed = await channel.parse({"update_id": 1, "message": {**message, "sticker": sticker}})
    assert parsed is not None
    assert parsed.unsupported == "sticker"
    assert parsed.is_empty
    joined = {**message, "new_chat_members": [OFFICER.to_json()]}
    assert await channel.parse({"update_id": 2, "message": joined}) is None
    assert await channel.parse({"update_id": 3, "edited_message": base["message"]}) is None


async def test_fields_of_the_wrong_type_make_an_update_malformed(channel: TelegramChannel, api: FakeBotApi) -> None:
    """A field the bot reads must have its Bot API type: text as a coordinate or a size, or no chat type, is ignored."""
    base = api.user_sends_text(CITIZEN, None, "x")
    message = {k: v for k, v in base["message"].items() if k != "text"}
    located = {**message, "location": {"latitude": "-0.9", "longitude": 100.4}}
    assert await channel.parse({"update_id": 1, "message": located}) is None
    truthy = {**message, "location": {"latitude": True, "longitude": 100.4}}
    assert await channel.parse({"update_id": 2, "message": truthy}) is None
    photo = {"file_id": "P1", "file_unique_id": "UP1", "width": 9, "height": 9, "file_size": "5"}
    assert await channel.parse({"update_id": 3, "message": {**message, "photo": [photo]}}) is None
    untyped = {**base["message"], "chat": {**base["message"]["chat"], "type": {}}}
    assert await channel.parse({"update_id": 4, "message": untyped}) is None
    named = {**base["message"], "from": {**base["message"]["from"], "last_name": {"x": 1}}}
    assert await channel.parse({"update_id": 5, "message": named}) is None
    nameless = {**base["message"], "from": {**base["message"]["from"], "first_name": "", "last_name": "Putri"}}
    parsed = await channel.parse({"update_id": 6, "message": nameless})
    assert parsed is not None
    assert (parsed.text, parsed.sender_name) == ("x", None)  # as python-telegram-bot's full_name: no first name


async def test_button_press_is_answered_and_question_keyboard_removed(
    channel: TelegramChannel, api: FakeBotApi
) -> None:
    """A pressed answer button is answered at once and its keyboard removed; command buttons stay usable."""
    api.private_chat(CITIZEN)
    report = await channel.sender.send(
        [to(CITIZEN.id, "complaint.identity.ask", Choice("id:rahasia", "complaint.identity.rahasia"))]
    )
    assert report.sent
    question = messages(api, CITIZEN.id)[-1]
    query = api.user_presses_button(CITIZEN, None, question["message_id"], "id:rahasia")
    update = api.pending_updates()[-1]
    inbound = await channel.parse(update)
    assert inbound is not None
    assert (inbound.choice, inbound.group, inbound.sender_id) == ("id:rahasia", False, str(CITIZEN.id))
    assert api.callback_answer(query) is not None
    current = api.message(CITIZEN.id, question["message_id"])
    assert current is not None
    assert "reply_markup" not in current

    api.add_chat(GROUP)
    action = Choice("cmd:st acc PDG-ABCDEF", "staff.button.acc")
    await channel.sender.send([to(GROUP.id, "staff.accepted", action, code="PDG-ABCDEF", officer="Andi")])
    posted = messages(api, GROUP.id)[-1]
    query = api.user_presses_button(OFFICER, GROUP, posted["message_id"], "cmd:st acc PDG-ABCDEF")
    pressed = await channel.parse(api.pending_updates()[-1])
    assert pressed is not None
    assert (pressed.choice, pressed.group, pressed.sender_id) == ("cmd:st acc PDG-ABCDEF", True, str(OFFICER.id))
    assert api.callback_answer(query) is not None
    kept = api.message(GROUP.id, posted["message_id"])
    assert kept is not None
    assert buttons({"reply_markup": kept["reply_markup"]}) == ["cmd:st acc PDG-ABCDEF"]
    assert await channel.parse(update) is not None  # parsed again (a retry): the late answer is harmless


async def test_a_press_on_an_old_message_or_from_a_malformed_sender(channel: TelegramChannel, api: FakeBotApi) -> None:
    """An inaccessible message (date 0) is answered, its keyboard untouched; a malformed sender is not answered."""
    api.private_chat(CITIZEN)
    await channel.sender.send(
        [to(CITIZEN.id, "complaint.identity.ask", Choice("id:rahasia", "complaint.identity.rahasia"))]
    )
    question = messages(api, CITIZEN.id)[-1]
    query = api.user_presses_button(CITIZEN, None, question["message_id"], "id:rahasia")
    update = api.pending_updates()[-1]
    old = {"chat": update["callback_query"]["message"]["chat"], "message_id": question["message_id"], "date": 0}
    inbound = await channel.parse({**update, "callback_query": {**update["callback_query"], "message": old}})
    assert inbound is not None
    assert inbound.choice == "id:rahasia"
    assert api.callback_answer(query) is not None
    assert "reply_markup" in (api.message(CITIZEN.id, question["message_id"]) or {})  # kept: Telegram refuses edits

    query = api.user_presses_button(CITIZEN, None, question["message_id"], "id:rahasia")
    update = api.pending_updates()[-1]
    nameless = {k: v for k, v in update["callback_query"]["from"].items() if k != "first_name"}
    assert await channel.parse({**update, "callback_query": {**update["callback_query"], "from": nameless}}) is None
    assert api.callback_answer(query) is None  # not answered, and the question keeps its buttons
    assert "reply_markup" in (api.message(CITIZEN.id, question["message_id"]) or {})


# ------------------------------------------------------------------------------------------- sending


async def test_a_text_that_is_not_valid_telegram_html_goes_out_as_plain_text(
    channel: TelegramChannel, api: FakeBotApi
) -> None:
    """A template (a city's own texts) with a stray tag, refused as HTML, is sent as plain text with its keyboard."""
    api.private_chat(CITIZEN)
    sender = channel.telegram_sender
    sender.catalogue = Catalogue({"broken": {"id": "Nilai <5 berarti buruk, {name}"}, "label": {"id": "Ya"}})
    report = await channel.sender.send([to(CITIZEN.id, "broken", Choice("ok", "label"), name="<b>Siti</b>")])
    assert report.sent
    sent = messages(api, CITIZEN.id)[-1]
    assert sent["text"] == "Nilai <5 berarti buruk, <b>Siti</b>"
    assert buttons(sent) == ["ok"]


async def test_html_is_escaped_and_long_texts_are_split(channel: TelegramChannel, api: FakeBotApi) -> None:
    """Parameters are HTML-escaped (shown verbatim); a text over 4096 characters is split, keyboard on the last."""
    api.private_chat(CITIZEN)
    hostile = "<b>Jl. A & B</b> <script>"
    report = await channel.sender.send([to(CITIZEN.id, "label", label=hostile)])
    assert report.failed == {}
    assert messages(api, CITIZEN.id)[-1]["text"] == hostile
    assert messages(api, CITIZEN.id)[-1]["params"]["parse_mode"] == "HTML"

    long = ("Kalimat panjang tentang jalan rusak & <banjir>. " * 120).strip()
    assert len(long) > 4096
    report = await channel.sender.send(
        [to(CITIZEN.id, "label", Choice("photos:done", "complaint.photos.done"), label=long)]
    )
    assert report.failed == {}
    first, second = messages(api, CITIZEN.id)[-2:]
    assert first["reply_markup"] is None
    assert buttons(second) == ["photos:done"]
    assert f"{first['text']} {second['text']}" == long


async def test_messages_go_out_without_link_previews(channel: TelegramChannel, api: FakeBotApi) -> None:
    """A link in citizen text is not previewed (Telegram would fetch it and show its page to the officers)."""
    api.private_chat(CITIZEN)
    report = await channel.sender.send([to(CITIZEN.id, "label", label="lihat https://example.com/foto")])
    assert report.failed == {}
    sent = [params for method, params in api.calls if method == "sendMessage"]
    assert sent
    options = [params.get("link_preview_options") for params in sent]
    assert [json.loads(o) if isinstance(o, str) else o for o in options] == [{"is_disabled": True}] * len(sent)


def test_split_text_counts_utf16_units() -> None:
    """Parts never exceed 4096 UTF-16 units, even with emoji, and prefer line breaks."""
    text = ("😀" * 1500 + "\n") * 3
    parts = split_text(text)
    assert all(utf16_length(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert len(parts) == 3
    assert split_text("pendek") == ["pendek"]


async def test_keyboards_location_request_and_callback_limit(channel: TelegramChannel, api: FakeBotApi) -> None:
    """Choices become inline buttons; a location question in a private chat gets a reply keyboard; >64 bytes fail."""
    api.private_chat(CITIZEN)
    api.add_chat(GROUP)
    ask = dataclasses.replace(
        to(CITIZEN.id, "complaint.location.ask", Choice("loc:skip", "complaint.location.skip")), ask_location=True
    )
    assert (await channel.sender.send([ask])).sent
    keyboard = api.reply_keyboard(CITIZEN.id)
    assert keyboard is not None
    assert keyboard["keyboard"][0][0]["request_location"] is True
    assert keyboard["keyboard"][1][0]["text"] == "Tanpa lokasi"  # the typed label maps back to the choice
    assert keyboard["one_time_keyboard"] is True
    assert (await channel.sender.send([to(CITIZEN.id, "complaint.name.ask")])).sent
    assert api.reply_keyboard(CITIZEN.id) is None  # the next plain message takes the keyboard away

    in_group = dataclasses.replace(ask, key=ConversationKey(ChannelName.TELEGRAM, str(GROUP.id)), id="g1")
    assert (await channel.sender.send([in_group])).sent == ["g1"]
    assert buttons(messages(api, GROUP.id)[-1]) == ["loc:skip"]

    too_long = to(CITIZEN.id, "menu.intro", Choice("x" * 65, "menu.help"))
    fine = to(CITIZEN.id, "menu.intro", Choice("é" * 32, "menu.help"))
    before = len(messages(api, CITIZEN.id))
    report = await channel.sender.send([too_long, fine])
    assert list(report.failed) == [too_long.id]
    assert "64" in report.failed[too_long.id]
    assert report.sent == [fine.id]
    assert len(messages(api, CITIZEN.id)) == before + 1


async def test_typed_answer_removes_the_previous_question_keyboard(channel: TelegramChannel, api: FakeBotApi) -> None:
    """When a question was answered by typing, the next reply removes its buttons; a notice leaves them."""
    api.private_chat(CITIZEN)
    await channel.sender.send(
        [to(CITIZEN.id, "complaint.contact.ask", Choice("contact:skip", "complaint.contact.skip"))]
    )
    question = messages(api, CITIZEN.id)[-1]["message_id"]
    notice = dataclasses.replace(
        to(CITIZEN.id, "update.accepted", code="PDG-ABCDEF", unit="DPUPR"), notice=NoticeKind.COMPLAINT_UPDATE
    )
    await channel.sender.send([notice])
    still = api.message(CITIZEN.id, question)
    assert still is not None
    assert "reply_markup" in still
    await channel.sender.send([to(CITIZEN.id, "complaint.name.ask")])
    gone = api.message(CITIZEN.id, question)
    assert gone is not None
    assert "reply_markup" not in gone


async def test_files_are_uploaded_once_then_sent_by_file_id(
    channel: TelegramChannel, api: FakeBotApi, app: App, clock: FrozenClock
) -> None:
    """A stored photo is uploaded with sendPhoto, then reused by file_id; a missing file fails the message."""
    api.private_chat(CITIZEN)
    api.private_chat(OTHER)
    stored = app.attachments.save(JPEG, "image/jpeg", MediaKind.PHOTO, clock.now())
    report_pdf = app.attachments.save(b"%PDF-1.7", "application/pdf", MediaKind.DOCUMENT, clock.now())
    files = (OutboundFile(Attachment.PHOTO, stored.path), OutboundFile(Attachment.DOCUMENT, report_pdf.path, "l.pdf"))
    first = dataclasses.replace(to(CITIZEN.id, "menu.intro"), files=files)
    second = dataclasses.replace(to(OTHER.id, "menu.intro"), files=files[:1])
    assert (await channel.sender.send([first])).sent == [first.id]
    assert (await channel.sender.send([second])).sent == [second.id]
    text, photo, document = messages(api, CITIZEN.id)[-3:]
    assert text["method"] == "sendMessage"
    uploaded = app.attachments.path_of(stored.path).read_bytes()
    assert (photo["method"], photo["files"][0]["source"]) == ("sendPhoto", "upload")
    assert photo["files"][0]["data"] == uploaded
    assert (document["method"], document["files"][0]["filename"]) == ("sendDocument", "l.pdf")
    reused = messages(api, OTHER.id)[-1]
    assert (reused["method"], reused["files"][0]["source"]) == ("sendPhoto", "file_id")

    missing = dataclasses.replace(to(CITIZEN.id, "menu.intro"), files=(OutboundFile(Attachment.PHOTO, "2026/x.jpg"),))
    report = await channel.sender.send([missing])
    assert list(report.failed) == [missing.id]


async def test_blocked_and_unknown_chats_are_unreachable(channel: TelegramChannel, api: FakeBotApi) -> None:
    """403 (blocked) and 'chat not found' mark messages unreachable without holding up other chats."""
    api.private_chat(CITIZEN)
    api.private_chat(OTHER)
    api.block_user(CITIZEN.id)
    blocked = [to(CITIZEN.id, "menu.intro"), to(CITIZEN.id, "menu.welcome")]
    fine = to(OTHER.id, "menu.intro")
    nowhere = to(987654, "menu.intro")
    report = await channel.sender.send([*blocked, fine, nowhere])
    assert report.sent == [fine.id]
    assert set(report.unreachable) == {blocked[0].id, blocked[1].id, nowhere.id}
    assert "blocked" in report.unreachable[blocked[0].id]
    assert api.sent(CITIZEN.id) == []


async def test_bad_requests_fail_and_network_errors_retry(channel: TelegramChannel, api: FakeBotApi) -> None:
    """Other 400s fail for good; a 5xx (network trouble) asks for a retry, and the chat's later messages wait."""
    api.private_chat(CITIZEN)
    api.fail_next("sendMessage", 1, error_code=400)
    first = to(CITIZEN.id, "menu.intro")
    assert list((await channel.sender.send([first])).failed) == [first.id]
    api.fail_next("sendMessage", 1, error_code=502)
    one, two = to(CITIZEN.id, "menu.intro"), to(CITIZEN.id, "menu.welcome")
    report = await channel.sender.send([one, two])
    assert set(report.retry) == {one.id}
    assert report.retry[one.id][1] is None  # the outbox's back-off decides
    assert set(report.deferred) == {two.id}  # not tried, so no attempt counted: it waits behind `one`
    report = await channel.sender.send([one, two])
    assert report.sent == [one.id, two.id]


async def test_short_429_is_waited_out_and_long_429_goes_back_to_the_outbox(
    channel: TelegramChannel, api: FakeBotApi, clock: FrozenClock
) -> None:
    """A 1 s 429 is slept through (sent once); a 30 s one defers the message and everything after it, in order."""
    api.private_chat(CITIZEN)
    api.private_chat(OTHER)
    api.fail_next("sendMessage", 1, retry_after=1)
    quick = to(CITIZEN.id, "menu.intro")
    started = time.monotonic()
    assert (await channel.sender.send([quick])).sent == [quick.id]
    assert time.monotonic() - started >= 0.9
    assert len(messages(api, CITIZEN.id)) == 1

    api.fail_next("sendMessage", 1, retry_after=30)
    first, second, other = to(CITIZEN.id, "menu.intro"), to(CITIZEN.id, "menu.welcome"), to(OTHER.id, "menu.intro")
    report = await channel.sender.send([first, second, other])
    assert report.sent == [other.id]
    assert report.retry[first.id][1] == timedelta(seconds=30)
    assert report.deferred[second.id] > timedelta(seconds=30)  # not tried; due just after `first`, in order
    later = to(CITIZEN.id, "help.text")
    report = await channel.sender.send([later])  # a new message to that chat waits behind the held ones
    assert list(report.deferred) == [later.id]
    assert len(messages(api, CITIZEN.id)) == 1

    clock.advance(timedelta(seconds=33))
    report = await channel.sender.send([first, second, later])
    assert report.sent == [first.id, second.id, later.id]
    texts = [m["text"] for m in messages(api, CITIZEN.id)]
    assert len(texts) == 4
    assert len(set(texts[1:])) == 3


async def test_pacing_keeps_under_the_limits_and_chats_independent(app: App) -> None:
    """With Telegram's limits enforced: no 429 for a burst to one chat, others are not held up, groups defer."""
    async with FakeBotApi(enforce_limits=True) as api:
        telegram = connect(app, api, Limits())
        await telegram.start()
        try:
            api.private_chat(CITIZEN)
            others = [api.private_chat(User(7000 + i, f"Warga {i}")) for i in range(3)]
            burst = [to(CITIZEN.id, "menu.intro") for _ in range(6)]
            single = [to(o.id, "menu.intro") for o in others]
            report = await telegram.sender.send([*burst, *single])
            assert report.sent == [m.id for m in [*burst, *single]]
            assert api.rate_limit_hits == 0
            assert [r["message_id"] for r in messages(api, CITIZEN.id)] == list(range(1, 7))
            chats = [str(call[1].get("chat_id")) for call in api.calls]  # a number in JSON, a string in a form
            first_others = min(i for i, c in enumerate(chats) if c in {str(o.id) for o in others})
            last_burst = max(i for i, c in enumerate(chats) if c == str(CITIZEN.id))
            assert first_others < last_burst  # the slow chat did not hold the others back

            api.add_chat(GROUP)
            batch = [to(GROUP.id, "menu.intro") for _ in range(22)]
            report = await telegram.sender.send(batch)
            assert report.sent == [m.id for m in batch[:20]]
            assert set(report.deferred) == {batch[20].id, batch[21].id}  # our pacing: no attempt counted
            assert all(w >= timedelta(seconds=50) for w in report.deferred.values())
            assert api.rate_limit_hits == 0
        finally:
            await telegram.stop()


def test_pacer_rates() -> None:
    """The pacer allows a private burst then one a second, twenty a minute per group, and honours 429 blocks."""
    now = [1000.0]
    pacer = Pacer(Limits(private_burst=2), lambda: now[0])
    for _ in range(2):
        assert pacer.chat_wait(5) == 0
        pacer.take(5)
    assert pacer.chat_wait(5) == pytest.approx(1.0)
    now[0] += 1.0
    assert pacer.chat_wait(5) == 0
    for _ in range(20):
        pacer.take(-9)
    assert pacer.chat_wait(-9) == pytest.approx(61.0)
    pacer.block(6, 7)
    assert pacer.chat_wait(6) == pytest.approx(7.0)


def test_pacer_spaces_calls_evenly() -> None:
    """Calls go 1/per_second apart; a late wake-up keeps the schedule; after an idle spell the spacing starts anew."""
    now = [1000.0]
    pacer = Pacer(Limits(per_second=20), lambda: now[0])
    assert pacer.overall_wait() == 0
    pacer.take(None)
    assert pacer.overall_wait() == pytest.approx(0.05)
    now[0] += 0.06  # woke 10 ms late: the next call is still due 0.10 s after the first
    pacer.take(7)
    assert pacer.overall_wait() == pytest.approx(0.04)
    now[0] += 5.0  # idle: the spacing starts again from this call
    pacer.take(None)
    assert pacer.overall_wait() == pytest.approx(0.05)
    now[0] += 0.2
    assert pacer.overall_wait() == 0


async def test_a_batch_goes_out_at_the_overall_rate_without_429(app: App) -> None:
    """Sixty chats at once with the default limits: evenly paced near 28 calls/s, no 429 from the enforcing fake."""
    async with FakeBotApi(enforce_limits=True) as api:
        telegram = connect(app, api, Limits())
        await telegram.start()
        try:
            batch = [to(api.private_chat(User(8000 + i, f"Warga {i}")).id, "menu.intro") for i in range(60)]
            started = time.monotonic()
            report = await telegram.sender.send(batch)
            elapsed = time.monotonic() - started
        finally:
            await telegram.stop()
    assert sorted(report.sent) == sorted(m.id for m in batch)
    assert api.rate_limit_hits == 0
    assert 59 / 28 * 0.95 <= elapsed <= 59 / 28 + 1.0  # spaced at the rate, not much slower


async def test_channel_from_settings(app: App, api: FakeBotApi) -> None:
    """No token, no channel; with one, it talks to the configured Bot API root; /telegram only with a secret."""
    assert telegram_channel(app) is None
    inbox = InboxProcessor(app.uow, app.dispatcher(), {}, app.clock)
    app.settings = app.settings.model_copy(
        update={"telegram_token": SecretStr(api.token), "telegram_api_url": api.root_url + "/"}
    )
    configured = telegram_channel(app)
    assert configured is not None
    assert configured.routes(inbox) == []
    await configured.start()
    try:
        assert configured.username == api.bot_user.username
    finally:
        await configured.stop()
    app.settings = app.settings.model_copy(update={"telegram_webhook_secret": SecretStr("abc_DEF-123")})
    with_secret = telegram_channel(app)
    assert with_secret is not None
    assert [getattr(r, "path", None) for r in with_secret.routes(inbox)] == ["/telegram"]


async def test_a_rejected_token_never_shows_in_the_error(app: App, api: FakeBotApi) -> None:
    """A wrong token stops start() with a ChannelError that does not repeat the token."""
    wrong = "999999:" + "x" * 35
    telegram = TelegramChannel.connect(
        wrong, api.root_url, catalogue=app.catalogue, attachments=app.attachments, clock=app.clock
    )
    with pytest.raises(ChannelError) as caught:
        await telegram.start()
    assert wrong not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    await telegram.stop()


async def test_poll_confirms_an_update_only_after_it_is_stored(
    channel: TelegramChannel, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If storing an update fails, the offset stays put and the same update is fetched and stored again."""
    monkeypatch.setattr(telegram_module, "STORE_RETRY", 0.01)
    stored: list[str] = []
    attempts: list[str] = []

    async def accept(channel_name: ChannelName, external_id: str, payload: dict[str, Any]) -> bool:
        """Fail the first time, as a database that is briefly down would."""
        attempts.append(external_id)
        if len(attempts) == 1:
            raise RuntimeError("database down")
        assert channel_name is ChannelName.TELEGRAM
        assert payload["update_id"] == int(external_id)
        stored.append(external_id)
        return True

    first = api.user_sends_text(CITIZEN, None, "satu")
    second = api.user_sends_text(CITIZEN, None, "dua")
    poller = asyncio.create_task(channel.poll(accept, wait=1))
    try:
        await api.wait_for(lambda: len(stored) == 2)
        await api.wait_updates_consumed()
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    assert attempts == [str(first["update_id"]), str(first["update_id"]), str(second["update_id"])]
    assert stored == [str(first["update_id"]), str(second["update_id"])]
    assert "could not store Telegram update" in caplog.text


async def test_webhook_registration_and_bad_secrets(app: App, api: FakeBotApi) -> None:
    """setWebhook sends the URL, the secret and the update types; a secret Telegram would refuse is refused here."""
    telegram = connect(app, api)
    await telegram.start()
    try:
        await telegram.set_webhook("https://lapor.example.go.id/telegram")
        assert api.webhook is not None
        assert (api.webhook.url, api.webhook.secret_token) == ("https://lapor.example.go.id/telegram", "test_secret-1")
        assert api.webhook.allowed_updates == ["message", "callback_query"]
        with pytest.raises(ChannelError, match="setWebhook failed"):
            await telegram.set_webhook("ftp://nowhere")
        await telegram.delete_webhook()
        assert api.webhook is None
        telegram.webhook_secret = "has spaces"
        assert not telegram.secret_is_valid()
        with pytest.raises(ChannelError, match="1-256"):
            await telegram.set_webhook("https://lapor.example.go.id/telegram")
    finally:
        await telegram.stop()
