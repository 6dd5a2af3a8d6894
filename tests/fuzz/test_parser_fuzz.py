"""Property tests of both channel parsers and webhook routes with random and malformed platform payloads.

Telegram updates and WhatsApp deliveries are built from strategies of plausible shapes in which any value may
be replaced by garbage (wrong types, empty, huge, control characters), plus raw bytes that are not JSON at all.
A parser returns an Inbound or None, or raises only its platform's API error (TelegramError, GraphError: the
inbox tries those again). A webhook route always answers with a status (200, 400, 401, 403 or 413), never a
500, and whatever it stored the inbox can take.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fakes.telegram_server import User
from fakes.whatsapp_server import PHONE_NUMBER_ID, WaUser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.error import TelegramError

from suarawarga.bootstrap import App
from suarawarga.bot.channels.whatsapp import GraphError
from suarawarga.bot.messages import ChannelName, Inbound
from tests.channels.test_telegram_e2e import SECRET, World, product
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

JSON = dict[str, Any]
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROUTE_STATUSES = {200, 400, 401, 403, 413}
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
GARBAGE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "a" * 300, "9" * 200, "💥" * 70]),
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return values of `strategy`, or now and then garbage in their place."""
    return st.one_of(strategy, strategy, GARBAGE)


def merged(*parts: st.SearchStrategy[JSON]) -> st.SearchStrategy[JSON]:
    """Return dictionaries merged from several dictionary strategies."""
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


# ------------------------------------------------------------------------------------------- Telegram

