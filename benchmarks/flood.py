"""Flood benchmark: how long quiet citizens wait for a reply while a few chats flood the bot (issue #12).

What runs (all on loopback, as in benchmarks/load.py, whose pieces it reuses): a fresh PostgreSQL database, the
fake Telegram Bot API and the fake WhatsApp Graph API of the test suite in this process, and one real
`python -m suarawarga serve` pointed at them. The product paces Telegram at its own rate (28 calls a second and
1 a second per private chat after a short burst), as it does against the real Bot API.

- `--flooders` chats (the first `--flood-whatsapp` of them on WhatsApp, the rest on Telegram) each send
  `--flood-messages` texts as fast as the webhook acknowledges them (at most `--flood-rate` a second per chat);
- meanwhile `--quiet` citizens (half on each channel), spread evenly over `--spread` seconds, each send one
  message ("/start" on Telegram, "halo" on WhatsApp) and wait for the bot's first reply.

It prints the quiet citizens' reply delay (from sending the update to the fake platform receiving the first
reply): p50, p90, p99 and max, per channel and overall; a citizen with no reply within `--max-wait` seconds counts
with the time it waited (so p99 is then a lower bound, marked ">="). It also prints how many replies the flooding
chats got, and the product's counter of messages dropped by the input limit, when it has one.

Run: `python -m benchmarks.flood --database-url postgresql+psycopg://postgres@127.0.0.1:5432/NAME` (the database
is dropped and created). Not a test: it prints figures; exit 1 when the p99 is not under `--target` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fakes import telegram_server as tg
from fakes import whatsapp_server as wa

from benchmarks.load import (
    SECRET,
    BotApi,
    GraphApi,
    ServeProcess,
    percentile,
    product_env,
    recreate_database,
    run_cli,
)
from benchmarks.load_http import HttpError, HttpPool
from benchmarks.workdir import run_in_workdir

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_flood"


@dataclass
class Chat:
    """A simulated chat: who it is, and when it sent its message and got the first reply (quiet ones)."""

    number: int
    channel: str
    chat_id: str
    telegram_user: tg.User | None = None
    whatsapp_user: wa.WaUser | None = None
    asked: float | None = None
    answered: float | None = None
    replies: int = 0


class FloodRun:
    """One run: fakes, one serve process, the flooding chats and the quiet citizens."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.telegram = BotApi(self._sent)
        self.whatsapp = GraphApi(self._sent)
        self.by_chat: dict[str, Chat] = {}
        self.flooders: list[Chat] = []
        self.quiet: list[Chat] = []
        self.pool: HttpPool | None = None
        self.acked = 0
        self.answered = asyncio.Event()  # set when the last quiet citizen got its reply

    def _sent(self, chat_id: str) -> None:
        chat = self.by_chat.get(chat_id)
        if chat is None:
            return
        chat.replies += 1
        if chat.asked is not None and chat.answered is None:
            chat.answered = time.monotonic()
            if all(c.answered is not None for c in self.quiet):
                self.answered.set()

    def make_chats(self) -> None:
        """Create the flooding chats and the quiet citizens (numbers apart, so chats never coincide)."""
        for n in range(self.args.flooders):
            channel = "whatsapp" if n < self.args.flood_whatsapp else "telegram"
            self.flooders.append(self._chat(900 + n, channel))
        for n in range(self.args.quiet):
            self.quiet.append(self._chat(n, "telegram" if n % 2 == 0 else "whatsapp"))

    def _chat(self, number: int, channel: str) -> Chat:
        if channel == "telegram":
            user = tg.User(710_000_000 + number, f"Warga{number}", language_code="id")
            chat = Chat(number, channel, str(user.id), telegram_user=user)
        else:
            wa_user = wa.WaUser(f"62813{number:08d}", f"Warga {number}")
            chat = Chat(number, channel, wa_user.address, whatsapp_user=wa_user)
        self.by_chat[chat.chat_id] = chat
        return chat

    def env(self) -> dict[str, str]:
        """Return the environment of the serve process: PostgreSQL and the two fakes."""
        env = product_env(self.args.database_url, self.telegram, self.whatsapp, self.workdir, "WARNING")
        if self.args.telegram_rate:
            env["SUARAWARGA_TELEGRAM_SEND_RATE"] = str(self.args.telegram_rate)
        return env

    def update_for(self, chat: Chat, text: str) -> bytes:
        """Return the webhook body of a text from a chat."""
        if chat.telegram_user is not None:
            self.telegram.user_sends_text(chat.telegram_user, None, text)
            return json.dumps(self.telegram.last_update).encode()
        if chat.whatsapp_user is None:
            raise RuntimeError("a chat without an account")
        return self.whatsapp.delivery(chat.whatsapp_user, "text", {"body": text})

    async def post(self, chat: Chat, text: str) -> None:
        """Deliver one update, retried until it gets 200 (as the platforms do)."""
        if self.pool is None:
            raise RuntimeError("not running")
        body = self.update_for(chat, text)
        if chat.channel == "telegram":
            path = "/telegram"
            headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET}
        else:
            path = "/whatsapp"
            headers = {"content-type": "application/json", "x-hub-signature-256": self.whatsapp.sign(body)}
        delay = 0.05
        while True:
            with contextlib.suppress(HttpError):
                if (await self.pool.request("POST", path, body, headers)).status == 200:
                    self.acked += 1
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def flood(self, chat: Chat) -> None:
        """Send the flood of one chat, back to back, at most --flood-rate a second."""
        gap = 1 / self.args.flood_rate if self.args.flood_rate > 0 else 0.0
        for n in range(self.args.flood_messages):
            began = time.monotonic()
            await self.post(chat, f"halo {n}")
            await asyncio.sleep(max(gap - (time.monotonic() - began), 0))

    async def ask(self, chat: Chat, at: float) -> None:
        """Wait until the citizen's moment, send one message, note when it was sent."""
        await asyncio.sleep(max(at - time.monotonic(), 0))
        chat.asked = time.monotonic()
        await self.post(chat, "/start" if chat.channel == "telegram" else "halo")

    async def metric(self, name: str) -> str:
        """Return the lines of /metrics that start with a metric name (empty when the product has none)."""
        if self.pool is None:
            return ""
        with contextlib.suppress(HttpError):
            answer = await self.pool.request("GET", "/metrics")
            lines = answer.body.decode(errors="replace").splitlines()
            found = [line for line in lines if line.startswith(name) and "_created" not in line]
            return ", ".join(found)
        return ""

    async def run(self) -> int:
        """Run the benchmark and print the figures; return 0 when the p99 target is met."""
        args = self.args
        self.make_chats()
        await recreate_database(args.database_url)
        async with self.telegram, self.whatsapp:
            env = self.env()
            await run_cli(env, self.workdir, "db", "upgrade")
            await run_cli(env, self.workdir, "seed")
            server = ServeProcess(0, 1, args.port, env, self.workdir)
            await server.start()
            self.pool = HttpPool([("127.0.0.1", args.port)], size=64, timeout=10)
            try:
                return await self._measure()
            finally:
                self.pool.close()
                await server.stop()

    async def _measure(self) -> int:
        args = self.args
        started = time.monotonic()
        print(
            f"flood: {len(self.flooders)} chats ({args.flood_whatsapp} WhatsApp) x {args.flood_messages} messages "
            f"(at most {args.flood_rate:g}/s each); quiet: {len(self.quiet)} citizens over {args.spread:g} s "
            f"from t={args.quiet_start:g} s; Telegram pacing "
            + (f"{args.telegram_rate}/s" if args.telegram_rate else "the product's own (28/s)"),
            flush=True,
        )
        floods = [asyncio.create_task(self.flood(c)) for c in self.flooders]
        step = args.spread / max(len(self.quiet), 1)
        asks = [self.ask(c, started + args.quiet_start + i * step) for i, c in enumerate(self.quiet)]
        await asyncio.gather(*asks)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.answered.wait(), args.max_wait)
        floods_done = all(f.done() for f in floods)
        for task in floods:
            task.cancel()
        now = time.monotonic()
        delays = {
            "telegram": [(c.answered or now) - (c.asked or now) for c in self.quiet if c.channel == "telegram"],
            "whatsapp": [(c.answered or now) - (c.asked or now) for c in self.quiet if c.channel == "whatsapp"],
        }
        unanswered = sum(c.answered is None for c in self.quiet)
        every = delays["telegram"] + delays["whatsapp"]
        bound = ">=" if unanswered else ""
        print("=" * 78)
        for name, values in (*delays.items(), ("all", every)):
            if values:
                print(
                    f"quiet reply delay {name:8}: p50 {percentile(values, 0.5):6.2f} s, "
                    f"p90 {percentile(values, 0.9):6.2f} s, p99 {bound}{percentile(values, 0.99):6.2f} s, "
                    f"max {bound}{max(values):6.2f} s ({len(values)} citizens)"
                )
        print(f"quiet citizens without a reply after {args.max_wait:g} s: {unanswered}")
        print(
            "flooding chats: "
            + ", ".join(f"{c.channel} {c.number}: {c.replies} replies" for c in self.flooders)
            + ("" if floods_done else " (flood still being sent when the quiet citizens were done)")
        )
        print(f"updates acknowledged: {self.acked} in {time.monotonic() - self._t0(now):.1f} s")
        dropped = await self.metric("suarawarga_input_dropped")
        print(f"input limit (/metrics): {dropped or 'nothing dropped (or no such metric)'}")
        p99 = percentile(every, 0.99)
        met = not unanswered and p99 < args.target
        print(f"target: {'met' if met else 'NOT met'} (p99 quiet reply delay < {args.target:g} s)")
        print("=" * 78)
        return 0 if met else 1

    def _t0(self, now: float) -> float:
        asked = [c.asked for c in self.quiet if c.asked is not None]
        return min(asked, default=now)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.flood",
        description="Reply delay of quiet citizens while a few chats flood the real `suarawarga serve` "
        "(fake platforms on loopback, PostgreSQL).",
    )
    parser.add_argument("--database-url", default=DEFAULT_DB, help=f"dropped and created (default: {DEFAULT_DB})")
    parser.add_argument("--flooders", type=int, default=5, help="flooding chats (default: 5)")
    parser.add_argument("--flood-whatsapp", type=int, default=1, help="of them on WhatsApp (default: 1)")
    parser.add_argument("--flood-messages", type=int, default=300, help="messages per flooding chat (default: 300)")
    parser.add_argument("--flood-rate", type=float, default=20, help="messages/s per flooding chat (default: 20)")
    parser.add_argument("--quiet", type=int, default=100, help="quiet citizens, half on each channel (default: 100)")
    parser.add_argument("--quiet-start", type=float, default=3, help="seconds after the flood starts (default: 3)")
    parser.add_argument("--spread", type=float, default=20, help="seconds the quiet citizens spread over")
    parser.add_argument("--max-wait", type=float, default=150, help="seconds to wait for the last reply")
    parser.add_argument("--target", type=float, default=2.0, help="p99 target in seconds (default: 2)")
    parser.add_argument("--telegram-rate", type=int, default=0, help="Bot API calls/s (default 0: the product's)")
    parser.add_argument("--port", type=int, default=18380, help="port of the serve process (default: 18380)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (serve log) afterwards")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_]+", args.database_url.rsplit("/", 1)[-1]):
        parser.error("the database name must be letters, digits and _")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    args = parse_args(argv)
    return run_in_workdir("suarawarga-flood-", args.keep, lambda workdir: FloodRun(args, workdir).run())


if __name__ == "__main__":
    sys.exit(main())
