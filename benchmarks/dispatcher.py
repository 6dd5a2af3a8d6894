"""Dispatcher throughput: SuaraWarga's engine on SQLite and PostgreSQL beside a PTB baseline.

Workload, the same on both sides: 1 000 chats each send 20 messages ("/start", then 19 texts) through a
three-state conversation (A -> B -> C -> A), each message answered with one text.

- SuaraWarga: the full engine — dedupe row, state load and save, reply written to the outbox and committed,
  then handed to a sender that discards it, and the outbox row marked sent. Messages of different chats are
  submitted concurrently (as a webhook burst would arrive), so group commit batches them; every message's
  effects are committed before its reply is handed over.
- Baseline: python-telegram-bot 22's own `ConversationHandler` with three states and in-memory state, fed the
  same updates through `Application.process_update`, with `reply_text` going through a stubbed request
  (no network: the stub answers like the Bot API).

Run: `python -m benchmarks.dispatcher [--chats 1000 --messages 20] [--postgres URL | --no-postgres]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from suarawarga.bootstrap import build
from suarawarga.bot.conversation import END, ConversationEngine, Flow, Step, Turn
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound, Outbound
from suarawarga.bot.sender import Progress, SendReport
from suarawarga.config import Settings
from suarawarga.storage.db import make_engine
from suarawarga.storage.orm import Base

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_bench"


class BenchStep(StrEnum):
    """The three states."""

    A = "a"
    B = "b"
    C = "c"


async def _noop_prompt(turn: Turn) -> None:
    return None


def _step(reply: str, following: BenchStep) -> Step:
    async def handle(turn: Turn) -> str:
        turn.reply("label", label=reply)
        return following

    return Step(_noop_prompt, handle)


async def _start(turn: Turn, _args: str) -> str:
    turn.reply("label", label="state A")
    turn.start_flow("bench")
    return END


BENCH_FLOW = Flow(
    name="bench",
    first=BenchStep.A,
    steps={
        BenchStep.A: _step("state B", BenchStep.B),
        BenchStep.B: _step("state C", BenchStep.C),
        BenchStep.C: _step("state A", BenchStep.A),
    },
)


def bench_engine() -> ConversationEngine:
    """Return an engine with only the three-state flow."""
    return ConversationEngine(flows={"bench": BENCH_FLOW}, commands={"start": _start}, keywords={}, idle=_start)


class DiscardingSender:
    """A sender that accepts everything (the network is not what is measured)."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Count the messages and report them sent."""
        self.count += len(messages)
        return SendReport(sent=[m.id for m in messages])


def _inbounds(chats: int, per_chat: int) -> list[Inbound]:
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    out: list[Inbound] = []
    for n in range(per_chat):
        for chat in range(chats):
            key = ConversationKey(ChannelName.TELEGRAM, str(100000 + chat))
            if n == 0:
                out.append(Inbound(key=key, external_id=f"{chat}-{n}", received_at=now, command="start"))
            else:
                out.append(Inbound(key=key, external_id=f"{chat}-{n}", received_at=now, text=f"message {n}"))
    return out


async def _reset(url: str) -> None:
    if url.startswith("postgresql"):
        admin = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
        name = make_url(url).database
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})).first()
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def run_suarawarga(url: str, chats: int, per_chat: int, in_flight: int = 0) -> tuple[float, int, int]:
    """Return (messages/s, replies, outbox rows sent) for the full engine; in_flight > 0 caps concurrency."""
    await _reset(url)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, database_url=url, attachments_dir=Path(folder))  # type: ignore[call-arg]
        sender = DiscardingSender()
        app = build(settings, senders={ChannelName.TELEGRAM: sender})
        app.conversations = bench_engine()
        inbounds = _inbounds(chats, per_chat)
        try:
            async with app.dispatcher() as dispatcher:
                started = time.perf_counter()
                if in_flight <= 0:
                    # Each chat's messages in order; all chats at once, like a burst of webhook deliveries.
                    results = await dispatcher.handle_many(inbounds)
                else:
                    gate = asyncio.Semaphore(in_flight)

                    async def one(inbound: Inbound) -> list[Outbound]:
                        async with gate:
                            return await dispatcher.handle(inbound)

                    results = list(await asyncio.gather(*(one(i) for i in inbounds)))
                elapsed = time.perf_counter() - started
            async with app.uow() as uow:
                counts = await uow.outbox.counts()
        finally:
            await app.aclose()
    replies = sum(len(r) for r in results)
    return len(inbounds) / elapsed, replies, counts.get("sent", 0)