TG_TEXTS = st.one_of(
    st.sampled_from(
        ["/start", "/start ikm_DPUPR", "/gabung@suarawarga_test_bot ABC", "/antrian@other_bot", "/", "menu", "batal"]
    ),
    ODD_TEXT,
)
TG_USER = st.fixed_dictionaries(
    {"id": maybe(st.integers(1, 2**40) | st.integers()), "is_bot": maybe(st.booleans()), "first_name": maybe(ODD_TEXT)},
    optional={"last_name": maybe(ODD_TEXT), "language_code": maybe(st.sampled_from(["id", "en", "xx"]))},
)
TG_CHAT = st.fixed_dictionaries(
    {
        "id": maybe(st.integers(-(10**13), 10**12) | st.integers() | ODD_TEXT),
        "type": maybe(st.sampled_from(["private", "group", "supergroup", "channel"])),
    },
    optional={"title": maybe(ODD_TEXT), "first_name": maybe(ODD_TEXT)},
)
TG_FILE = st.fixed_dictionaries(
    {"file_id": maybe(ODD_TEXT), "file_unique_id": maybe(ODD_TEXT)},
    optional={
        "file_size": maybe(st.integers(0, 10**9)),
        "width": maybe(st.integers(0, 9000)),
        "height": maybe(st.integers(0, 9000)),
        "mime_type": maybe(st.sampled_from(["image/jpeg", "application/pdf", "audio/ogg", ""])),
        "file_name": maybe(ODD_TEXT),
        "duration": maybe(st.integers(0, 600)),
        "length": maybe(st.integers(0, 600)),
    },
)
TG_CONTENT = st.one_of(
    st.fixed_dictionaries({"text": maybe(TG_TEXTS)}),
    st.fixed_dictionaries(
        {"photo": maybe(st.lists(maybe(TG_FILE), max_size=3))}, optional={"caption": maybe(ODD_TEXT)}
    ),
    st.sampled_from(
        ["document", "voice", "audio", "video", "video_note", "sticker", "animation", "poll", "dice"]
    ).flatmap(lambda kind: st.fixed_dictionaries({kind: maybe(TG_FILE)}, optional={"caption": maybe(ODD_TEXT)})),
    st.fixed_dictionaries(
        {"location": maybe(st.fixed_dictionaries({"latitude": maybe(st.floats(-90, 90)), "longitude": maybe(SCALARS)}))}
    ),
    st.fixed_dictionaries(
        {"contact": maybe(st.fixed_dictionaries({"phone_number": maybe(ODD_TEXT), "first_name": maybe(ODD_TEXT)}))}
    ),
    st.dictionaries(
        st.sampled_from(["new_chat_members", "left_chat_member", "new_chat_title", "pinned_message"]), GARBAGE
    ),
)
TG_MESSAGE = merged(
    st.fixed_dictionaries(
        {"message_id": maybe(st.integers(1, 10**6)), "date": maybe(st.integers(0, 2**31)), "chat": maybe(TG_CHAT)},
        optional={"from": maybe(TG_USER), "sender_chat": maybe(TG_CHAT)},
    ),
    TG_CONTENT,
)
TG_CALLBACK = st.fixed_dictionaries(
    {"id": maybe(ODD_TEXT), "from": maybe(TG_USER), "chat_instance": maybe(ODD_TEXT)},
    optional={
        "message": maybe(TG_MESSAGE),
        "data": maybe(st.sampled_from(["cmd:pengaduan", "consent:yes", "cmd:st acc PDG-ABCDEF"]) | ODD_TEXT),
    },
)
TG_UPDATES: st.SearchStrategy[JSON] = st.one_of(
    merged(
        st.fixed_dictionaries({"update_id": maybe(st.integers(0, 2**31))}),
        st.one_of(
            st.fixed_dictionaries({"message": maybe(TG_MESSAGE)}),
            st.fixed_dictionaries({"callback_query": maybe(TG_CALLBACK)}),
            st.dictionaries(st.sampled_from(["edited_message", "channel_post", "my_chat_member", "poll"]), GARBAGE),
        ),
    ),
    st.dictionaries(st.text(max_size=12), GARBAGE, max_size=4),
)
TG_POISON = [
    b'{"update_id": Infinity}',
    b'{"update_id": -Infinity}',
    b'{"update_id": NaN}',
    b'{"update_id": 1e400}',
    b'{"update_id": ' + b"9" * 200 + b"}",
    b'{"update_id": ' + b"9" * 5000 + b"}",
    b'{"update_id": -5}',
    b'{"update_id": "12", "message": {"text": NaN}}',
    b'{"update_id": 13, "message": {"text": 1e999}}',
    b'{"update_id": 14, "message": {"text": "\\u0000\\ud800"}}',
    b'{"update_id": 18, "message": {"message_id": 1, "date": 1, "chat": {"id": ' + b"9" * 70 + b', "type": "private"}, '
    b'"from": {"id": 1, "is_bot": false, "first_name": "x"}, "text": "hi"}}',
    b'{"update_id": 19, "message": {"message_id": 1, "date": 1, "chat": {"id": "\\ud800", "type": "private"}, '
    b'"from": {"id": 1, "is_bot": false, "first_name": "x"}, "text": "hi"}}',
    b'{"update_id": 20, "message": {"message_id": 1, "date": 1, "chat": {"id": "1\\u0000", "type": "private"}, '
    b'"from": {"id": 1, "is_bot": false, "first_name": "x"}, "text": "hi"}}',
    b'{"update_id": 15',
    b'{"update_id": 16, "x": ' + b"[" * 930 + b"]" * 930 + b"}",  # parses, then fails to be stored
    b'{"update_id": 17, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b"[]",
    b"null",
    b'"update_id"',
    b"\xff\xfe\x00",
]
TG_BODIES = st.one_of(
    TG_UPDATES.map(lambda update: json.dumps(update).encode()),
    GARBAGE.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=60),
    st.sampled_from(TG_POISON),
)


@pytest.fixture
async def world(app: App) -> AsyncIterator[World]:
    """Run the product with its Telegram webhook against the fake Bot API."""
    async with product(app, "webhook") as running:
        yield running


def well_formed(inbound: Inbound, channel: ChannelName) -> None:
    """Assert an Inbound holds what the engine expects: strings where strings go."""
    assert inbound.key.channel is channel
    assert isinstance(inbound.key.chat_id, str) and inbound.key.chat_id
    assert isinstance(inbound.external_id, str) and isinstance(inbound.sender_id, str)
    for value in (inbound.text, inbound.command, inbound.choice, inbound.contact, inbound.sender_name):
        assert value is None or isinstance(value, str), inbound
        assert value is None or not CONTROLS.search(value.replace("\n", "").replace("\t", "")), inbound
    for value, limit in ((inbound.key.chat_id, 64), (inbound.sender_id, 64), (inbound.external_id, 128)):
        assert 0 < len(value) <= limit and value.isprintable() and value.isascii(), inbound
    if channel is ChannelName.TELEGRAM:
        assert abs(int(inbound.key.chat_id)) < 2**52 and abs(int(inbound.sender_id)) < 2**52, inbound


