"""A unit of work in autocommit: each statement commits on its own, with no transaction to begin or end."""

from __future__ import annotations

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.storage.inbox import NewUpdate

TG = ChannelName.TELEGRAM


async def test_an_autocommit_unit_sees_what_others_commit_while_it_is_open(app: App) -> None:
    """Each read sees what was committed when it ran, not a snapshot taken when the unit opened."""
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.inbox.add_many([NewUpdate(TG, "1", {"update_id": 1}, 0)], now)
        await uow.commit()
    async with app.uow(autocommit=True) as reader:
        assert [row.payload for row in await reader.inbox.pending(10)] == [{"update_id": 1}]
        async with app.uow() as writer:
            await writer.inbox.add_many([NewUpdate(TG, "2", {"update_id": 2}, 0)], now)
            await writer.commit()
        assert [row.payload for row in await reader.inbox.pending(10)] == [{"update_id": 1}, {"update_id": 2}]


async def test_a_write_in_an_autocommit_unit_is_committed_as_it_runs(app: App) -> None:
    """A write is visible to another unit before this one ends, and stays when it ends without commit()."""
    now = app.clock.now()
    async with app.uow(autocommit=True) as uow:
        await uow.inbox.add_many([NewUpdate(TG, "9", {"update_id": 9}, 0)], now)
        async with app.uow(autocommit=True) as other:
            assert len(await other.inbox.pending(10)) == 1
    async with app.uow(autocommit=True) as uow:
        assert len(await uow.inbox.pending(10)) == 1
