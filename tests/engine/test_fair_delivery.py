"""Fair delivery (#12): one chat's backlog holds up no other chat; a chat's replies leave in the order written,
also after a retry; a reply overtaken while it waited is dropped as STALE; a chat writing too fast is cut off."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fakes.telegram_server import FakeBotApi, User
from fakes.whatsapp_server import WaUser

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender, console_key
from suarawarga.bot.channels.telegram import Limits, TelegramChannel
from suarawarga.bot.input_limit import INPUT_PER_MINUTE, NOTICE_KEY
from suarawarga.bot.messages import ChannelName, ConversationKey, NoticeKind, Outbound, OutboxStatus
from suarawarga.bot.sender import CLAIM_LEASE, STALE_AFTER, OutboxPump
from suarawarga.cli.main import build_parser
from suarawarga.cli.messages import cmd_outbox_list
from suarawarga.runtime import running
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

FLOODER = User(5101, "Banjir", language_code="id")
QUIET = User(5102, "Tenang", language_code="id")
SITI = WaUser("6281234567890", "Siti")
FAST = Limits(per_second=1000, private_burst=1000, private_per_second=1000, group_per_minute=1000)


def telegram(app: App, api: FakeBotApi, limits: Limits = FAST) -> TelegramChannel:
    """Return a Telegram channel of the app pointed at the fake (a new one: a new process's memory)."""
    return TelegramChannel.connect(
        api.token, api.root_url, catalogue=app.catalogue, attachments=app.attachments, clock=app.clock, limits=limits
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """Yield a running fake Bot API with the two citizens' chats."""
    async with FakeBotApi() as fake:
        fake.private_chat(FLOODER)
        fake.private_chat(QUIET)
        yield fake


async def store(app: App, *messages: Outbound) -> list[Outbound]:
    """Write messages to the outbox (as the dispatcher does) and return them with their ids."""
    async with app.uow() as uow:
        stored = await uow.outbox.add_many(messages, app.clock.now())
        await uow.commit()
    return stored


async def statuses(app: App) -> dict[str, str]:
    """Return every outbox row's status by id."""
    async with app.uow() as uow:
        return {e.id: e.status for e in await uow.outbox.listing(limit=1000)}


def tg(user: User, key: str, **extra: Any) -> Outbound:
    """Return a message to a Telegram citizen."""
    return Outbound(ConversationKey(ChannelName.TELEGRAM, str(user.id)), key, **extra)


def texts(api: FakeBotApi, user: User) -> list[str]:
    """Return the texts a Telegram chat received, in order."""
    return [str(r["text"]) for r in api.sent(user.id) if r["method"] == "sendMessage"]


# --------------------------------------------------------------------------- one chat's backlog holds up no other


async def test_a_flooding_chat_holds_up_no_other_chats_reply(app: App, api: FakeBotApi) -> None:
    """With Telegram's real pacing (1 a second per chat after a burst), a chat with 12 replies queued does not
    delay the reply of another Telegram chat, nor of a chat on another channel, committed after them."""
    channel = telegram(app, api, Limits())
    await channel.start()
    app.register_sender(ChannelName.TELEGRAM, channel.sender)
    recorder = app.senders[ChannelName.CONSOLE]
    assert isinstance(recorder, RecordingSender)
    try:
        async with OutboxPump(app.delivery(), app.clock) as pump:
            await pump.submit(await store(app, *(tg(FLOODER, "menu.intro") for _ in range(12))))
            await api.wait_for(lambda: len(texts(api, FLOODER)) >= 1)
            await pump.submit(await store(app, tg(QUIET, "menu.welcome"), Outbound(console_key("c"), "menu.intro")))
            await api.wait_for(lambda: len(texts(api, QUIET)) == 1, within=30)
            await asyncio.wait_for(_until(lambda: bool(recorder.sent)), 30)
            # Both went out while the flooding chat still waited for its pacing.
            assert len(texts(api, FLOODER)) < 12
            await pump.drain()
        assert len(texts(api, FLOODER)) == 12
    finally:
        await channel.stop()


async def _until(predicate: Any) -> None:
    while not predicate():  # noqa: ASYNC110 (the console's recorder has no event to wait on)
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- order after a retry


@pytest.mark.parametrize(("code", "retry_after"), [(429, 30), (502, 1)])
async def test_telegram_reply_waits_behind_an_earlier_one_pending_retry(
    app: App, api: FakeBotApi, clock: FrozenClock, code: int, retry_after: int
) -> None:
    """The menu failed (429 or 5xx) and waits for its retry: the next reply waits too, also when another process
    (with none of the first one's memory) sends it; then both go, menu first."""
    first = telegram(app, api)
    await first.start()
    app.register_sender(ChannelName.TELEGRAM, first.sender)
    try:
        api.fail_next("sendMessage", 1, error_code=code, retry_after=retry_after)
        (menu,) = await store(app, tg(QUIET, "menu.intro"))
        assert menu.id in (await app.delivery().deliver([menu])).retry
    finally:
        await first.stop()
    other = telegram(app, api)
    await other.start()
    app.register_sender(ChannelName.TELEGRAM, other.sender)
    try:
        clock.advance(timedelta(seconds=1))
        (question,) = await store(app, tg(QUIET, "complaint.location.ask"))
        report = await app.delivery().deliver([question])
        assert texts(api, QUIET) == []  # not sent before the menu
        assert list(report.deferred) == [question.id]
        assert (await statuses(app))[question.id] == OutboxStatus.PENDING

        clock.advance(timedelta(seconds=31))
        report = await app.delivery().deliver_due()
        assert report.sent == [menu.id, question.id]
        rendered = [app.catalogue.render(k, "id") for k in ("menu.intro", "complaint.location.ask")]
        assert [t.split("\n")[0] for t in texts(api, QUIET)] == [r.split("\n")[0] for r in rendered]
    finally:
        await other.stop()


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API, Siti's window open."""
    async with whatsapp_rig(app, clock) as running_rig:
        now = app.clock.now()
        async with app.uow() as uow:
            await uow.contacts.note_contact(ChannelName.WHATSAPP, SITI.address, now)
            await uow.commit()
        running_rig.api.last_inbound[SITI.address] = now
        yield running_rig


def wa(text: str, *labels: str, **extra: Any) -> Outbound:
    """Return a message to Siti whose text (and choice labels) are given literally."""
    from suarawarga.bot.messages import Choice

    choices = tuple(Choice(f"c{i}", "label", {"label": label}) for i, label in enumerate(labels))
    key = ConversationKey(ChannelName.WHATSAPP, SITI.address)
    return Outbound(key, "label", {"label": text}, choices=choices, **extra)


@pytest.mark.parametrize(("code", "status"), [(130429, 429), (131056, 400), (131000, 500)])
async def test_whatsapp_reply_waits_behind_an_earlier_one_pending_retry(
    rig: Rig, clock: FrozenClock, code: int, status: int
) -> None:
    """Meta refused the menu (throughput 429, pair rate limit, 5xx): the next reply is not sent before it."""
    rig.api.fail_next(code, recipient=SITI.address, http_status=status)
    (menu,) = await store(rig.app, wa("Menu utama", "Buat pengaduan", "Cek status"))
    assert menu.id in (await rig.app.delivery().deliver([menu])).retry
    clock.advance(timedelta(seconds=1))
    (question,) = await store(rig.app, wa("Di mana lokasinya?", "Lewati"))
    report = await rig.app.delivery().deliver([question])
    assert rig.api.to(SITI) == []  # not sent before the menu
    assert list(report.deferred) == [question.id]

    clock.advance(timedelta(minutes=2))
    report = await rig.app.delivery().deliver_due()
    assert report.sent == [menu.id, question.id]
    assert [s.text for s in rig.api.to(SITI)] == ["Menu utama", "Di mana lokasinya?"]


async def test_the_retry_loop_takes_a_chat_in_order_and_a_few_at_a_time(app: App, clock: FrozenClock) -> None:
    """claim_due skips a chat's message while an earlier one is not due, and takes at most `per_chat` of a chat."""
    a1, a2, b1 = await store(
        app, Outbound(console_key("a"), "x"), Outbound(console_key("a"), "y"), Outbound(console_key("b"), "z")
    )
    backlog = await store(app, *(Outbound(console_key("c"), f"n{i}") for i in range(10)))
    async with app.uow() as uow:
        await uow.outbox.mark_retry(a1.id, "429", clock.now() + timedelta(minutes=1))
        claimed = await uow.outbox.claim_due(clock.now(), CLAIM_LEASE, per_chat=3)
        await uow.commit()
    assert [due.message.id for due in claimed] == [b1.id, *(m.id for m in backlog[:3])]
    assert a2.id not in {due.message.id for due in claimed}


# --------------------------------------------------------------------------- stale replies


async def test_a_reply_overtaken_while_it_waited_is_dropped_as_stale(
    app: App, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A menu waiting minutes for its retry, with a later reply behind it, is dropped (STALE, listed, counted);
    the later reply and a notice of the same age are sent."""
    recorder = app.senders[ChannelName.CONSOLE]
    assert isinstance(recorder, RecordingSender)
    menu, notice = await store(
        app,
        Outbound(console_key("s"), "menu.intro"),
        Outbound(console_key("n"), "menu.intro", notice=NoticeKind.STAFF_UPDATE),
    )
    async with app.uow() as uow:
        for m in (menu, notice):
            await uow.outbox.mark_retry(m.id, "429 Too Many Requests", clock.now() + timedelta(minutes=6))
        await uow.commit()
    clock.advance(timedelta(minutes=1))
    question, later_notice = await store(
        app, Outbound(console_key("s"), "complaint.location.ask"), Outbound(console_key("n"), "menu.welcome")
    )
    clock.advance(STALE_AFTER + timedelta(minutes=1))
    report = await app.delivery().deliver_due()
    assert report.sent == [notice.id, question.id, later_notice.id]
    found = await statuses(app)
    assert found[menu.id] == OutboxStatus.STALE
    assert [m.text_key for m in recorder.sent if m.key == console_key("s")] == ["complaint.location.ask"]

    args = build_parser().parse_args(["outbox", "list", "--status", "stale", "--format", "json"])
    assert isinstance(args, argparse.Namespace)
    await cmd_outbox_list(app, args)
    listed = json.loads(capsys.readouterr().out)
    assert [(row["id"], row["status"]) for row in listed] == [(menu.id, "stale")]
    async with app.uow() as uow:
        counts = await uow.outbox.counts()
    app.metrics.set_outbox(counts, None, clock.now())
    exported = app.metrics.render().decode()
    assert 'suarawarga_outbox_backlog{status="stale"} 1.0' in exported
    assert 'suarawarga_send_failures_total{channel="console",reason="stale"} 1.0' in exported


async def test_a_reply_that_waited_but_is_the_latest_is_still_sent(app: App, clock: FrozenClock) -> None:
    """Nothing overtook it: after a long retry the chat's latest reply is sent, not dropped."""
    (menu,) = await store(app, Outbound(console_key("s"), "menu.intro"))
    async with app.uow() as uow:
        await uow.outbox.mark_retry(menu.id, "5xx", clock.now() + timedelta(minutes=10))
        await uow.commit()
    clock.advance(timedelta(minutes=11))
    assert (await app.delivery().deliver_due()).sent == [menu.id]


# --------------------------------------------------------------------------- the input limit


async def test_a_chat_writing_too_fast_gets_one_notice_and_the_rest_is_dropped_unread(
    app: App, api: FakeBotApi, clock: FrozenClock
) -> None:
    """Beyond 30 messages a minute a chat's updates are not parsed nor processed: one notice, counted in
    /metrics; another chat is served as usual, and a minute later the chat is heard again."""
    channel = telegram(app, api)
    async with running(app, [channel], retries=False) as run:

        async def send(user: User, text: str) -> None:
            update = api.user_sends_text(user, None, text)
            await run.inbox.accept(ChannelName.TELEGRAM, str(update["update_id"]), update)

        async def settle() -> None:
            while await run.inbox.drain():
                pass
            await run.pump.drain()

        for n in range(INPUT_PER_MINUTE + 5):
            await send(FLOODER, f"halo {n}")
        await send(QUIET, "halo")
        await settle()
        assert app.metrics.inbound.labels("telegram")._value.get() == INPUT_PER_MINUTE + 1
        notice = app.catalogue.render(NOTICE_KEY, "id")
        got = texts(api, FLOODER)
        assert got.count(notice) == 1
        assert got[-1] == notice
        exported = app.metrics.render().decode()
        assert 'suarawarga_input_dropped_total{channel="telegram"} 5.0' in exported
        assert texts(api, QUIET)
        async with app.uow() as uow:
            assert (await uow.inbox.counts()).get("pending", 0) == 0

        await send(FLOODER, "masih banjir")  # still within the minute: dropped, and no second notice
        await settle()
        assert texts(api, FLOODER) == got
        clock.advance(timedelta(seconds=61))
        await send(FLOODER, "halo lagi")
        await settle()
        assert len(texts(api, FLOODER)) > len(got)
        assert app.metrics.inbound.labels("telegram")._value.get() == INPUT_PER_MINUTE + 2