@FUZZ
@given(update=TG_UPDATES)
async def test_the_telegram_parser_returns_an_inbound_or_none_or_a_bot_api_error(world: World, update: JSON) -> None:
    """Any stored update parses to a well-formed Inbound or None, or raises TelegramError (the inbox retries)."""
    try:
        parsed = await world.channel.parse(update)
    except TelegramError:
        return
    if parsed is not None:
        well_formed(parsed, ChannelName.TELEGRAM)


@FUZZ
@given(body=TG_BODIES, signed=st.booleans())
async def test_the_telegram_webhook_answers_any_body_with_a_status(world: World, body: bytes, signed: bool) -> None:
    """Whatever is posted to /telegram, with or without the secret, the answer is 200, 400 or 403: never a crash."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET} if signed else {}
    async with httpx.AsyncClient() as http:
        response = await http.post(world.webhook_url, content=body, headers=headers)
    assert response.status_code in (ROUTE_STATUSES if signed else {403}), (response.status_code, response.text)


async def test_poisoned_telegram_deliveries_leave_the_bot_working(world: World) -> None:
    """After every poison body, the stored updates drain without error and a citizen's /start is still answered."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as http:
        statuses = [(await http.post(world.webhook_url, content=b, headers=headers)).status_code for b in TG_POISON]
    assert set(statuses) <= {200, 400}
    for _ in range(6):  # every stored row is done, or failed for good after the inbox's attempts
        await world.run.inbox.drain()
    citizen = User(5099, "Warga", language_code="id")
    world.api.user_sends_command(citizen, None, "start")
    await world.screen(citizen.id).expect(world.text("menu.welcome"))


# ------------------------------------------------------------------------------------------- WhatsApp

WA_IDS = maybe(st.sampled_from(["6281234567890", "US.13491208655302741918", ""]) | ODD_TEXT)
WA_KINDS = maybe(
    st.sampled_from(
        [
            *("text", "interactive", "button", "location", "image", "document", "audio", "video", "sticker"),
            *("reaction", "system", "unknown", "order", "contacts"),
        ]
    )
)
WA_CONTENT = st.fixed_dictionaries(
    {},
    optional={
        "body": maybe(TG_TEXTS),
        "type": maybe(st.sampled_from(["button_reply", "list_reply", "nfm_reply"])),
        "button_reply": maybe(st.fixed_dictionaries({"id": maybe(ODD_TEXT), "title": maybe(ODD_TEXT)})),
        "list_reply": maybe(st.fixed_dictionaries({"id": maybe(ODD_TEXT), "title": maybe(ODD_TEXT)})),
        "payload": maybe(ODD_TEXT),
        "text": maybe(ODD_TEXT),
        "latitude": maybe(st.floats(-90, 90)),
        "longitude": maybe(SCALARS),
        "id": maybe(st.sampled_from(["404404", ""]) | ODD_TEXT),
        "mime_type": maybe(st.sampled_from(["image/jpeg", "application/pdf", "audio/ogg"])),
        "caption": maybe(ODD_TEXT),
    },
)
WA_MESSAGE = st.tuples(
    st.fixed_dictionaries(
        {"id": maybe(st.uuids().map(lambda u: f"wamid.{u.hex}") | ODD_TEXT)},
        optional={
            "from": WA_IDS,
            "from_user_id": WA_IDS,
            "timestamp": maybe(st.integers(-(2**40), 2**40).map(str) | st.integers() | ODD_TEXT),
            "context": GARBAGE,
        },
    ),
    WA_KINDS,
    maybe(WA_CONTENT),
).map(lambda parts: {**parts[0], "type": parts[1], str(parts[1]): parts[2]})
WA_CONTACT = st.fixed_dictionaries(
    {},
    optional={"wa_id": WA_IDS, "user_id": WA_IDS, "profile": maybe(st.fixed_dictionaries({"name": maybe(ODD_TEXT)}))},
)
WA_STATUS = st.fixed_dictionaries(
    {
        "id": maybe(ODD_TEXT),
        "status": maybe(st.sampled_from(["sent", "delivered", "read", "played", "failed", "deleted"])),
    },
    optional={
        "recipient_id": WA_IDS,
        "timestamp": GARBAGE,
        "errors": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"code": maybe(st.sampled_from([131026, 131047, 130429, 131000, 1, 190]))},
                    optional={
                        "title": maybe(ODD_TEXT),
                        "error_data": maybe(st.fixed_dictionaries({"details": ODD_TEXT})),
                    },
                ),
                max_size=2,
            )
        ),
    },
)
WA_VALUE = st.fixed_dictionaries(
    {},
    optional={
        "messaging_product": maybe(st.just("whatsapp")),
        "metadata": maybe(st.fixed_dictionaries({"phone_number_id": maybe(st.just(PHONE_NUMBER_ID) | ODD_TEXT)})),
        "contacts": maybe(st.lists(maybe(WA_CONTACT), max_size=2)),
        "messages": maybe(st.lists(maybe(WA_MESSAGE), max_size=2)),
        "statuses": maybe(st.lists(maybe(WA_STATUS), max_size=2)),
    },
)
WA_DELIVERIES = st.one_of(
    st.lists(maybe(WA_VALUE), max_size=2).map(
        lambda values: {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": v} for v in values]}],
        }
    ),
    st.dictionaries(st.sampled_from(["object", "entry", "changes"]), GARBAGE),
    GARBAGE,
)
WA_STORED = st.fixed_dictionaries(
    {"message": maybe(WA_MESSAGE)},
    optional={"contacts": maybe(st.lists(maybe(WA_CONTACT), max_size=2)), "metadata": GARBAGE},
)


