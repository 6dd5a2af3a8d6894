"""GET /metrics (Prometheus text) and GET /healthz of the running process, served through ASGI in the test's loop."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound, Outbound
from suarawarga.bot.metrics import LATENCY_BUCKETS
from suarawarga.bot.sender import Progress, SendReport
from suarawarga.runtime import Running, running, web_app
from suarawarga.storage.db import make_engine
from tests.conftest import PG_URL
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Refusing:
    """A sender whose platform refuses every message: it reports them unreachable (or failed)."""

    def __init__(self, reason: str = "unreachable") -> None:
        self.reason = reason
        self.seen: list[Outbound] = []

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Report every message as not sent."""
        self.seen += messages
        report = SendReport()
        error = "403 Forbidden: bot was blocked by the user"
        for message in messages:
            if self.reason == "retry":
                report.retry[message.id] = ("503 Service Unavailable", None)
            else:
                getattr(report, self.reason)[message.id] = error
        return report


@asynccontextmanager
async def served(app: App) -> AsyncIterator[tuple[Running, httpx.AsyncClient]]:
    """Run the process without channels (console replies still go out) and a client of its web app."""
    async with running(app, [], retries=False) as run:
        transport = httpx.ASGITransport(app=web_app(run))
        async with httpx.AsyncClient(transport=transport, base_url="http://suarawarga.test") as client:
            yield run, client


async def scrape(client: httpx.AsyncClient) -> Samples:
    """GET /metrics and return every sample by (name, sorted labels)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def inbound(channel: ChannelName, chat_id: str, text: str, external_id: str | None = None) -> Inbound:
    """Return a text message from a chat of a channel."""
    return Inbound(
        key=ConversationKey(channel, chat_id),
        external_id=external_id or uuid.uuid4().hex,
        received_at=FrozenClock().now(),
        sender_id=chat_id,
        text=text,
    )


async def test_metrics_count_messages_latency_backlog_and_send_failures(app: App, clock: FrozenClock) -> None:
    """Processed messages per channel, the latency histogram, the outbox by state and age, and failed sends."""
    refusing = Refusing()
    app.register_sender(ChannelName.WHATSAPP, refusing)
    async with served(app) as (run, client):
        empty = await scrape(client)
        assert empty[("suarawarga_outbox_backlog", (("status", "pending"),))] == 0
        assert empty[("suarawarga_outbox_oldest_pending_seconds", ())] == 0

        citizen = Conversation(run.dispatcher, clock, app.catalogue, "citizen-1")
        for line in ("/start", "bantuan", "menu"):
            assert await citizen.say(line)
        repeated = inbound(ChannelName.CONSOLE, "citizen-2", "halo", external_id="same-id")
        for _ in range(2):  # delivered twice: processed once
            await run.dispatcher.handle(repeated)
        await run.dispatcher.handle(inbound(ChannelName.TELEGRAM, "5001", "halo"))  # no Telegram sender here
        await run.dispatcher.handle(inbound(ChannelName.WHATSAPP, "6281234567890", "halo"))  # refused by Meta
        await run.pump.drain()
        clock.advance(timedelta(seconds=90))
        samples = await scrape(client)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("suarawarga_inbound_processed_total", channel="console") == 4
    assert value("suarawarga_inbound_processed_total", channel="telegram") == 1
    assert value("suarawarga_inbound_processed_total", channel="whatsapp") == 1
    assert value("suarawarga_inbound_duplicates_total", channel="console") == 1

    buckets = [value("suarawarga_processing_seconds_bucket", channel="console", le=str(b)) for b in LATENCY_BUCKETS]
    everything = value("suarawarga_processing_seconds_bucket", channel="console", le="+Inf")
    assert buckets == sorted(buckets)  # cumulative
    assert everything == value("suarawarga_processing_seconds_count", channel="console") == 4
    assert 0 < value("suarawarga_processing_seconds_sum", channel="console") < 60

    async with app.uow() as uow:
        counts = await uow.outbox.counts()
    assert counts["pending"] >= 1 and counts["unreachable"] == len(refusing.seen) >= 1
    for status in ("pending", "sent", "failed", "unreachable"):
        assert value("suarawarga_outbox_backlog", status=status) == counts.get(status, 0)
    assert value("suarawarga_outbox_oldest_pending_seconds") == 90  # the Telegram reply, waiting since then
    assert value("suarawarga_send_failures_total", channel="whatsapp", reason="unreachable") == len(refusing.seen)
    assert value("suarawarga_messages_sent_total", channel="console") == counts["sent"]
    assert ("suarawarga_send_failures_total", (("channel", "console"), ("reason", "failed"))) not in samples


@pytest.mark.parametrize("reason", ["failed", "retry"])
async def test_send_failures_are_counted_by_reason(app: App, clock: FrozenClock, reason: str) -> None:
    """A sender reporting a permanent failure or a retry is counted under that reason."""
    refusing = Refusing(reason)
    app.register_sender(ChannelName.WHATSAPP, refusing)
    async with served(app) as (run, client):
        await run.dispatcher.handle(inbound(ChannelName.WHATSAPP, "6281234567890", "halo"))
        await run.pump.drain()
        samples = await scrape(client)
    labels = (("channel", "whatsapp"), ("reason", reason))
    assert samples[("suarawarga_send_failures_total", labels)] == len(refusing.seen) >= 1
    status = "pending" if reason == "retry" else "failed"
    assert samples[("suarawarga_outbox_backlog", (("status", status),))] == len(refusing.seen)


async def test_healthz_is_503_while_the_database_is_unreachable(app: App, tmp_path: Path) -> None:
    """/healthz answers 200, then 503 when the database cannot be reached, and 200 again once it is back."""
    async with served(app) as (_run, client):
        healthy = await client.get("/healthz")
        assert (healthy.status_code, healthy.json()) == (200, {"status": "ok"})
        database = app.db
        url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere" if PG_URL else "sqlite+aiosqlite:///"
        unreachable = make_engine(url + ("" if PG_URL else str(tmp_path / "missing" / "dir" / "x.db")))
        app.db = unreachable
        try:
            down = await client.get("/healthz")
            assert (down.status_code, down.json()) == (503, {"status": "unavailable"})
        finally:
            app.db = database
            await unreachable.dispose()
        again = await client.get("/healthz")
        assert again.status_code == 200
