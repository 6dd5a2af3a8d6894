"""A WhatsApp send the platform accepted but the sender never recorded is recognised by its echoed callback data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fakes.whatsapp_server import WaUser
from hypothesis import given
from hypothesis import strategies as st

from suarawarga.bootstrap import App
from suarawarga.bot.channels.whatsapp import whatsapp_channel
from suarawarga.bot.channels.whatsapp.callback import CALLBACK_MAX, IDS_MAX, callback_data, parse_echo
from suarawarga.bot.channels.whatsapp.channel import ECHO_GRACE
from suarawarga.bot.messages import ChannelName, Choice, ConversationKey, Outbound
from suarawarga.runtime import running
from suarawarga.storage.outbox import OutboxEntry
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

SITI = WaUser("6281234567890", "Siti")
HOLDER = "0/1"  # the shard name `running` holds and releases messages under


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running_rig:
        yield running_rig


def message(text: str, *labels: str, user: WaUser = SITI) -> Outbound:
    """Return an outbound whose text and choice labels are given literally (catalogue key "label")."""
    choices = tuple(Choice(f"c{i}", "label", {"label": label}) for i, label in enumerate(labels))
    return Outbound(ConversationKey(ChannelName.WHATSAPP, user.address), "label", {"label": text}, choices=choices)


async def open_window(rig: Rig) -> None:
    """Make both the product and the fake see a recent message from Siti."""
    now = rig.app.clock.now()
    async with rig.app.uow() as uow:
        await uow.contacts.note_contact(ChannelName.WHATSAPP, SITI.address, now)
        await uow.commit()
    rig.api.last_inbound[SITI.address] = now


async def store(app: App, *messages: Outbound, held: bool = False) -> list[Outbound]:
    """Write messages to the outbox (held by shard 0/1's pump, as the dispatcher writes them, if `held`)."""
    async with app.uow() as uow:
        hold = timedelta(minutes=1) if held else timedelta(0)
        stored = await uow.outbox.add_many(messages, app.clock.now(), hold, HOLDER if held else None)
        await uow.commit()
    return stored


async def entries(app: App) -> dict[str, OutboxEntry]:
    """Return every outbox row by id."""
    async with app.uow() as uow:
        return {e.id: e for e in await uow.outbox.listing(limit=1000)}


async def sent_unrecorded(rig: Rig, *messages: Outbound) -> list[Outbound]:
    """Store messages held by shard 0/1 and send them as its pump would, then "die" before recording the sends."""
    stored = await store(rig.app, *messages, held=True)
    report = await rig.channel.sender.send(stored)  # the platform accepted them; nothing reached the database
    assert report.sent == [m.id for m in stored]
    assert {e.status for e in (await entries(rig.app)).values()} == {"pending"}
    return stored


def test_callback_data_round_trips_and_stays_within_the_limit() -> None:
    """What the sender writes, the receiver reads back; the most ids a parcel carries fit Meta's 512 characters."""
    ids = [f"{n:016x}-{n:06x}-{n:012x}" for n in range(IDS_MAX)]
    data = callback_data(ids, 2, 3)
    assert len(data) <= CALLBACK_MAX
    echo = parse_echo(data)
    assert echo is not None and (echo.ids, echo.part, echo.parts, echo.last) == (tuple(ids), 2, 3, False)
    assert parse_echo(callback_data(ids[:1], 1, 1)) is not None


@given(st.one_of(st.text(max_size=600), st.integers(), st.none(), st.lists(st.text(max_size=5))))
def test_parsing_echoed_callback_data_never_fails(value: object) -> None:
    """Whatever comes back from the internet, parsing answers an echo or None and never raises."""
    echo = parse_echo(value)
    assert echo is None or (isinstance(value, str) and value.startswith("sw1:"))


async def test_every_send_carries_callback_data_naming_its_outbox_messages_and_part(rig: Rig) -> None:
    """A merged parcel names all its messages; a message sent in parts names each part; nothing else is in it."""
    await open_window(rig)
    merged = await store(rig.app, message("Terima kasih."), message("Setuju?", "Ya", "Tidak"))
    long_body = await store(rig.app, message("panjang " * 200, "Ya", "Tidak"))  # over 1 024: text, then buttons
    await rig.app.delivery().deliver([*merged, *long_body])
    sent = rig.api.to(SITI)
    assert [s.kind for s in sent] == ["button", "text", "button"]
    callbacks = [s.body["biz_opaque_callback_data"] for s in sent]
    assert callbacks == [
        f"sw1:{merged[0].id},{merged[1].id}:1/1",
        f"sw1:{long_body[0].id}:1/2",
        f"sw1:{long_body[0].id}:2/2",
    ]
    assert not any(SITI.address in c or "Setuju" in c for c in callbacks)  # no personal data, no text


async def test_an_accepted_send_never_recorded_is_not_sent_again_after_a_restart(
    rig: Rig, app: App, clock: FrozenClock
) -> None:
    """The killed run's send is marked sent by its echoed status; the restart waits for echoes, then sends the rest."""
    await open_window(rig)
    echoed, silent = await sent_unrecorded(rig, message("Pilih:", "Ya", "Tidak"), message("Nama Anda?", "Lewati"))
    # Meta's status webhooks come to a web process; the status of `silent`'s send never arrives.
    first, _ = rig.api.to(SITI)
    assert (await rig.api.post_status(first.wamid, "delivered", SITI)).status_code == 200
    rows = await entries(app)
    assert (rows[echoed.id].status, rows[echoed.id].platform_id) == ("sent", first.wamid)
    assert rows[echoed.id].platform_status == "delivered"
    assert rows[silent.id].status == "pending"

    channel = whatsapp_channel(app)  # the restarted process
    assert channel is not None
    async with running(app, [channel], retries=False):
        assert (await app.delivery().deliver_due()).sent == []  # the grace: echoes may still be on their way
        clock.advance(ECHO_GRACE)
        assert (await app.delivery().deliver_due()).sent == [silent.id]
    assert [s.body["biz_opaque_callback_data"] for s in rig.api.to(SITI)] == [
        f"sw1:{echoed.id}:1/1",
        f"sw1:{silent.id}:1/1",
        f"sw1:{silent.id}:1/1",  # sent again: no echo told of the first send
    ]


async def test_other_channels_are_released_at_once(rig: Rig, app: App) -> None:
    """Only a channel whose platform echoes sends waits: a console (or Telegram) message is due on restart."""
    await open_window(rig)
    (whatsapp,) = await store(app, message("Halo"), held=True)
    (console,) = await store(app, Outbound(ConversationKey(ChannelName.CONSOLE, "c1"), "menu.intro"), held=True)
    channel = whatsapp_channel(app)
    assert channel is not None
    async with running(app, [channel], retries=False), app.uow() as uow:
        due = [d.message.id for d in await uow.outbox.due(app.clock.now())]
        later = [d.message.id for d in await uow.outbox.due(app.clock.now() + ECHO_GRACE)]
    assert due == [console.id]
    assert sorted(later) == sorted([console.id, whatsapp.id])


async def test_an_answer_lost_after_acceptance_is_recorded_from_the_status(app: App, clock: FrozenClock) -> None:
    """The fake accepts, loses its answer (a 500) and posts the status itself: the retry sends nothing again."""
    async with whatsapp_rig(app, clock, statuses=True) as rig:
        await open_window(rig)
        rig.api.lose_next_answers(1)
        (stored,) = await store(app, message("Laporan diterima."))
        report = await app.delivery().deliver([stored])
        assert list(report.retry) == [stored.id]
        await rig.api.statuses_posted()
        assert (await entries(app))[stored.id].status == "sent"
        clock.advance(timedelta(minutes=5))
        assert (await app.delivery().deliver_due()).sent == []
        assert len(rig.api.to(SITI)) == 1


async def test_garbled_or_foreign_callback_data_is_ignored(rig: Rig, app: App) -> None:
    """Data this product did not write, an earlier part, a failure, another channel's id: 200, nothing changes."""
    await open_window(rig)
    (stored,) = await sent_unrecorded(rig, message("Pilih:", "Ya", "Tidak"))
    (console,) = await store(app, Outbound(ConversationKey(ChannelName.CONSOLE, "c1"), "menu.intro"))
    wamid = rig.api.to(SITI)[0].wamid
    garbled: list[object] = [
        {"ids": [stored.id]},
        12345,
        ["sw1", stored.id],
        "",
        f"sw2:{stored.id}:1/1",
        f"sw1:{stored.id}:1/2",  # an earlier part: the message did not go out whole
        f"sw1:{stored.id}:3/2",
        f"sw1:{stored.id}:0/0",
        f"sw1:{stored.id},{stored.id}:1/1",
        f"sw1:{stored.id}:1/1 ",
        f"sw1:{stored.id}';DROP TABLE outbox;--:1/1",
        f"sw1:{stored.id}:1/1" + "x" * CALLBACK_MAX,
        "sw1:ünïcode:1/1",
        f"sw1:{console.id}:1/1",  # another channel's message
        "sw1:" + ",".join(f"id{n}" for n in range(IDS_MAX + 1)) + ":1/1",
    ]
    for value in garbled:
        assert (await rig.api.post_status(wamid, "sent", SITI, callback=value)).status_code == 200
    assert (await rig.api.post_status(wamid, "failed", SITI, error_code=131026)).status_code == 200
    rows = await entries(app)
    assert (rows[stored.id].status, rows[stored.id].platform_id) == ("pending", None)
    assert rows[console.id].status == "pending"
    assert (await rig.api.post_status(wamid, "read", SITI)).status_code == 200  # the real echo
    assert (await entries(app))[stored.id].status == "sent"


async def test_a_status_before_the_record_keeps_its_progress(app: App) -> None:
    """Recording the same wamid after its echo keeps the status; a new wamid (a re-send) starts afresh."""
    (stored,) = await store(app, message("Halo"))
    now = app.clock.now()
    async with app.uow() as uow:
        assert await uow.outbox.mark_echoed(ChannelName.WHATSAPP, [stored.id], "wamid.A", "delivered", now) == 1
        assert await uow.outbox.mark_echoed(ChannelName.WHATSAPP, [stored.id], "wamid.A", "read", now) == 0
        await uow.outbox.mark_sent([stored.id], now, {stored.id: "wamid.A"})
        await uow.commit()
    row = (await entries(app))[stored.id]
    assert (row.status, row.platform_id, row.platform_status) == ("sent", "wamid.A", "delivered")
    assert row.attempts == 1  # one send, counted once (the echo and the record are the same attempt)
    async with app.uow() as uow:
        await uow.outbox.mark_sent([stored.id], now, {stored.id: "wamid.B"})
        await uow.commit()
    row = (await entries(app))[stored.id]
    assert (row.platform_id, row.platform_status) == ("wamid.B", None)


async def test_several_sends_are_recorded_together(app: App) -> None:
    """One record of several sends: each gets its own platform id (or none), a repeated id counts once."""
    first, second, third = await store(app, message("Satu"), message("Dua"), message("Tiga"))
    earlier, now = app.clock.now(), app.clock.now() + timedelta(seconds=5)
    async with app.uow() as uow:
        await uow.outbox.mark_sent([third.id], earlier, {third.id: "wamid.C"})
        await uow.commit()
    async with app.uow() as uow:
        ids = [first.id, second.id, first.id, third.id]
        await uow.outbox.mark_sent(ids, now, {first.id: "wamid.A", third.id: "wamid.C"})
        await uow.commit()
    rows = await entries(app)
    assert [(rows[m.id].status, rows[m.id].platform_id, rows[m.id].attempts) for m in (first, second, third)] == [
        ("sent", "wamid.A", 1),
        ("sent", None, 1),
        ("sent", "wamid.C", 1),  # recorded before: its time and count stay
    ]
    assert (rows[first.id].sent_at, rows[third.id].sent_at) == (now, earlier)


async def test_a_reopened_message_is_not_marked_sent_by_a_late_echo(app: App) -> None:
    """After a failed delivery reopened it, a late "sent" of the old send does not mark the message sent."""
    (stored,) = await store(app, message("Halo"))
    now = app.clock.now()
    async with app.uow() as uow:
        await uow.outbox.mark_sent([stored.id], now, {stored.id: "wamid.A"})
        await uow.outbox.reopen([stored.id], "131000", now)
        assert await uow.outbox.mark_echoed(ChannelName.WHATSAPP, [stored.id], "wamid.A", "sent", now) == 0
        await uow.commit()
    assert (await entries(app))[stored.id].status == "pending"