async def run_ptb(chats: int, per_chat: int) -> tuple[float, int]:
    """Return (messages/s, replies) for PTB's ConversationHandler, in-memory state, stubbed network."""
    from telegram import Update
    from telegram.ext import (
        Application,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
        MessageHandler,
        filters,
    )
    from telegram.request import BaseRequest, RequestData

    sent = 0

    class StubRequest(BaseRequest):
        """Answers Bot API calls locally, as the real API would."""

        @property
        def read_timeout(self) -> float | None:
            """No timeout: nothing is read from a network."""
            return None

        async def initialize(self) -> None:
            """Nothing to open."""

        async def shutdown(self) -> None:
            """Nothing to close."""

        async def do_request(
            self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
        ) -> tuple[int, bytes]:
            """Return a getMe or sendMessage result."""
            nonlocal sent
            if url.endswith("getMe"):
                result: dict[str, Any] = {
                    "id": 1,
                    "is_bot": True,
                    "first_name": "Bench",
                    "username": "bench_bot",
                }
            else:
                sent += 1
                params = request_data.parameters if request_data else {}
                result = {
                    "message_id": sent,
                    "date": 0,
                    "chat": {"id": params.get("chat_id", 0), "type": "private"},
                    "text": params.get("text", ""),
                }
            return 200, json.dumps({"ok": True, "result": result}).encode()

    def reply(answer: str, following: int) -> Any:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            if update.message is not None:
                await update.message.reply_text(answer)
            return following

        return handle

    application = (
        Application.builder().token("123456:BENCH").request(StubRequest()).get_updates_request(StubRequest()).build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", reply("state A", 0))],
            states={
                0: [MessageHandler(filters.TEXT & ~filters.COMMAND, reply("state B", 1))],
                1: [MessageHandler(filters.TEXT & ~filters.COMMAND, reply("state C", 2))],
                2: [MessageHandler(filters.TEXT & ~filters.COMMAND, reply("state A", 0))],
            },
            fallbacks=[],
        )
    )
    await application.initialize()
    updates = []
    update_id = 0
    for n in range(per_chat):
        for chat in range(chats):
            update_id += 1
            body = "/start" if n == 0 else f"message {n}"
            message: dict[str, Any] = {
                "message_id": update_id,
                "date": 1_700_000_000,
                "chat": {"id": 100000 + chat, "type": "private"},
                "from": {"id": 100000 + chat, "is_bot": False, "first_name": "Warga"},
                "text": body,
            }
            if n == 0:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
            updates.append(Update.de_json({"update_id": update_id, "message": message}, application.bot))
    started = time.perf_counter()
    for update in updates:
        await application.process_update(update)
    elapsed = time.perf_counter() - started
    await application.shutdown()
    return len(updates) / elapsed, sent


async def main(argv: list[str] | None = None) -> None:
    """Run both sides and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20, help="messages per chat")
    parser.add_argument("--postgres", default=os.environ.get("SUARAWARGA_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=50,
        help="also measure with at most this many messages in flight (0: skip)",
    )
    args = parser.parse_args(argv)
    total = args.chats * args.messages
    print(f"workload: {args.chats} chats x {args.messages} messages = {total} inbound messages, 3-state flow")
    ptb_rate, ptb_sent = await run_ptb(args.chats, args.messages)
    print(f"baseline  PTB 22 ConversationHandler (in-memory): {ptb_rate:9.0f} msg/s  replies={ptb_sent}")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        targets = [("SQLite (file, WAL)", sqlite_url, 0.5)]
        if not args.no_postgres:
            targets.append(("PostgreSQL", args.postgres, 0.25))
        for label, url, target in targets:
            for in_flight in [0] + ([args.in_flight] if args.in_flight > 0 else []):
                rate, replies, marked = await run_suarawarga(url, args.chats, args.messages, in_flight)
                burst = "all at once" if in_flight == 0 else f"<= {in_flight} in flight"
                print(
                    f"SuaraWarga {label:<19} {burst:<17} {rate:9.0f} msg/s  replies={replies} "
                    f"outbox sent={marked}  ratio={rate / ptb_rate:.2f} (target >= {target})"
                )


if __name__ == "__main__":
    asyncio.run(main())
