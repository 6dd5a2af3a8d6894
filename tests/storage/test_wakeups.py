"""The inbox notification: sent with the storing transaction on PostgreSQL, heard by a listener in another process.

On SQLite there is nothing to hear: the listener says so and processors keep polling.
"""

from __future__ import annotations

import asyncio

from suarawarga.bootstrap import App
from suarawarga.bot.inbox import InboxWriter
from suarawarga.bot.messages import ChannelName


async def _heard(app: App, act: object) -> bool:
    """Listen, run the action, and tell whether a notification arrived within two seconds."""
    heard = asyncio.Event()
    connected = asyncio.Event()

    def wake() -> None:
        (heard if connected.is_set() else connected).set()  # the first call only says the listener is connected

    async with app.listening_for_inbox(wake) as notified:
        assert notified
        await asyncio.wait_for(connected.wait(), 10)
        await act()  # type: ignore[operator]
        try:
            await asyncio.wait_for(heard.wait(), 2)
        except TimeoutError:
            return False
        return True


async def test_storing_an_update_wakes_the_listeners_after_the_commit(app: App) -> None:
    """An accepted update notifies once it is committed; a rolled-back transaction notifies nobody."""
    if app.db.dialect.name != "postgresql":
        async with app.listening_for_inbox(lambda: None) as notified:
            assert not notified  # SQLite cannot notify: processors poll
        async with app.uow() as uow:
            await uow.wakeups.inbox_stored()  # a no-op, not an error
        return

    async def rolled_back() -> None:
        async with app.uow() as uow:
            await uow.wakeups.inbox_stored()
            await uow.rollback()

    async def accepted() -> None:
        writer = InboxWriter(app.uow, app.clock)
        assert await writer.accept(ChannelName.CONSOLE, "update-1", {"text": "halo"})

    async def repeated() -> None:
        writer = InboxWriter(app.uow, app.clock)
        assert not await writer.accept(ChannelName.CONSOLE, "update-1", {"text": "halo"})

    assert not await _heard(app, rolled_back)
    assert await _heard(app, accepted)
    assert not await _heard(app, repeated)  # a repeated delivery stores nothing new: nobody is woken
