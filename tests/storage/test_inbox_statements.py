"""The statements of every turn: batches stored in the order given, copies once, states as saved, bad rows refused."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.exc import DBAPIError, StatementError

from suarawarga.bootstrap import App
from suarawarga.bot.conversation import ConversationState
from suarawarga.bot.messages import ChannelName, ConversationKey, Outbound
from suarawarga.storage.inbox import NewUpdate, UpdateKey

TG, WA = ChannelName.TELEGRAM, ChannelName.WHATSAPP


async def test_a_batch_is_stored_in_order_and_a_stored_update_is_not_stored_again(app: App) -> None:
    """Only the updates not stored before come back as new; the inbox gives them in the order they were given."""
    now = app.clock.now()
    async with app.uow() as uow:
        assert await uow.inbox.add_many([NewUpdate(TG, "5", {"update_id": 5, "text": 'ü "q"'}, 3)], now) == {
            UpdateKey(TG, "5")
        }
        await uow.commit()
    batch = [
        NewUpdate(WA, "wamid.9", {"n": 9}, 1),
        NewUpdate(TG, "5", {"update_id": 5, "text": "other"}, 3),  # a copy of a stored update
        NewUpdate(TG, "7", {"update_id": 7}, 2),
        NewUpdate(WA, "wamid.1", {"n": 1}, 1),
    ]
    async with app.uow() as uow:
        fresh = await uow.inbox.add_many(batch, now)
        await uow.commit()
    assert fresh == {UpdateKey(WA, "wamid.9"), UpdateKey(TG, "7"), UpdateKey(WA, "wamid.1")}
    async with app.uow(autocommit=True) as uow:
        pending = await uow.inbox.pending(10)
        assert [row.payload for row in pending] == [
            {"update_id": 5, "text": 'ü "q"'},
            {"n": 9},
            {"update_id": 7},
            {"n": 1},
        ]
        assert [row.payload for row in await uow.inbox.pending(10, shard=(0, 2))] == [{"update_id": 7}]
        assert [row.payload for row in await uow.inbox.pending(10, TG, shard=(1, 2))] == [
            {"update_id": 5, "text": 'ü "q"'}
        ]
        assert [row.payload for row in await uow.inbox.pending(2, WA)] == [{"n": 9}, {"n": 1}]
        assert [row.payload for row in await uow.inbox.pending(1)] == [{"update_id": 5, "text": 'ü "q"'}]
    async with app.uow() as uow:
        await uow.inbox.finish([pending[0].id, pending[2].id], now)
        await uow.commit()
    async with app.uow(autocommit=True) as uow:
        assert [row.payload for row in await uow.inbox.pending(10)] == [{"n": 9}, {"n": 1}]
        assert await uow.inbox.counts() == {"done": 2, "pending": 2}


async def test_processed_ids_are_seen_per_channel(app: App) -> None:
    """An id processed on one channel is not taken for the same id on another."""
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.processed.mark([UpdateKey(TG, "1"), UpdateKey(TG, "2")], now)
        await uow.commit()
    async with app.uow(autocommit=True) as uow:
        assert await uow.processed.seen(TG, ["1", "3", "2", "1"]) == {"1", "2"}
        assert await uow.processed.seen(WA, ["1"]) == set()
        assert await uow.processed.seen(TG, []) == set()


async def test_a_batch_of_states_is_saved_and_loaded_as_given(app: App) -> None:
    """States of several chats saved at once come back as saved; saving again updates them."""
    now = app.clock.now()
    keys = [ConversationKey(TG, "1"), ConversationKey(WA, "628"), ConversationKey(TG, "-100")]
    states = {
        keys[0]: ConversationState("complaint", "place", {"text": 'ü "q" \\ \u0000?'}, "id", [["a", "A"]]),
        keys[1]: ConversationState(None, None, {}, "en", [], parked={"flow": "survey"}, parked_at=now),
        keys[2]: ConversationState("survey", "q1", {"n": [1, 2.5, None, True]}),
    }
    async with app.uow() as uow:
        await uow.conversations.save_many(states, now)
        await uow.commit()
    async with app.uow(autocommit=True) as uow:
        assert await uow.conversations.load_many(keys) == states
    states[keys[0]] = ConversationState("complaint", "confirm", {"text": "baru"})
    async with app.uow() as uow:
        await uow.conversations.save_many({keys[0]: states[keys[0]]}, now)
        await uow.commit()
    async with app.uow(autocommit=True) as uow:
        assert await uow.conversations.load_many(keys) == states


async def test_a_batch_write_refuses_what_a_single_row_refuses(app: App) -> None:
    """A naive time is refused, and (where the database enforces lengths) a too long id is refused, not cut."""
    naive = datetime(2026, 12, 6, 8, 0)  # noqa: DTZ001 (the point of the test)
    with pytest.raises((ValueError, StatementError)):
        async with app.uow() as uow:
            await uow.processed.mark([UpdateKey(TG, "1"), UpdateKey(TG, "2")], naive)
    with pytest.raises((ValueError, StatementError)):
        async with app.uow() as uow:
            await uow.inbox.add_many([NewUpdate(TG, "1", {}, 0), NewUpdate(TG, "2", {}, 0)], naive)
    async with app.uow() as uow:
        (stored,) = await uow.outbox.add_many([Outbound(ConversationKey(TG, "1"), "label")], app.clock.now())
        await uow.commit()
    with pytest.raises((ValueError, StatementError)):
        async with app.uow() as uow:
            await uow.outbox.mark_sent([stored.id], naive)
    with pytest.raises((ValueError, StatementError)):
        async with app.uow() as uow:
            await uow.outbox.add_many(
                [Outbound(ConversationKey(TG, "1"), "a"), Outbound(ConversationKey(TG, "2"), "b")], naive
            )
    with pytest.raises((ValueError, StatementError)):
        async with app.uow() as uow:
            await uow.conversations.save_many(
                {ConversationKey(TG, "1"): ConversationState(), ConversationKey(TG, "2"): ConversationState()}, naive
            )
    if app.db.dialect.name == "postgresql":
        with pytest.raises(DBAPIError):
            async with app.uow() as uow:
                await uow.processed.mark([UpdateKey(TG, "1"), UpdateKey(TG, "x" * 129)], app.clock.now())
        with pytest.raises(DBAPIError):
            async with app.uow() as uow:
                await uow.inbox.add_many([NewUpdate(TG, "1", {}, 0), NewUpdate(TG, "x" * 129, {}, 0)], app.clock.now())
        too_long = ConversationKey(TG, "x" * 65)
        with pytest.raises(DBAPIError):
            async with app.uow() as uow:
                await uow.conversations.save_many(
                    {ConversationKey(TG, "1"): ConversationState(), too_long: ConversationState()}, app.clock.now()
                )
        with pytest.raises(DBAPIError):
            async with app.uow() as uow:
                await uow.outbox.add_many(
                    [Outbound(ConversationKey(TG, "1"), "a"), Outbound(too_long, "b")], app.clock.now()
                )


async def test_a_batch_of_replies_is_stored_as_given(app: App) -> None:
    """Replies stored together come back due with every field as written, text with quotes, escapes and NUL."""
    now = app.clock.now()
    odd = 'ü "q" \\ \u0000 </b> 🙂'
    messages = [
        Outbound(ConversationKey(TG, "1"), "complaint.filed", params={"code": odd}),
        Outbound(ConversationKey(WA, "628"), "menu.intro", params={}),
    ]
    async with app.uow() as uow:
        stored = await uow.outbox.add_many(messages, now)
        await uow.commit()
    async with app.uow(autocommit=True) as uow:
        due = await uow.outbox.due(now)
    assert [d.message for d in due] == stored
    assert due[0].message.params == {"code": odd}
