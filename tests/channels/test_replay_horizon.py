"""A WhatsApp delivery replayed after the message log was pruned is refused by its own timestamp, not processed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from suarawarga.bootstrap import App
from suarawarga.jobs.scheduler import JobName, run_job
from tests.fakes.whatsapp_server import WaUser
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
