"""Ids are checked at the adapters (type and range) before anything is stored under them, on both platforms."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fakes.telegram_server import User
from fakes.whatsapp_server import WaUser

from suarawarga.bootstrap import App
from suarawarga.bot.channels.telegram import TelegramChannel
from tests.channels.test_telegram_e2e import SECRET, World, product
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

JSON = dict[str, Any]
BAD_TELEGRAM_IDS = [10**30, 2**63, -(2**63), 2**52, "9" * 70, "12\x00", "\ud800", "12345", True, 1.5, None]


def tg_message(update_id: int, chat_id: Any, user_id: Any = 5001, text: str = "/start") -> JSON:
    """Return a Telegram update with a private message."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1700000000,
            "chat": {"id": chat_id, "type": "private", "first_name": "W"},
            "from": {"id": user_id, "is_bot": False, "first_name": "W"},
            "text": text,
        },
    }


def tg_button(update_id: int, chat_id: Any, user_id: Any = 5001, message_id: Any = 7) -> JSON:
    """Return a Telegram update with a button press on one of the bot's messages."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": "cb1",
            "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": "W"},
            "data": "cmd:menu",
            "message": {
                "message_id": message_id,
                "date": 1700000000,
                "chat": {"id": chat_id, "type": "private", "first_name": "W"},
                "text": "menu",
            },
        },
    }


@pytest.fixture
async def world(app: App) -> AsyncIterator[World]:
    """Run the product with its Telegram webhook against the fake Bot API."""
    async with product(app, "webhook") as running:
        yield running


@pytest.mark.parametrize("bad", BAD_TELEGRAM_IDS, ids=repr)
async def test_telegram_ids_that_are_not_integers_in_range_are_refused(world: World, bad: Any) -> None:
    """A chat, user or message id that is not an int within 52 bits makes the update malformed (ignored)."""
    channel: TelegramChannel = world.channel
    assert await channel.parse(tg_message(1, bad)) is None
    assert await channel.parse(tg_message(2, 5001, user_id=bad)) is None
    assert await channel.parse(tg_button(3, bad)) is None
    assert await channel.parse(tg_button(4, 5001, user_id=bad)) is None
    assert await channel.parse(tg_button(5, 5001, message_id=bad)) is None


async def test_telegram_ids_in_range_are_kept(world: World) -> None:
    """A private chat, a supergroup's -100… id and the largest 52-bit id are real ids."""
    for chat_id in (5001, -1001234567890, 2**52 - 1, -(2**52)):
        parsed = await world.channel.parse(tg_message(1, chat_id))
        assert parsed is not None and parsed.key.chat_id == str(chat_id)


async def test_poison_telegram_updates_are_never_a_500_and_leave_the_others_answered(world: World) -> None:
    """Poison chat ids posted beside real citizens: every answer is 200, nothing stays pending, citizens get replies."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
    citizens = [User(5100 + n, f"Warga{n}", language_code="id") for n in range(3)]
    bodies = [json.dumps(tg_message(100 + n, bad)).encode() for n, bad in enumerate(BAD_TELEGRAM_IDS)]
    async with httpx.AsyncClient() as http:
        statuses = [(await http.post(world.webhook_url, content=body, headers=headers)).status_code for body in bodies]
        for citizen in citizens:
            world.api.user_sends_command(citizen, None, "start")
    assert set(statuses) == {200}, statuses
    for citizen in citizens:
        await world.screen(citizen.id).expect(world.text("menu.welcome"))
    for _ in range(3):
        await world.run.inbox.drain()
    async with world.app.uow() as uow:
        counts = await uow.inbox.counts()
    assert counts == {"done": len(bodies) + len(citizens)}


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


def wa_payload(sender: Any, wamid: Any = "wamid.X1", *, key: str = "from") -> JSON:
    """Return a stored WhatsApp delivery (as the webhook stores it) of a text message."""
    message: JSON = {"id": wamid, "timestamp": "1767225600", "type": "text", "text": {"body": "menu"}, key: sender}
    return {"message": message, "contacts": [{"profile": {"name": "W"}}]}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "62812\x00",
        "9" * 21,
        "+6281234567890",
        "62 812",
        "abc",
        "\ud800",
        "6281\n",
        "US.1349\n",
        "US." + "1" * 70,
        6281234567890,
        None,
    ],
    ids=repr,
)
async def test_whatsapp_sender_ids_must_be_digits_or_a_business_scoped_id(rig: Rig, bad: Any) -> None:
    """A wa_id is digits only (bounded); a business-scoped id is CC.<letters and digits> (bounded); else ignored."""
    assert await rig.channel.parse(wa_payload(bad)) is None
    assert await rig.channel.parse(wa_payload(bad, key="from_user_id")) is None


async def test_whatsapp_good_ids_and_bounded_message_ids(rig: Rig) -> None:
    """Phone digits and a BSUID are chats; a message id of 200 characters or with NUL is not an id."""
    assert (await rig.channel.parse(wa_payload("6281234567890"))) is not None
    parsed = await rig.channel.parse(wa_payload("US.13491208655302741918", key="from_user_id"))
    assert parsed is not None and parsed.key.chat_id == "US.13491208655302741918"
    assert await rig.channel.parse(wa_payload("6281234567890", "wamid." + "x" * 200)) is None
    assert await rig.channel.parse(wa_payload("6281234567890", "wamid.\x00")) is None
    assert await rig.channel.parse(wa_payload("6281234567890", "wamid.\u00e9\u200b")) is None  # not ASCII


async def test_a_lone_surrogate_in_a_whatsapp_sender_is_acknowledged_not_a_500(rig: Rig) -> None:
    """The shard hash of a delivery whose sender holds a lone surrogate made the webhook answer 500."""
    body = json.dumps(
        rig.api.envelope({"messages": [{"id": "wamid.S1", "from": "\ud800", "type": "text", "text": {"body": "x"}}]})
    ).encode()
    assert (await rig.api.post(body)).status_code == 200
    await rig.settle()
    citizen = WaUser("6281298765432", "Warga")
    assert (await rig.api.user_sends_text(citizen, "menu")).status == 200
    await rig.settle()
    assert rig.api.to(citizen)
    async with rig.app.uow() as uow:
        assert await uow.inbox.counts() == {"done": 2}
