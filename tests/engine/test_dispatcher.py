"""Dispatcher guarantees: exactly-once processing, durable state, isolation of failures, per-chat order."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.bootstrap import App, build
from suarawarga.bot.channels.console import RecordingSender, console_key
from suarawarga.bot.conversation import END, ConversationState, Flow, Step, Turn
from suarawarga.bot.messages import ChannelName, Inbound
from suarawarga.config import Settings
from suarawarga.handlers.registry import build_conversation_engine
from suarawarga.storage.db import make_engine
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation


async def test_conversation_resumes_after_the_process_is_replaced(
    app: App, settings: Settings, db: AsyncEngine, clock: FrozenClock
) -> None:
    """Dropping the dispatcher and the database engine mid-flow, a new one continues at the same step."""
    async with app.dispatcher() as first:
        citizen = Conversation(first, clock, app.catalogue, "resume")
        await citizen.verify(
            [
                ("/start", ["menu.welcome"]),
                ("1", ["privacy.notice"]),
                ("1", ["privacy.thanks", "complaint.category.ask"]),
                ("3", ["complaint.description.ask"]),
            ]
        )
    await db.dispose()
    fresh_engine = make_engine(settings.database_url)
    try:
        second_app = build(settings, clock=clock, db=fresh_engine)
        second_app.register_sender(ChannelName.CONSOLE, RecordingSender(second_app.catalogue))
        async with second_app.dispatcher() as second:
            again = Conversation(second, clock, second_app.catalogue, "resume")
            assert await again.say("Saluran air tersumbat dan banjir setiap hujan") == ["complaint.location.ask"]
            assert await again.say("2") == ["complaint.location.address_length", "complaint.location.ask"]
    finally:
        await fresh_engine.dispose()


async def test_same_inbound_three_times_gives_one_complaint_and_one_set_of_replies(
    app: App, citizen: Conversation, recorder: RecordingSender
) -> None:
    """A delivery repeated three times (webhook retries) is processed once."""
    await citizen.verify(
        [
            ("/start", ["menu.welcome"]),
            ("1", ["privacy.notice"]),
            ("1", ["privacy.thanks", "complaint.category.ask"]),
            ("1", ["complaint.description.ask"]),
            ("Jalan berlubang di depan pasar raya", ["complaint.location.ask"]),
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
        ]
    )
    confirm = citizen.inbound("Kirim")
    before = len(recorder.sent)
    results = [await citizen.send(confirm) for _ in range(3)]
    assert results == [["complaint.filed.anonim"], [], []]
    async with app.uow() as uow:
        assert await uow.complaints.count() == 1
    assert [m.text_key for m in recorder.sent[before:]].count("complaint.filed.anonim") == 1


async def test_duplicates_in_one_batch_are_dropped(app: App, clock: FrozenClock) -> None:
    """The same inbound submitted three times at once is processed once."""
    async with app.dispatcher() as running:
        citizen = Conversation(running, clock, app.catalogue, "batch")
        start = citizen.inbound("/start")
        results = await running.handle_many([start, start, start])
    assert sorted(len(r) for r in results) == [0, 0, 1]


EXPLODE = Flow(
    name="boom",
    first="explode",
    steps={"explode": Step(prompt=lambda turn: _noop(turn), handle=lambda turn: _explode(turn))},
)


async def _noop(turn: Turn) -> None:
    return None


async def _explode(turn: Turn) -> str:
    await turn.uow.citizens.register(ChannelName.CONSOLE, "half-written", "id", turn.clock.now(), consent=True)
    raise RuntimeError("a bug in a step")


async def _put_in_boom(app: App, chat_id: str) -> None:
    async with app.uow() as uow:
        await uow.conversations.save_many(
            {console_key(chat_id): ConversationState(flow="boom", step="explode")}, app.clock.now()
        )
        await uow.commit()


async def test_a_failing_step_apologises_resets_and_rolls_back(app: App, clock: FrozenClock) -> None:
    """An unexpected error gets an apology, resets the chat and keeps none of the step's writes."""
    app.conversations = build_conversation_engine(extra_flows=(EXPLODE,))
    await _put_in_boom(app, "victim")
    async with app.dispatcher() as running:
        victim = Conversation(running, clock, app.catalogue, "victim")
        assert await victim.say("anything") == ["error.generic"]
        assert await victim.say("hello") == ["menu.intro"]
    async with app.uow() as uow:
        assert await uow.citizens.find(ChannelName.CONSOLE, "half-written") is None
        states = await uow.conversations.load_many([console_key("victim")])
    assert states[console_key("victim")].flow is None


