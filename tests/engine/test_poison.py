"""Poison messages: one that fails on its own is dead-lettered after a few attempts; its lane and chat go on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.inbox import MAX_PARSE_ATTEMPTS, InboxProcessor
from suarawarga.bot.messages import ChannelName, Outbound
from suarawarga.storage.outbox_sql import OutboxRepo
from tests.engine.test_inbox import parser, update

POISON_CHAT = 666


@pytest.fixture
def poisoned_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the database refuse the replies written for one chat, except the apology (a fault outside any step)."""
    original = OutboxRepo.add_many

    async def add_many(self: OutboxRepo, messages: Sequence[Outbound], *args: Any, **kwargs: Any) -> Any:
        if any(m.key.chat_id == str(POISON_CHAT) and m.text_key != "error.generic" for m in messages):
            raise RuntimeError("value too long for type character varying(64)")
        return await original(self, messages, *args, **kwargs)

    monkeypatch.setattr(OutboxRepo, "add_many", add_many)


async def _replies(app: App, chat: int) -> list[str]:
    async with app.uow() as uow:
        entries = await uow.outbox.listing(None, None, 1000)
    return [e.text_key for e in entries if e.recipient == str(chat)]


@pytest.mark.usefixtures("poisoned_outbox")
async def test_a_poison_message_is_dead_lettered_and_its_lane_goes_on(app: App) -> None:
    """Citizens batched with a poison message are answered at once; the poison one is tried a bounded number of
    times, marked failed (listed, counted in /metrics) and its citizen gets the apology."""
    async with app.dispatcher(lanes=1) as dispatcher:
        inbox = InboxProcessor(app.uow, dispatcher, {ChannelName.TELEGRAM: parser(app)}, app.clock)
        for update_id, chat in enumerate([101, POISON_CHAT, 102, 103], start=1):
            await inbox.accept(ChannelName.TELEGRAM, str(update_id), update(update_id, chat, "/start"))
        await inbox.drain()
        for chat in (101, 102, 103):  # answered on the first pass, not held hostage by the poison message
            assert await _replies(app, chat) == ["menu.welcome"], chat
        for _ in range(MAX_PARSE_ATTEMPTS + 3):  # more passes than attempts: a dead letter is not taken again
            await inbox.drain()
    async with app.uow() as uow:
        counts = await uow.inbox.counts()
        failed = await uow.inbox.listing("failed", None, 10)
    assert counts == {"done": 3, "failed": 1}
    assert [(row.external_id, row.attempts) for row in failed] == [("2", MAX_PARSE_ATTEMPTS)]
    assert failed[0].last_error == "RuntimeError"
    assert await _replies(app, POISON_CHAT) == ["error.generic"]
    rendered = app.metrics.render().decode()
    assert 'suarawarga_inbound_dead_letters_total{channel="telegram",stage="process"} 1.0' in rendered


async def test_a_message_that_always_fails_even_its_apology_is_dead_lettered(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When not even the apology can be stored, the row still stops being retried after the attempts."""
    original = OutboxRepo.add_many

    async def add_many(self: OutboxRepo, messages: Sequence[Outbound], *args: Any, **kwargs: Any) -> Any:
        if any(m.key.chat_id == str(POISON_CHAT) for m in messages):
            raise RuntimeError("refused")
        return await original(self, messages, *args, **kwargs)

    monkeypatch.setattr(OutboxRepo, "add_many", add_many)
    async with app.dispatcher(lanes=1) as dispatcher:
        inbox = InboxProcessor(app.uow, dispatcher, {ChannelName.TELEGRAM: parser(app)}, app.clock)
        await inbox.accept(ChannelName.TELEGRAM, "1", update(1, POISON_CHAT, "/start"))
        await inbox.accept(ChannelName.TELEGRAM, "2", update(2, 104, "/start"))
        for _ in range(MAX_PARSE_ATTEMPTS + 2):
            await inbox.drain()
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"done": 1, "failed": 1}
    assert await _replies(app, 104) == ["menu.welcome"]


async def test_a_dead_lettered_message_does_not_block_the_next_message_of_its_chat(app: App) -> None:
    """After the apology, the same citizen's next message is handled normally."""
    original = OutboxRepo.add_many
    calls = {"n": 0}

    async def add_many(self: OutboxRepo, messages: Sequence[Outbound], *args: Any, **kwargs: Any) -> Any:
        if any(m.key.chat_id == "105" and m.text_key == "menu.welcome" for m in messages) and calls["n"] == 0:
            raise RuntimeError("refused")
        return await original(self, messages, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(OutboxRepo, "add_many", add_many)
        async with app.dispatcher(lanes=1) as dispatcher:
            inbox = InboxProcessor(app.uow, dispatcher, {ChannelName.TELEGRAM: parser(app)}, app.clock)
            await inbox.accept(ChannelName.TELEGRAM, "1", update(1, 105, "/start"))
            for _ in range(MAX_PARSE_ATTEMPTS):
                await inbox.drain()
            calls["n"] = 1
            await inbox.accept(ChannelName.TELEGRAM, "2", update(2, 105, "/start"))
            await inbox.drain()
    assert sorted(await _replies(app, 105)) == ["error.generic", "menu.welcome"]
