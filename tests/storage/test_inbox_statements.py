"""The inbox's prebuilt statements: a batch is stored in the order given, copies once, and drained by shard."""

from __future__ import annotations

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
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
