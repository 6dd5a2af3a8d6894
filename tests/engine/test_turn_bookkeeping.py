"""What a stored update's turn writes besides the conversation: its inbox row, its id, the chat's last message.

All of it is written in the turn's own transaction, so handling one update commits once.
"""

from __future__ import annotations

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.conversation import ConversationState
from suarawarga.bot.inbox import InboxProcessor
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound, Outbound
from suarawarga.handlers.registry import build_conversation_engine
from suarawarga.storage.inbox import NewUpdate
from suarawarga.storage.uow import UnitOfWork
from tests.engine.test_dispatcher import EXPLODE
from tests.engine.test_inbox import CHATS, parser, update

TG, WA = ChannelName.TELEGRAM, ChannelName.WHATSAPP


class CountingUnits:
    """The app's units of work, counting the commits made through them."""

    def __init__(self, app: App) -> None:
        self.open = app.uow
        self.commits = 0

    def __call__(self, *, autocommit: bool = False) -> UnitOfWork:
        """Open a unit whose commit() is counted."""
        unit = self.open(autocommit=autocommit)
        commit = unit.commit

        async def counted() -> None:
            self.commits += 1
            await commit()

        unit.commit = counted  # type: ignore[method-assign]
        return unit


async def nothing(messages: list[Outbound]) -> None:
    """Deliver nothing: only the turn's own commits are counted."""


async def test_one_stored_update_is_handled_in_one_commit_that_also_finishes_its_row(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drain: the turn's commit marks the inbox row done; no second transaction finishes it."""
    units = CountingUnits(app)
    monkeypatch.setattr(app, "uow", units)
    async with app.dispatcher(nothing) as dispatcher:
        processor = InboxProcessor(units, dispatcher, {TG: parser(app)}, app.clock, chats=CHATS)
        assert await processor.accept(TG, "1", update(1, 500, "/start"))
        stored = units.commits
        assert await processor.drain() == 1
        assert units.commits - stored == 1
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"done": 1}
        assert await uow.conversations.load_many([ConversationKey(TG, "500")])


async def test_a_repeat_of_a_processed_message_still_finishes_its_row(app: App) -> None:
    """Two stored updates carrying the same message: one turn, and both rows done."""
    async with app.dispatcher(nothing) as dispatcher:
        processor = InboxProcessor(app.uow, dispatcher, {TG: parser(app)}, app.clock, chats=CHATS)
        assert await processor.accept(TG, "a", update(7, 501, "/start"))
        assert await processor.drain() == 1
        assert await processor.accept(TG, "b", update(7, 501, "/start"))  # another row, the same message id
        assert await processor.drain() == 1
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"done": 2}
        outbox = await uow.outbox.counts()
    assert sum(outbox.values()) == 1  # the menu, once


def whatsapp(app: App, external_id: str, chat: str, *, opens_window: bool) -> Inbound:
    """Return a WhatsApp text message (or, without `opens_window`, something like a reaction)."""
    return Inbound(
        key=ConversationKey(WA, chat),
        external_id=external_id,
        received_at=app.clock.now(),
        sender_id=chat,
        text="halo",
        opens_window=opens_window,
    )


async def test_a_message_that_opens_the_window_is_stored_with_its_turn(app: App) -> None:
    """The chat's last message time is written by the turn; a message that opens no window writes none."""
    async with app.dispatcher(nothing) as dispatcher:
        await dispatcher.handle(whatsapp(app, "wamid.1", "6281100", opens_window=True))
        await dispatcher.handle(whatsapp(app, "wamid.2", "6281200", opens_window=False))
    async with app.uow(autocommit=True) as uow:
        seen = await uow.contacts.last_contacts(WA, ["6281100", "6281200"])
    assert seen == {"6281100": app.clock.now()}


async def test_a_message_whose_step_fails_still_opens_the_window_and_finishes_its_row(app: App) -> None:
    """The apology's transaction writes what the rolled-back turn would have: window time and inbox row."""
    app.conversations = build_conversation_engine(extra_flows=(EXPLODE,))
    chat = "6281300"
    async with app.uow() as uow:
        await uow.conversations.save_many(
            {ConversationKey(WA, chat): ConversationState(flow="boom", step="explode")}, app.clock.now()
        )
        await uow.inbox.add_many([NewUpdate(WA, "wamid.9", {"message": {"from": chat}}, 0)], app.clock.now())
        (row,) = await uow.inbox.pending(10)
        await uow.commit()
    async with app.dispatcher(nothing) as dispatcher:
        replies = await dispatcher.handle(whatsapp(app, "wamid.9", chat, opens_window=True), inbox_row=row.id)
    assert [m.text_key for m in replies] == ["error.generic"]
    async with app.uow(autocommit=True) as uow:
        assert await uow.contacts.last_contacts(WA, [chat]) == {chat: app.clock.now()}
        assert await uow.inbox.counts() == {"done": 1}
