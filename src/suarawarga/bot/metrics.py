"""Process metrics in the Prometheus text format, served at GET /metrics by `serve`.

Each App has its own registry (no global state), so tests and several apps in one process stay apart.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from suarawarga.bot.messages import OutboxStatus

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters, gauges and histograms SuaraWarga exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "suarawarga_inbound_processed", "Inbound messages processed", ["channel"], registry=self.registry
        )
        self.duplicates = Counter(
            "suarawarga_inbound_duplicates", "Inbound messages dropped as repeats", ["channel"], registry=self.registry
        )
        self.errors = Counter("suarawarga_errors", "Errors by kind", ["kind"], registry=self.registry)
        self.latency = Histogram(
            "suarawarga_processing_seconds",
            "Time from a message entering the dispatcher to its commit",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.send_failures = Counter(
            "suarawarga_send_failures",
            "Messages not sent, by channel and reason",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.sent = Counter("suarawarga_messages_sent", "Messages sent", ["channel"], registry=self.registry)
        self.outbox_backlog = Gauge(
            "suarawarga_outbox_backlog", "Outbox messages by delivery state", ["status"], registry=self.registry
        )
        self.outbox_oldest = Gauge(
            "suarawarga_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox message",
            registry=self.registry,
        )
        self.input_dropped = Counter(
            "suarawarga_input_dropped",
            "Inbound messages dropped unread because their chat wrote faster than the input limit",
            ["channel"],
            registry=self.registry,
        )
        self.inbox_backlog = Gauge(
            "suarawarga_inbox_pending", "Stored updates not yet processed", registry=self.registry
        )
        self.dead_letters = Counter(
            "suarawarga_inbound_dead_letters",
            "Stored updates given up on after their last attempt, by channel and stage (parse or process)",
            ["channel", "stage"],
            registry=self.registry,
        )
        self.too_old = Counter(
            "suarawarga_inbound_too_old",
            "Messages refused (acknowledged, not stored) because their own timestamp is older than the message log",
            ["channel"],
            registry=self.registry,
        )
        self.inbox_failed = Gauge(
            "suarawarga_inbox_failed",
            "Stored updates given up on and kept for inspection (`suarawarga inbox list --status failed`)",
            registry=self.registry,
        )

    def set_outbox(self, counts: dict[str, int], oldest: datetime | None, now: datetime) -> None:
        """Update the outbox gauges from a database reading."""
        for status in OutboxStatus:
            self.outbox_backlog.labels(status.value).set(counts.get(status.value, 0))
        self.outbox_oldest.set((now - oldest).total_seconds() if oldest is not None else 0)

    def render(self) -> bytes:
        """Return the metrics in the Prometheus text exposition format."""
        return generate_latest(self.registry)
