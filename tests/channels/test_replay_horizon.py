"""A WhatsApp delivery replayed after the message log was pruned is refused by its own timestamp, not processed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fakes.whatsapp_server import WaUser

from suarawarga.bootstrap import App
from suarawarga.jobs.scheduler import JobName, run_job
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

CITIZEN = WaUser("6281234500001", "Warga")


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


async def test_a_replay_after_the_pruning_is_acknowledged_and_dropped(rig: Rig, app: App, clock: FrozenClock) -> None:
    """The same signed bytes posted again after 31 days (message log: 30) get 200, are not stored nor answered."""
    delivery = await rig.api.user_sends_text(CITIZEN, "menu")
    await rig.settle()
    received = len(rig.api.to(CITIZEN))
    assert received > 0
    clock.advance(timedelta(days=app.settings.message_log_days, hours=1))
    await run_job(app, JobName.RETENTION)
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {}  # the log that stopped replays is gone
    replayed = await rig.api.replay(delivery)
    assert replayed.status == 200
    await rig.settle()
    assert len(rig.api.to(CITIZEN)) == received  # not answered again
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {}  # not even stored
    assert 'suarawarga_inbound_too_old_total{channel="whatsapp"} 1.0' in app.metrics.render().decode()


async def test_messages_inside_the_horizon_are_taken(rig: Rig, app: App, clock: FrozenClock) -> None:
    """A message whose timestamp is 29 days old (Meta retries for up to 7 days) is still stored and answered."""
    old = int((clock.now() - timedelta(days=app.settings.message_log_days - 1)).timestamp())
    message = {
        "id": "wamid.OLD1",
        "from": CITIZEN.wa_id,
        "timestamp": str(old),
        "type": "text",
        "text": {"body": "menu"},
    }
    body = json.dumps(rig.api.envelope({"contacts": [{"wa_id": CITIZEN.wa_id}], "messages": [message]})).encode()
    assert (await rig.api.post(body)).status_code == 200
    await rig.settle()
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"done": 1}
    assert await rig.keys(CITIZEN.address)


async def test_a_telegram_message_older_than_the_horizon_is_acknowledged_and_dropped(app: App) -> None:
    """The same class on Telegram: a captured webhook request replayed after the pruning is not processed."""
    from tests.channels.test_poison_ids import tg_message
    from tests.channels.test_telegram_e2e import SECRET, product

    async with product(app, "webhook") as world, httpx.AsyncClient() as http:
        world.channel.horizon = timedelta(days=app.settings.message_log_days)
        world.channel.metrics = app.metrics
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        now = app.clock.now()
        old = tg_message(7001, 5001)
        old["message"]["date"] = int((now - timedelta(days=app.settings.message_log_days, hours=1)).timestamp())
        recent = tg_message(7002, 5001)
        recent["message"]["date"] = int((now - timedelta(days=1)).timestamp())
        assert (await http.post(world.webhook_url, json=old, headers=headers)).status_code == 200
        assert (await http.post(world.webhook_url, json=recent, headers=headers)).status_code == 200
        async with app.uow() as uow:
            assert sum((await uow.inbox.counts()).values()) == 1  # only the recent one was stored
    assert 'suarawarga_inbound_too_old_total{channel="telegram"} 1.0' in app.metrics.render().decode()
