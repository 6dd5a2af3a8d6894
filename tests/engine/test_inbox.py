"""The inbox: stored before acknowledged, drained in order, and shared by several processes through shards."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.channels import telegram, whatsapp
from suarawarga.bot.inbox import InboxProcessor, InboxWriter, chat_hash
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound


def update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    """Return a minimal Telegram-shaped update."""
    return {"update_id": update_id, "message": {"message_id": update_id, "chat": {"id": chat}, "text": text}}


def parser(app: App) -> Any:
    """Return a parser for the minimal updates (the real Telegram parser is tested with the Bot API fake)."""

    async def parse(payload: dict[str, Any]) -> Inbound | None:
        message = payload["message"]
        command = message["text"][1:] if message["text"].startswith("/") else None
        return Inbound(
            key=ConversationKey(ChannelName.TELEGRAM, str(message["chat"]["id"])),
            external_id=str(payload["update_id"]),
            received_at=app.clock.now(),
            sender_id=str(message["chat"]["id"]),
            text=None if command else message["text"],
            command=command,
        )

    return parse


CHATS = {ChannelName.TELEGRAM: telegram.chat_of}


def test_chat_of_reads_both_platforms_shapes(app: App) -> None:
    """The chat of a Telegram message, a button press and a WhatsApp message is found; garbage gives None."""
    assert telegram.chat_of(update(1, 42, "hi")) == "42"
    assert telegram.chat_of({"callback_query": {"message": {"chat": {"id": -7}}}}) == "-7"
    assert whatsapp.chat_of({"message": {"from": "6281234567890"}}) == "6281234567890"
    assert telegram.chat_of({"weird": [1, 2]}) is None
    assert whatsapp.chat_of({"message": "weird"}) is None
    assert chat_hash(ChannelName.TELEGRAM, None) == 0
    writer = InboxWriter(app.uow, app.clock, chats=CHATS)
    assert writer.chat_of(ChannelName.TELEGRAM, update(1, 42, "hi")) == "42"
    assert writer.chat_of(ChannelName.WHATSAPP, {"message": {"from": "6281234567890"}}) is None  # not registered


async def test_two_processes_share_the_chats_in_order_and_once(app: App) -> None:
    """Messages accepted alternately by two 'processes' (shards 0/2, 1/2) are each handled once, in chat order."""
    chats = list(range(1000, 1012))
    lines = ["/start", "1", "1", "1"]  # menu -> complaint -> consent -> first category
    async with AsyncExitStack() as stack:
        processors = []
        for index in range(2):
            dispatcher = await stack.enter_async_context(app.dispatcher())
            processors.append(
                InboxProcessor(
                    app.uow, dispatcher, {ChannelName.TELEGRAM: parser(app)}, app.clock, shard=(index, 2), chats=CHATS
                )
            )
        update_id = 0
        for line in lines:
            for chat in chats:
                update_id += 1
                receiver = processors[update_id % 2]  # the load balancer's choice, unrelated to the chat
                payload = update(update_id, chat, line)
                assert await receiver.accept(ChannelName.TELEGRAM, str(update_id), payload)
                assert not await processors[0].accept(ChannelName.TELEGRAM, str(update_id), payload)  # repeat
        # Each process drains only its shard; between them, everything is handled.
        while sum([await p.drain() for p in processors]):
            pass
    async with app.uow() as uow:
        states = await uow.conversations.load_many(ConversationKey(ChannelName.TELEGRAM, str(c)) for c in chats)
        counts = await uow.inbox.counts()
        outbox = await uow.outbox.counts()
    assert {(s.flow, s.step) for s in states.values()} == {("complaint", "description")}
    assert len(states) == len(chats)
    assert counts == {"done": len(chats) * len(lines)}
    # One set of replies per message: menu (1) + notice (1) + thanks and categories (2) + description (1).
    assert sum(outbox.values()) == len(chats) * 5


async def test_a_shard_must_exist(app: App) -> None:
    """A shard index outside 0..N-1 is refused."""
    async with app.dispatcher() as dispatcher:
        with pytest.raises(ValueError, match="shard 2 of 2"):
            InboxProcessor(app.uow, dispatcher, {}, app.clock, shard=(2, 2))


async def test_updates_arriving_together_are_stored_once_each(app: App) -> None:
    """Concurrent webhooks share commits (group commit); of the copies of one update exactly one is new."""
    async with app.dispatcher() as dispatcher:
        inbox = InboxProcessor(app.uow, dispatcher, {ChannelName.TELEGRAM: parser(app)}, app.clock)
        distinct = [inbox.accept(ChannelName.TELEGRAM, str(n), update(n, 2000 + n, "/start")) for n in range(1, 41)]
        copies = [inbox.accept(ChannelName.TELEGRAM, "99", update(99, 2099, "/start")) for _ in range(3)]
        results = await asyncio.gather(*distinct, *copies)
        assert results[:40] == [True] * 40
        assert sorted(results[40:]) == [False, False, True]
        assert not await inbox.accept(ChannelName.TELEGRAM, "99", update(99, 2099, "/start"))  # delivered again
        while await inbox.drain():
            pass
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"done": 41}
        assert sum((await uow.outbox.counts()).values()) == 41  # one menu per chat


async def test_an_update_that_cannot_be_stored_refuses_only_itself(app: App) -> None:
    """Updates arriving together share a commit; one the database refuses fails alone, the others are stored."""
    writer = InboxWriter(app.uow, app.clock)
    unstorable = update(3, 12, "x") | {"bad": object()}  # not JSON: the insert of its batch fails
    results = await asyncio.gather(
        writer.accept(ChannelName.TELEGRAM, "1", update(1, 11, "a")),
        writer.accept(ChannelName.TELEGRAM, "2", update(2, 11, "b")),
        writer.accept(ChannelName.TELEGRAM, "3", unstorable),
        writer.accept(ChannelName.TELEGRAM, "1", update(1, 11, "a")),  # a repeated delivery
        return_exceptions=True,
    )
    assert results[0] is True and results[1] is True and results[3] is False
    assert isinstance(results[2], Exception)
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"pending": 2}


async def test_updates_stored_together_keep_their_arrival_order(app: App) -> None:
    """Updates that one group commit stores (a burst, or one WhatsApp delivery's messages) are drained as they came."""
    writer = InboxWriter(app.uow, app.clock, chats=CHATS)
    stored = await asyncio.gather(
        writer.accept(ChannelName.TELEGRAM, "1", update(1, 42, "satu")),
        writer.accept(ChannelName.TELEGRAM, "2", update(2, 42, "dua")),
        writer.accept(ChannelName.TELEGRAM, "1", update(1, 42, "satu (copy)")),
        writer.accept(ChannelName.TELEGRAM, "3", update(3, 42, "tiga")),
        writer.accept(ChannelName.TELEGRAM, "4", update(4, 42, "empat")),
    )
    assert list(stored) == [True, True, False, True, True]
    async with app.uow(autocommit=True) as uow:
        texts = [row.payload["message"]["text"] for row in await uow.inbox.pending(10)]
    assert texts == ["satu", "dua", "tiga", "empat"]
