"""A read-only unit of work: reads what is committed, with no transaction of its own, and cannot commit."""

from __future__ import annotations

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.storage.inbox import NewUpdate

TG = ChannelName.TELEGRAM


async def test_a_read_only_unit_reads_committed_rows_and_refuses_to_commit(app: App) -> None:
    """Rows committed before and while it is open are seen; commit() raises."""
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.inbox.add_many([NewUpdate(TG, "1", {"update_id": 1}, 0)], now)
        await uow.commit()
    async with app.uow(read_only=True) as reader:
        first = await reader.inbox.pending(10)
        assert [row.payload for row in first] == [{"update_id": 1}]
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()
    async with app.uow(read_only=True) as reader:
        # Autocommit: each statement sees what was committed when it ran, so a later commit shows up too.
        async with app.uow() as writer:
            await writer.inbox.add_many([NewUpdate(TG, "2", {"update_id": 2}, 0)], now)
            await writer.commit()
        assert [row.payload for row in await reader.inbox.pending(10)] == [{"update_id": 1}, {"update_id": 2}]