async def test_a_failing_step_does_not_take_its_batch_down(app: App, clock: FrozenClock) -> None:
    """Messages committed in the same group as a failing one still get their normal replies."""
    app.conversations = build_conversation_engine(extra_flows=(EXPLODE,))
    await _put_in_boom(app, "victim")
    async with app.dispatcher() as running:
        victim = Conversation(running, clock, app.catalogue, "victim")
        others = [Conversation(running, clock, app.catalogue, f"other-{i}") for i in range(5)]
        results = await running.handle_many([victim.inbound("x")] + [o.inbound("/start") for o in others])
    assert [m.text_key for m in results[0]] == ["error.generic"]
    assert all([m.text_key for m in r] == ["menu.welcome"] for r in results[1:])


async def test_messages_of_one_chat_keep_their_order_under_concurrency(app: App, clock: FrozenClock) -> None:
    """Fifty chats sending four messages each at once all end at the same step, in order."""
    lines = ["/start", "1", "1", "1"]
    async with app.dispatcher(lanes=3) as running:
        chats = [Conversation(running, clock, app.catalogue, f"chat-{i}") for i in range(50)]
        inbounds = [chat.inbound(line) for line in lines for chat in chats]
        results = await running.handle_many(inbounds)
    assert all([m.text_key for m in r] == ["complaint.description.ask"] for r in results[-50:])
    async with app.uow() as uow:
        states = await uow.conversations.load_many([chat.key for chat in chats])
    assert {(s.flow, s.step) for s in states.values()} == {("complaint", "description")}


async def test_handle_needs_a_running_dispatcher(app: App) -> None:
    """Using the dispatcher outside `async with` is a programming error, reported clearly."""
    with pytest.raises(RuntimeError, match="async with"):
        await app.dispatcher().handle(
            Inbound(key=console_key("x"), external_id="1", received_at=app.clock.now(), text="hi")
        )


async def test_state_with_unknown_flow_falls_back_to_the_menu(app: App, citizen: Conversation) -> None:
    """A stored state naming a flow that no longer exists (after an upgrade) shows the menu, not an error."""
    async with app.uow() as uow:
        await uow.conversations.save_many(
            {citizen.key: ConversationState(flow="retired", step="gone")}, app.clock.now()
        )
        await uow.commit()
    assert await citizen.say("halo") == ["menu.intro"]


def test_inbound_is_frozen() -> None:
    """Inbound messages are immutable values."""
    inbound = Inbound(key=console_key("x"), external_id="1", received_at=FrozenClock().now(), text="hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        inbound.text = "changed"  # type: ignore[misc]


BLINKS = {"left": 1}


async def _blink(turn: Turn) -> str:
    """Meet a database outage once (as a step does while PostgreSQL restarts), then work."""
    if BLINKS["left"]:
        BLINKS["left"] -= 1
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    turn.reply("menu.intro")
    return END


BLINK = Flow(
    name="boom",
    first="explode",
    steps={"explode": Step(prompt=lambda turn: _noop(turn), handle=lambda turn: _blink(turn))},
)


async def test_a_database_outage_in_a_step_is_retried_without_an_apology_or_a_reset(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The outage is not the step's fault: the message fails (to be tried again), the chat keeps its state."""
    BLINKS["left"] = 1
    app.conversations = build_conversation_engine(extra_flows=(BLINK,))
    await _put_in_boom(app, "blinked")
    async with app.dispatcher() as running:
        chat = Conversation(running, clock, app.catalogue, "blinked")
        message = chat.inbound("anything")
        with pytest.raises(OperationalError):
            await running.handle(message)
        async with app.uow() as uow:
            states = await uow.conversations.load_many([console_key("blinked")])
            outbox = await uow.outbox.counts()
        assert (states[console_key("blinked")].flow, outbox) == ("boom", {})
        assert [m.text_key for m in await running.handle(message)] == ["menu.intro"]  # the same message, again
    assert not any("step failed" in r.getMessage() for r in caplog.records)
