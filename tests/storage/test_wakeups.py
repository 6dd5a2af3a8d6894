"""The inbox notification: sent with the storing transaction on PostgreSQL, heard by a listener in another process.

On SQLite there is nothing to hear: the listener says so and processors keep polling.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url

from suarawarga.bootstrap import App
from suarawarga.bot.inbox import InboxWriter
from suarawarga.bot.messages import ChannelName
from suarawarga.storage.inbox import NewUpdate
from suarawarga.storage.wakeups_sql import listening_for_inbox


async def _heard(app: App, act: object) -> bool:
    """Listen, run the action, and tell whether a notification arrived within two seconds."""
    heard = asyncio.Event()
    connected = asyncio.Event()

    def listening(yes: bool) -> None:
        if yes:
            connected.set()

    def wake() -> None:
        if connected.is_set():
            heard.set()

    async with app.listening_for_inbox(wake, listening):
        await asyncio.wait_for(connected.wait(), 10)
        await asyncio.sleep(0.1)  # the wake-up that follows connecting (for what was stored meanwhile) is past
        heard.clear()
        await act()  # type: ignore[operator]
        try:
            await asyncio.wait_for(heard.wait(), 2)
        except TimeoutError:
            return False
        return True


async def test_storing_an_update_wakes_the_listeners_after_the_commit(app: App) -> None:
    """An accepted update notifies once it is committed; a rolled-back transaction notifies nobody."""
    if app.db.dialect.name != "postgresql":
        states: list[bool] = []
        async with app.listening_for_inbox(lambda: None, states.append):
            await asyncio.sleep(0.2)
        assert states == []  # SQLite cannot notify: processors keep polling as often as before
        return

    async def rolled_back() -> None:
        async with app.uow() as uow:
            update = NewUpdate(ChannelName.CONSOLE, "update-0", {"text": "halo"}, 0)
            assert await uow.inbox.add_many([update], app.clock.now())
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


async def test_processors_poll_fast_until_the_listener_is_connected(app: App) -> None:
    """Notifications are announced only once LISTEN works; a database that cannot be reached keeps fast polling."""
    if app.db.dialect.name != "postgresql":
        return
    states: list[bool] = []
    unreachable = make_url(app.settings.database_url).set(host="127.0.0.1", port=9).render_as_string(False)
    async with listening_for_inbox(unreachable, lambda: None, states.append):
        await asyncio.sleep(1.0)
    assert True not in states  # never said to be listening
    async with app.listening_for_inbox(lambda: None, states.append):
        for _ in range(100):
            if True in states:
                break
            await asyncio.sleep(0.1)
    assert True in states