def wa_delivery(value: JSON) -> bytes:
    """Return the bytes of a delivery of one change value."""
    entry = {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def wa_message(message_id: str, *, sender: str = "6281234567890", text: str = "halo") -> JSON:
    """Return a change value carrying one text message."""
    message = {"from": sender, "id": message_id, "timestamp": "1795400000", "type": "text", "text": {"body": text}}
    return {"contacts": [{"wa_id": sender, "profile": {"name": "X"}}], "messages": [message]}


WA_POISON = [
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": Infinity}]}]}',
    wa_delivery(wa_message("wamid.inf")).replace(b'"halo"', b"1e400"),
    wa_delivery(wa_message("wamid.nan")).replace(b'"halo"', b"NaN"),
    wa_delivery(wa_message("wamid." + "x" * 300)),
    wa_delivery(wa_message("wamid.nul\x00")),
    wa_delivery(wa_message("wamid.surrogate\ud800")),
    wa_delivery(wa_message("wamid.longsender", sender="6" * 100)),
    wa_delivery(wa_message("wamid.nulsender", sender="62812\x00")),
    wa_delivery({"statuses": [{"id": "wamid.nul\x00", "status": "failed", "errors": [{"code": 131026}]}]}),
    wa_delivery({"statuses": [{"id": "wamid." + "y" * 300, "status": "read"}]}),
    wa_delivery(wa_message("wamid.deep")).replace(b'"halo"', b"[" * 930 + b"]" * 930),
    b'{"entry": {}}',
    b"[]",
    b"\xff\xfe\x00",
]
WA_BODIES = st.one_of(
    WA_DELIVERIES.map(lambda delivery: json.dumps(delivery).encode()),
    st.binary(max_size=60),
    st.sampled_from(WA_POISON),
)


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """Run the product with its WhatsApp channel against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


@FUZZ
@given(payload=WA_STORED)
async def test_the_whatsapp_parser_returns_an_inbound_or_none_or_a_graph_error(rig: Rig, payload: JSON) -> None:
    """Any stored delivery parses to a well-formed Inbound or None, or raises GraphError (the inbox retries)."""
    try:
        parsed = await rig.channel.parse(payload)
    except GraphError:
        return
    if parsed is not None:
        well_formed(parsed, ChannelName.WHATSAPP)


@FUZZ
@given(body=WA_BODIES, signed=st.booleans())
async def test_the_whatsapp_webhook_answers_any_body_with_a_status(rig: Rig, body: bytes, signed: bool) -> None:
    """Whatever is posted to /whatsapp, signed or not, the answer is 200, 400 or 401: never a crash."""
    response = await rig.api.post(body, "sign" if signed else "sha256=" + "0" * 64)
    assert response.status_code in (ROUTE_STATUSES if signed else {401}), (response.status_code, response.text)


async def test_poisoned_whatsapp_deliveries_leave_the_bot_working(rig: Rig) -> None:
    """After every poison body, the stored messages drain without error and a citizen is still answered."""
    statuses = [(await rig.api.post(body)).status_code for body in WA_POISON]
    assert set(statuses) <= {200, 400}
    for _ in range(6):
        await rig.run.inbox.drain()
    citizen = WaUser("6281298765432", "Warga")
    assert (await rig.api.user_sends_text(citizen, "menu")).status == 200
    await rig.settle()
    assert rig.api.to(citizen), "the citizen got no answer"
