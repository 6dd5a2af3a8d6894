"""Load and fault benchmark: 1 000 citizens file complaints through the real `suarawarga serve` over HTTP.

What runs (all on loopback):

- a fresh PostgreSQL database (dropped and created), `suarawarga db upgrade` and `suarawarga seed`;
- the fake Telegram Bot API and the fake WhatsApp Graph API of the test suite, in this process: they receive the
  product's replies, check them like the platforms do, and tell the citizens what they got;
- N real `python -m suarawarga serve --no-setup [--shard i/N]` processes, pointed at the fakes, "behind one address"
  by client-side round robin: each webhook request goes to the next process in turn (as an nginx upstream does);
  or, with `--accept A`, the split layout: A `serve --accept-only` processes take the webhooks (store, answer 200)
  and N `process [--shard i/N]` processes work off the inbox and send the replies (`--nice 10` runs them at a
  lower CPU priority, as the README's production layout does, so that acknowledgements never wait behind them);
- the citizens: half on Telegram (secret-bearing updates POSTed to /telegram), half on WhatsApp (deliveries signed
  with X-Hub-Signature-256 POSTed to /whatsapp). Each follows the complaint flow of the e2e tests: menu, consent,
  category, description, no location, kecamatan unknown, no photo, rahasia, name, no contact, send: 12 updates.

Two ways to drive them (`--mode`):

- `closed` (default): as a person does, a citizen sends its next message only once the fake platform received the
  bot's reply to the previous one (Telegram citizens press the inline buttons of the messages they got). The
  updates/s figure is then what the whole pipeline sustains: acknowledgement, processing and the reply.
- `paced`: every citizen sends its 12 updates one after the other (each after the previous one was acknowledged,
  so the platform's order holds), all citizens together limited to `--rate` updates/s; replies are checked at the
  end. This measures acknowledgement under a fixed offered load, whatever the processing keeps up with.

Closed is the default because it is what 1 000 people do, and it needs no trick: a Telegram citizen presses the
button of the message it really got. It is not slow: the fakes wake each citizen as soon as its reply arrives,
so the server, not the clients, sets the pace. Two things of the real platforms are kept: the product's own
pacing per Telegram chat (a burst of 4, then 1 message a second), so a Telegram citizen needs at least ~9 s for
its 13 replies; and the pacing overall, which the benchmark raises from Telegram's 28/s to `--telegram-rate`
(SUARAWARGA_TELEGRAM_SEND_RATE) because the fake has no such limit and 6 500 replies at 28/s would take 4 minutes.

A delivery is retried (after 0.05-1 s) until it gets 200, as Telegram and Meta do; `--dup K` sends every delivery K
times at once. Faults, each at the middle of the run (half of all updates acknowledged): `--kill` SIGKILLs one serve
process and starts it again (`--kill process`: one `process` process of the split layout); `--pg-restart` restarts
PostgreSQL; `--platform-errors` makes both fakes answer 429/5xx for `--outage` seconds. With `--kill` the fake Graph
API also posts Meta's `sent` status webhook of every accepted send (to the first web process), echoing the send's
`biz_opaque_callback_data`, as Meta does. After the last update the benchmark waits until the outbox is drained
(nothing pending) and checks: complaints stored per citizen (query), the confirmation replies the fakes received,
and each citizen's received replies against the expected sequence (every reply exactly once, in order).

Besides acknowledgements it prints how fast the updates were processed (first stored to last processed, from the
inbox table), the CPU seconds of each product process, the CPU milliseconds per processed update, and the Bot API
calls the fake received.

And the latency a citizen feels: for every update, the time from the moment the benchmark POSTed its webhook to the
moment the fake platform (in this process) received the bot's first reply to it, p50/p90/p99 per channel and
overall (`reply_ms` in `--json`). The first reply to an update is found in the chat's transcript by its catalogue
key, so a later or repeated reply never counts. Only first replies count because the product paces each Telegram
private chat (a burst of 4, then 1 a second), which can hold a chat's later replies back; the run also says how
many Telegram first replies went out with the chat's burst used up (then the wait is the pacing's, not the
pipeline's). Issue #17 asks for p50 < 30 ms at 100 updates/s: `--mode paced --rate 100` with enough citizens that
each sends less than once a second (1 000 citizens: one update each 10 s). `benchmarks/process_memory.py` measures
the other figure of that issue, the RSS of one `process` holding 10 000 conversations mid-flow.

The peer (`--baseline ptb`): after SuaraWarga's run, the same citizens (the run is then Telegram only) follow the
same script against what a team would otherwise deploy, `benchmarks/ptb_baseline.py` in its own process: a
python-telegram-bot `Application` (its defaults: HTTPXRequest, one update at a time as `ConversationHandler` asks;
`--baseline-concurrency N` for N at once) behind a minimal Starlette webhook that puts updates on
`application.update_queue`, a 3-state `ConversationHandler` with its state in memory, the same texts, keyboards and
Bot API calls per update (a button press is answered and its question's keyboard removed), on a fresh fake Bot API
of the same kind. Its figures are measured the same way (processed: first received to last processed, reported by
the bot at GET /stats; CPU from /proc), and the run ends with SuaraWarga's processed/s divided by the baseline's,
and the CPU per processed update of each. SuaraWarga paces each private chat (a burst of 4, then 1 message a
second) and the baseline does not: with few citizens SuaraWarga is bound by that pacing (the comparison prints the
bound), so compare at 1 000 citizens. `--telegram-request httpx,tuned` runs SuaraWarga once with each Bot API client
(SUARAWARGA_TELEGRAM_REQUEST, on a fresh database each time) before the baseline, so that the tuned client's
before/after and the ratio come from one run. `--whatsapp-client httpx,tuned` does the same for the Graph API
client (SUARAWARGA_WHATSAPP_CLIENT; e.g. with `--only whatsapp`); given both, every pair is run.

Run: `python -m benchmarks.load [--citizens 1000] [--processes N] [--accept A --nice 10] [--mode paced --rate R]
[--dup 3 | --kill [process] | --pg-restart | --platform-errors]`; `--help` lists everything. The baseline:
`python -m benchmarks.load --citizens 1000 --accept 1 --processes 1 --nice 10 --baseline ptb
[--telegram-request httpx,tuned]` (faults and `--dup` are refused with it). Needs the test extra (the fakes live in
fakes/) and a PostgreSQL server the benchmark may create databases on. Not a test: it prints figures, and exits 1
when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import math
import os
import re
import signal
import string
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from fakes import telegram_server as tg
from fakes import whatsapp_server as wa
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from benchmarks.load_http import HttpError, HttpPool
from benchmarks.workdir import run_in_workdir
from suarawarga.bot.channels.telegram.pacing import Limits
from suarawarga.bot.texts import Catalogue

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_load"
SECRET = "load_Bench-secret_0123456789"  # noqa: S105 (the fake platforms' webhook secret)
SENDS = ("sendMessage", "sendPhoto", "sendDocument")
TAG = "uji beban"  # marks the benchmark's complaints (with the citizen's number) in their description
JSON = dict[str, Any]


# --------------------------------------------------------------------------- the script a citizen follows


@dataclass(frozen=True)
class Act:
    """What a citizen does at one step: type a text, or press the button (choice id) of the message it got."""

    text: str | None = None
    choice: str | None = None
    typed: str | None = None  # what a Telegram citizen types instead of pressing, in paced mode


@dataclass(frozen=True)
class Step:
    """One step of the complaint flow on each channel, and the catalogue keys of the replies it brings."""

    telegram: Act
    whatsapp: Act
    expect: tuple[str, ...]
    whatsapp_expect: tuple[str, ...] | None = None  # when WhatsApp answers with other texts

    def replies(self, channel: str) -> tuple[str, ...]:
        """Return the keys of the replies on a channel."""
        return self.whatsapp_expect if channel == "whatsapp" and self.whatsapp_expect else self.expect


DESCRIPTION = "Lampu jalan mati dan jalan berlubang di gang depan rumah saya ({tag} {n})"
NAME = "Warga Uji {n}"


def script() -> list[Step]:
    """Return the flow of tests/channels/test_*_e2e.py, reduced to what a load test needs (no photo, no place)."""
    both = Act
    return [
        # /start greets; a first "halo" on WhatsApp gets the menu without the welcome line.
        Step(both(text="/start"), both(text="halo"), ("menu.welcome",), ("menu.intro",)),
        Step(both(choice="cmd:pengaduan", typed="1"), both(choice="cmd:pengaduan"), ("privacy.notice",)),
        Step(
            both(choice="consent:yes", typed="1"),
            both(choice="consent:yes"),
            ("privacy.thanks", "complaint.category.ask"),
        ),
        # 18 categories: buttons on Telegram, a numbered text menu on WhatsApp (more than 10 rows).
        Step(both(choice="cat:jalan_rusak", typed="1"), both(text="1"), ("complaint.description.ask",)),
        Step(both(text=DESCRIPTION), both(text=DESCRIPTION), ("complaint.location.ask",)),
        # Telegram: the reply keyboard's text button; WhatsApp: the reply button.
        Step(both(text="Tanpa lokasi"), both(choice="loc:skip"), ("complaint.kecamatan.ask",)),
        Step(both(choice="kec:unknown", typed="Tidak tahu"), both(text="Tidak tahu"), ("complaint.photos.ask",)),
        Step(both(choice="photos:done", typed="Selesai"), both(choice="photos:done"), ("complaint.identity.ask",)),
        Step(both(choice="id:rahasia", typed="Rahasia"), both(choice="id:rahasia"), ("complaint.name.ask",)),
        Step(both(text=NAME), both(text=NAME), ("complaint.contact.ask",)),
        Step(both(choice="contact:skip", typed="Lewati"), both(choice="contact:skip"), ("complaint.summary",)),
        Step(both(choice="confirm:send", typed="Kirim"), both(choice="confirm:send"), ("complaint.filed",)),
    ]


# Replies that must never come in this flow; they are recognised so that the report can name them.
UNWANTED = ("error.generic", "menu.intro", "complaint.limit", "input.pick_button", "complaint.category.pick")


def fragments(catalogue: Catalogue, keys: Sequence[str]) -> dict[str, str]:
    """Return, per key, a piece of its Indonesian text without placeholders that identifies it in a message."""
    found: dict[str, str] = {}
    for key in keys:
        raw = catalogue.raw(key, "id")
        pieces = [literal.strip() for literal, *_ in string.Formatter().parse(raw)]
        found[key] = max(pieces, key=len)
    return found


def recognise(text: str, known: dict[str, str]) -> list[str]:
    """Return the keys whose texts a message contains, in order (a text quoted inside a longer one is not counted)."""
    spans: list[tuple[int, int, str]] = []
    for key, fragment in known.items():
        start = text.find(fragment)
        while start >= 0:
            spans.append((start, start + len(fragment), key))
            start = text.find(fragment, start + 1)
    inner = {
        (a, b, k) for a, b, k in spans for c, d, other in spans if other != k and c <= a and b <= d and d - c > b - a
    }
    return [k for _, _, k in sorted(set(spans) - inner)] or ["?"]


# --------------------------------------------------------------------------- the fake platforms


class BotApi(tg.FakeBotApi):
    """The fake Bot API, telling the benchmark about every message sent, and able to fail for a while."""

    def __init__(self, on_send: Callable[[str], None]) -> None:
        super().__init__(enforce_limits=False)
        self.on_send = on_send
        self.outage_until = 0.0
        self.injected: Counter[int] = Counter()
        self._codes = itertools.cycle((429, 502, 500))
        self.last_update: JSON = {}

    def _push_update(self, kind: str, payload: JSON) -> JSON:
        # The benchmark delivers updates itself (webhook mode, no setWebhook): nothing is queued for getUpdates.
        self.last_update = {"update_id": next(self._update_ids), kind: json.loads(json.dumps(payload))}
        return self.last_update

    def _record(self, chat: tg.Chat, method: str, params: JSON, **details: Any) -> None:
        super()._record(chat, method, params, **details)
        if method in SENDS:
            self.on_send(str(chat.id))

    async def _endpoint(self, request: Request) -> Response:
        if time.monotonic() < self.outage_until and request.url.path.startswith("/bot"):
            code = next(self._codes)
            self.injected[code] += 1
            texts = {429: "Too Many Requests: retry after 1", 502: "Bad Gateway", 500: "Internal Server Error"}
            error = tg.ApiError(code, texts[code], 1 if code == 429 else None)
            return JSONResponse(error.to_json(), status_code=code)
        return await super()._endpoint(request)

    def transcript(self, chat_id: str) -> list[str]:
        """Return the texts of the messages the bot sent to a chat, in order."""
        return [str(r["text"] or r["caption"] or "") for r in self.sent(int(chat_id)) if r["method"] in SENDS]

    def press(self, user: tg.User, choice: str) -> JSON | None:
        """Press the button `choice` on the newest message of the chat that still shows it; None if none does."""
        for record in reversed(self.sent(user.id)):
            message = self.message(user.id, record["message_id"]) if record["method"] in SENDS else None
            rows = (message or {}).get("reply_markup", {}).get("inline_keyboard", [])
            if any(button.get("callback_data") == choice for row in rows for button in row):
                self.user_presses_button(user, None, record["message_id"], choice)
                return self.last_update
        return None


class GraphApi(wa.FakeGraphApi):
    """The fake Graph API, telling the benchmark about every message sent, and able to fail for a while."""

    def __init__(self, on_send: Callable[[str], None]) -> None:
        super().__init__(lambda: datetime.now(UTC))
        self.on_send = on_send
        self.outage_until = 0.0
        self.injected: Counter[int] = Counter()
        self._codes = itertools.cycle(((130429, 429), (131000, 500)))

    async def _messages(self, request: Request) -> Response:
        if time.monotonic() < self.outage_until:
            code, status = next(self._codes)
            self.injected[status] += 1
            return self._refuse(wa.MetaError(code, "injected by the load benchmark", status))
        response = await super()._messages(request)
        if response.status_code == 200:
            self.on_send(str(json.loads(bytes(response.body))["contacts"][0]["input"]))
        return response

    def transcript(self, chat_id: str) -> list[str]:
        """Return the texts of the messages the business sent to a user, in order."""
        return [sent.text for sent in self.sent.get(chat_id, [])]

    def delivery(self, user: wa.WaUser, kind: str, content: JSON, context: str | None = None) -> bytes:
        """Return the bytes of Meta's webhook delivery of a message from a user (not sent: the caller posts it)."""
        now = self.clock()
        wamid = f"wamid.IN{next(self._ids):012d}"
        message: JSON = {"id": wamid, "timestamp": str(int(now.timestamp())), "type": kind, kind: content}
        message["from"] = user.wa_id
        if context is not None:
            message["context"] = {"from": wa.DISPLAY_NUMBER, "id": context}
        self.last_inbound[user.address] = now
        contact = {"profile": {"name": user.name}, "wa_id": user.wa_id}
        return json.dumps(self.envelope({"contacts": [contact], "messages": [message]})).encode()

    def tap(self, user: wa.WaUser, choice: str) -> bytes:
        """Tap the reply button or list row `choice` of the newest message that has it (or answer it blind)."""
        for sent in reversed(self.sent.get(user.address, [])):
            titles = dict(sent.choices)
            if choice in titles and sent.kind in ("button", "list"):
                kind = "button_reply" if sent.kind == "button" else "list_reply"
                reply = {"type": kind, kind: {"id": choice, "title": titles[choice]}}
                return self.delivery(user, "interactive", reply, context=sent.wamid)
        reply = {"type": "button_reply", "button_reply": {"id": choice, "title": choice[:20]}}
        return self.delivery(user, "interactive", reply)


# --------------------------------------------------------------------------- citizens


@dataclass
class Citizen:
    """One simulated citizen and what happened to it."""

    number: int
    channel: str  # "telegram" or "whatsapp"
    chat_id: str
    telegram_user: tg.User | None = None
    whatsapp_user: wa.WaUser | None = None
    step: int = 0  # steps whose update was acknowledged
    stuck: str | None = None  # why the citizen stopped before the end
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def fill(self, text: str) -> str:
        """Fill the citizen's number into a scripted text."""
        return text.format(tag=TAG, n=self.number)


@dataclass
class Replies:
    """How the replies every citizen received compare with the expected sequence."""

    exact: int = 0  # citizens who got exactly the expected sequence
    missing: int = 0  # citizens missing a reply
    repeated: int = 0  # citizens who got a reply more than once
    repeated_on: Counter[str] = field(default_factory=Counter)  # the same, by channel
    unexpected: Counter[str] = field(default_factory=Counter)
    confirmations: int = 0  # "complaint filed" replies received
    confirmed: int = 0  # citizens who received one
    samples: list[str] = field(default_factory=list)


@dataclass
class Figures:
    """The measured figures of one run that the baseline comparison sets side by side."""

    processed: int  # updates processed
    seconds: float  # first stored (received) to last processed
    cpu: float  # CPU seconds of the bot's own processes
    database_cpu: float  # CPU seconds of PostgreSQL (0 for the in-memory baseline)
    calls: Counter[str]  # Bot API calls by method
    ok: bool  # every check passed

    @property
    def per_second(self) -> float:
        """Return the updates processed per second."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def cpu_ms(self, with_database: bool = False) -> float:
        """Return the CPU milliseconds per processed update (optionally with the database's)."""
        cpu = self.cpu + (self.database_cpu if with_database else 0.0)
        return cpu * 1000 / self.processed if self.processed else float("nan")


@dataclass
class Stats:
    """Counters of the run."""

    acked: int = 0  # distinct updates acknowledged with 200
    deliveries: int = 0  # HTTP 200 answers, copies included
    non_200: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # requests without an answer
    latencies: list[float] = field(default_factory=list)  # seconds, of every 200 answer
    slow: Counter[int] = field(default_factory=Counter)  # acks over 50 ms, by second of the run they ended in
    lag: list[float] = field(default_factory=list)  # seconds this process's event loop woke up late
    first_ack: float = 0.0
    last_ack: float = 0.0
    events: list[str] = field(default_factory=list)

    def note(self, started: float, text: str) -> None:
        """Record a timed event of the run."""
        line = f"t={time.monotonic() - started:6.1f}s {text}"
        self.events.append(line)
        print(f"  {line}", flush=True)


# --------------------------------------------------------------------------- the latency a citizen feels


HELD_SLACK = 0.1  # a chat's burst counts as used up below 1.1 messages left (the fake sees sends a little late)


@dataclass
class ReplyLatency:
    """When the benchmark POSTed each update, and when the fake platforms received each reply (monotonic seconds)."""

    posts: dict[str, list[float]] = field(default_factory=dict)  # chat -> first POST of each step's update
    replies: dict[str, list[float]] = field(default_factory=dict)  # chat -> each message the bot sent it

    def posted(self, chat_id: str, step: int) -> None:
        """Note that the update of a chat's step is POSTed now (its first attempt: a retry keeps the time)."""
        times = self.posts.setdefault(chat_id, [])
        if len(times) == step:
            times.append(time.monotonic())

    def replied(self, chat_id: str) -> None:
        """Note that a fake platform received a message for a chat now."""
        self.replies.setdefault(chat_id, []).append(time.monotonic())

    def measure(self, run: LoadRun) -> FeltLatency:
        """Pair each update with the first reply to it (found by its catalogue key in the chat's transcript)."""
        felt = FeltLatency()
        for citizen in run.citizens:
            texts = run.transcript(citizen)
            times = self.replies.get(citizen.chat_id, [])
            posts = self.posts.get(citizen.chat_id, [])
            if len(times) != len(texts):  # the fake kept another count than its transcript: do not guess
                felt.unmatched += 1
                continue
            keys = [run.recognised(text) for text in texts]
            held = pacing_held(times, Limits()) if citizen.channel == "telegram" else [False] * len(times)
            expected, offset = run.expected[citizen.channel], 0
            for index, step in enumerate(run.steps[: len(posts)]):
                first = step.replies(citizen.channel)[0]
                message = nth_message(keys, first, expected[: offset + 1].count(first))
                offset += len(step.replies(citizen.channel))
                if message is None:
                    felt.missing += 1
                else:
                    felt.add(citizen.channel, times[message] - posts[index], held[message])
        return felt


def nth_message(keys: Sequence[Sequence[str]], key: str, n: int) -> int | None:
    """Return the index of the message that carries the n-th occurrence of a catalogue key (None: fewer came)."""
    seen = 0
    for index, found in enumerate(keys):
        seen += list(found).count(key)
        if seen >= n:
            return index
    return None


def pacing_held(times: Sequence[float], limits: Limits) -> list[bool]:
    """Tell, per message to a private Telegram chat, whether the chat's burst was used up when it went out.

    The product's own pacing (a burst, then a steady rate per chat) is replayed on the times the fake received the
    messages: a message sent with less than one message of burst left had to wait for the pacing, not for the
    pipeline.
    """
    held: list[bool] = []
    tokens, at = limits.private_burst, times[0] if times else 0.0
    for moment in times:
        tokens = min(limits.private_burst, tokens + (moment - at) * limits.private_per_second)
        held.append(tokens < 1 + HELD_SLACK)
        tokens, at = tokens - 1, moment
    return held


@dataclass
class FeltLatency:
    """Seconds from an update's webhook POST to the fake platform receiving the bot's first reply to it."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {"telegram": [], "whatsapp": []})
    held: list[float] = field(default_factory=list)  # Telegram first replies that waited for the chat's pacing
    missing: int = 0  # updates whose first reply never came
    unmatched: int = 0  # citizens left out: the fake's count of sends differs from its transcript

    def add(self, channel: str, seconds: float, held: bool) -> None:
        """Count one update's first reply."""
        self.seconds[channel].append(seconds)
        if held:
            self.held.append(seconds)

    def ms(self, channel: str | None = None, unheld: bool = False) -> list[float]:
        """Return the latencies in milliseconds (one channel or both; optionally without the pacing-held ones)."""
        values = [s for c, found in self.seconds.items() if channel in (None, c) for s in found]
        if unheld:
            left = Counter(values) - Counter(self.held)
            values = list(left.elements())
        return [s * 1000 for s in values]

    @staticmethod
    def line(ms: Sequence[float]) -> str:
        """Return p50/p90/p99/max of some latencies as text."""
        return (
            f"{len(ms)} updates: p50 {percentile(ms, 0.5):.1f} ms, p90 {percentile(ms, 0.9):.1f} ms, "
            f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms, default=0):.1f} ms"
        )

    @staticmethod
    def figures(ms: Sequence[float]) -> JSON:
        """Return p50/p90/p99/max of some latencies for --json."""
        fractions = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
        found: JSON = {"updates": len(ms), **{k: round(percentile(ms, f), 1) for k, f in fractions.items()}}
        return found | {"max": round(max(ms, default=0), 1)}

    def print(self, args: argparse.Namespace) -> None:
        """Print the figures in the run's block."""
        limits = Limits()
        print(f"reply latency (felt):  webhook POSTed to first reply received, {self.line(self.ms())}")
        for channel, found in self.seconds.items():
            if found:
                print(f"                       {channel}: {self.line(self.ms(channel))}")
        telegram = len(self.seconds["telegram"])
        print(
            "                       only each update's first reply counts: SuaraWarga paces each Telegram private "
            f"chat (a burst of {limits.private_burst:g}, then {limits.private_per_second:g}/s), which delays a "
            f"chat's later replies; {len(self.held)} of {telegram} Telegram first replies went out with the chat's "
            f"burst used up (without them: p50 {percentile(self.ms(unheld=True), 0.5):.1f} ms)"
        )
        if self.missing or self.unmatched:
            left_out = f"{self.unmatched} citizens left out (their sends and transcript differ)"
            print(f"                       no first reply for {self.missing} updates; {left_out}")
        if args.mode == "paced":
            p50 = percentile(self.ms(), 0.5)
            verdict = ("met" if p50 < 30 else "NOT met") if args.rate >= 100 else "not judged (under 100 updates/s)"
            print(
                f"target felt latency:   {verdict} (p50 {p50:.1f} ms at {args.rate:.0f} updates/s offered; "
                "issue #17: p50 < 30 ms at 100 updates/s)"
            )

    def to_json(self) -> JSON:
        """Return the figures for --json (milliseconds)."""
        return {
            "all": self.figures(self.ms()),
            **{channel: self.figures(self.ms(channel)) for channel in self.seconds},
            "telegram_held_by_pacing": len(self.held),
            "all_without_held": self.figures(self.ms(unheld=True)),
            "missing": self.missing,
            "citizens_left_out": self.unmatched,
        }


# --------------------------------------------------------------------------- servers and database


def conninfo(url: str, database: str | None = None) -> dict[str, Any]:
    """Return psycopg connection arguments for a SQLAlchemy URL (optionally another database on that server)."""
    parsed = make_url(url)
    info: dict[str, Any] = {"dbname": database or parsed.database, "user": parsed.username or "postgres"}
    if parsed.host:
        info["host"] = parsed.host
    if parsed.port:
        info["port"] = parsed.port
    if parsed.password:
        info["password"] = parsed.password
    return info


async def recreate_database(url: str) -> None:
    """Drop and create the benchmark's database."""
    name = make_url(url).database
    if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing to recreate database {name!r}: use letters, digits and _ only")
    async with await psycopg.AsyncConnection.connect(**conninfo(url, "postgres"), autocommit=True) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')


async def run_cli(env: dict[str, str], workdir: Path, *args: str) -> None:
    """Run `python -m suarawarga ARGS` and fail loudly if it does."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "suarawarga",
        *args,
        env=env,
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"suarawarga {' '.join(args)} failed:\n{output.decode(errors='replace')}")


@dataclass
class ServeProcess:
    """One product subprocess: `serve` (role all), `serve --accept-only` (accept) or `process` (process)."""

    index: int
    count: int
    port: int
    env: dict[str, str]
    workdir: Path
    role: str = "all"
    nice: int = 0  # niceness of the process (the split layout runs `process` below `serve --accept-only`)
    process: asyncio.subprocess.Process | None = None
    cpu_before: float = 0.0  # CPU seconds of earlier incarnations (killed ones)
    cpu_start: float = 0.0  # CPU seconds used before the run (start-up)
    starts: int = 0

    @property
    def name(self) -> str:
        """Return a short name for reports and log files."""
        return f"{'serve' if self.role != 'process' else 'process'}-{self.index}"

    @property
    def argv(self) -> list[str]:
        """Return the command line."""
        command = "process" if self.role == "process" else "serve"
        argv = [sys.executable, "-m", "suarawarga", command, "--host", "127.0.0.1", "--port", str(self.port)]
        argv.append("--no-setup")
        if self.nice:
            argv = ["nice", "-n", str(self.nice), *argv]
        if self.role == "accept":
            argv.append("--accept-only")
        elif self.count > 1:
            argv += ["--shard", f"{self.index}/{self.count}"]
        return argv

    async def start(self) -> None:
        """Start the process (its output goes to serve-I.log in the work directory) and wait until it answers."""
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.close()
            raise SystemExit(f"port {self.port} is in use (another benchmark run?): choose another with --port")
        log = (self.workdir / f"{self.name}.log").open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, env=self.env, cwd=self.workdir, stdout=log, stderr=log
            )
        finally:
            log.close()
        self.starts += 1
        pool = HttpPool([("127.0.0.1", self.port)], size=1, timeout=2)
        deadline = time.monotonic() + 30
        try:
            while True:
                if self.process.returncode is not None:
                    raise SystemExit(f"{self.name} exited with {self.process.returncode}: see {log.name}")
                with contextlib.suppress(HttpError):
                    if (await pool.request("GET", "/healthz")).status == 200:
                        return
                if time.monotonic() > deadline:
                    raise SystemExit(f"{self.name} did not answer /healthz within 30 s: see {log.name}")
                await asyncio.sleep(0.05)
        finally:
            pool.close()

    def cpu(self) -> float:
        """Return the CPU seconds the process used so far (all its incarnations)."""
        return self.cpu_before + (cpu_seconds(self.process.pid) if self.process is not None else 0.0)

    async def kill(self) -> None:
        """SIGKILL the process and reap it."""
        if self.process is not None and self.process.returncode is None:
            self.cpu_before += cpu_seconds(self.process.pid)
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        """Stop the process as an operator would (SIGTERM), SIGKILL after 15 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await self.process.wait()
        except TimeoutError:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


def cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """Return the CPU seconds all processes of the machine used since boot (busy time of /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class PostgresCpu:
    """CPU seconds of the postgres processes since the start, including backends that ended (sampled each second)."""

    def __init__(self) -> None:
        self.start = self.sample()
        self.last = dict(self.start)

    @staticmethod
    def sample() -> dict[int, float]:
        """Return the CPU seconds of every running postgres process, by pid."""
        found: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if (entry / "comm").read_text().strip() == "postgres":
                        found[int(entry.name)] = cpu_seconds(int(entry.name))
        return found

    def update(self) -> float:
        """Sample again; return the CPU seconds used since the start."""
        self.last.update({pid: cpu for pid, cpu in self.sample().items() if cpu > 0})
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())


def other_pytest_running() -> list[str]:
    """Return the command lines of pytest processes on this machine (other developers' test runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if any(b"pytest" in part for part in argv[:3]):
                    found.append(b" ".join(argv).decode(errors="replace")[:120])
    return found


def product_env(
    database_url: str, telegram: BotApi, whatsapp: GraphApi, workdir: Path, log_level: str
) -> dict[str, str]:
    """Return the environment of a product process on PostgreSQL and the two local fakes (no other SUARAWARGA_)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUARAWARGA_")}
    env.update(
        {
            "SUARAWARGA_DATABASE_URL": database_url,
            "SUARAWARGA_TELEGRAM_TOKEN": telegram.token,
            "SUARAWARGA_TELEGRAM_API_URL": telegram.root_url,
            "SUARAWARGA_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SUARAWARGA_WHATSAPP_API_URL": whatsapp.root_url,
            "SUARAWARGA_WHATSAPP_API_VERSION": wa.VERSION,
            "SUARAWARGA_WHATSAPP_TOKEN": wa.TOKEN,
            "SUARAWARGA_WHATSAPP_PHONE_NUMBER_ID": wa.PHONE_NUMBER_ID,
            "SUARAWARGA_WHATSAPP_APP_SECRET": wa.APP_SECRET,
            "SUARAWARGA_WHATSAPP_VERIFY_TOKEN": wa.VERIFY_TOKEN,
            "SUARAWARGA_ATTACHMENTS_DIR": str(workdir / "attachments"),
            "SUARAWARGA_LOG_LEVEL": log_level,
        }
    )
    return env


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of values (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


# --------------------------------------------------------------------------- the run


class LoadRun:
    """Everything of one run: fakes, servers, citizens, faults, checks."""

    settled_note = "settled: outbox drained"
    figures: Figures | None = None  # set by report()

    def __init__(
        self,
        args: argparse.Namespace,
        workdir: Path,
        telegram_request: str | None = None,
        whatsapp_client: str | None = None,
    ) -> None:
        self.args = args
        self.workdir = workdir
        self.telegram_request = telegram_request  # SUARAWARGA_TELEGRAM_REQUEST of the product (None: its default)
        self.whatsapp_client = whatsapp_client  # SUARAWARGA_WHATSAPP_CLIENT of the product (None: its default)
        self.steps = script()
        self.catalogue = Catalogue.load()
        channels = ("telegram", "whatsapp")
        keys = sorted({k for s in self.steps for c in channels for k in s.replies(c)} | set(UNWANTED))
        self.fragments = fragments(self.catalogue, keys)
        self.expected = {c: [k for s in self.steps for k in s.replies(c)] for c in channels}
        self.stats = Stats()
        self.citizens: list[Citizen] = []
        self.by_chat: dict[str, Citizen] = {}
        self.telegram = BotApi(self._changed)
        self.whatsapp = GraphApi(self._changed)
        self.servers: list[ServeProcess] = []  # the processes that receive the webhooks
        self.processors: list[ServeProcess] = []  # with --accept: the `process` processes
        self.pool: HttpPool | None = None
        self.started = 0.0
        self.total_updates = args.citizens * len(self.steps)
        self.midpoint = asyncio.Event()
        self.postgres: PostgresCpu | None = None
        self.rate_next = 0.0
        self.latency = ReplyLatency()
        self._recognised: dict[str, list[str]] = {}

    def _changed(self, chat_id: str) -> None:
        self.latency.replied(chat_id)
        citizen = self.by_chat.get(chat_id)
        if citizen is not None:
            citizen.changed.set()

    # ------------------------------------------------------------------ set-up

    def server_env(self) -> dict[str, str]:
        """Return the environment of the product's processes: PostgreSQL and the two fakes."""
        env = product_env(self.args.database_url, self.telegram, self.whatsapp, self.workdir, self.args.log_level)
        env["SUARAWARGA_COMPLAINTS_PER_DAY"] = "1000"  # a duplicate must show as one, not hit the limit
        if self.args.telegram_rate:
            # Telegram allows a bot about 30 messages a second, and the product keeps under that; the fake has
            # no such limit, and 500 citizens need ~6 500 replies: at 28/s that alone would take 4 minutes.
            env["SUARAWARGA_TELEGRAM_SEND_RATE"] = str(self.args.telegram_rate)
        if self.telegram_request:
            env["SUARAWARGA_TELEGRAM_REQUEST"] = self.telegram_request
        if self.whatsapp_client:
            env["SUARAWARGA_WHATSAPP_CLIENT"] = self.whatsapp_client
        env.update(dict(item.split("=", 1) for item in self.args.env))
        return env

    def make_citizens(self) -> None:
        """Create the citizens: even numbers on Telegram, odd on WhatsApp (or all on the one channel asked for)."""
        for n in range(self.args.citizens):
            channel = self.args.only or ("telegram" if n % 2 == 0 else "whatsapp")
            if channel == "telegram":
                user = tg.User(700_000_000 + n, f"Warga{n}", language_code="id")
                citizen = Citizen(n, "telegram", str(user.id), telegram_user=user)
            else:
                wa_user = wa.WaUser(f"62812{n:08d}", f"Warga {n}")
                citizen = Citizen(n, "whatsapp", wa_user.address, whatsapp_user=wa_user)
            self.citizens.append(citizen)
            self.by_chat[citizen.chat_id] = citizen

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Create the database, start the fakes and the serve processes; stop them all at the end."""
        print(f"database {make_url(self.args.database_url).render_as_string(hide_password=True)}: recreating")
        await recreate_database(self.args.database_url)
        async with self.telegram, self.whatsapp:
            env = self.server_env()
            await run_cli(env, self.workdir, "db", "upgrade")
            await run_cli(env, self.workdir, "seed")
            count, port = self.args.processes, self.args.port
            if self.args.accept:
                self.servers = [
                    ServeProcess(i, self.args.accept, port + i, env, self.workdir, "accept")
                    for i in range(self.args.accept)
                ]
                self.processors = [self.processor(i, count, port + self.args.accept + i, env) for i in range(count)]
            else:
                self.servers = [ServeProcess(i, count, port + i, env, self.workdir) for i in range(count)]
            try:
                await asyncio.gather(*(s.start() for s in self.everyone))
                for group in (self.servers, self.processors):
                    if group:
                        print(f"{len(group)} x: {' | '.join(' '.join(s.argv) for s in group)}")
                if self.args.kill:
                    # As Meta does, the fake posts each accepted send's "sent" status, echoing its callback data:
                    # what lets the product recognise a send its killed process made but never recorded.
                    self.whatsapp.statuses = True
                    self.whatsapp.webhook_url = f"http://127.0.0.1:{self.servers[0].port}/whatsapp"
                backends = [("127.0.0.1", s.port) for s in self.servers]
                self.pool = HttpPool(backends, size=self.args.connections, timeout=self.args.request_timeout)
                yield
            finally:
                if self.pool is not None:
                    self.pool.close()
                await asyncio.gather(*(s.stop() for s in self.everyone))

    def processor(self, index: int, count: int, port: int, env: dict[str, str]) -> ServeProcess:
        """Return the split layout's `process` process number `index` (not started)."""
        return ServeProcess(index, count, port, env, self.workdir, "process", self.args.nice)

    @property
    def everyone(self) -> list[ServeProcess]:
        """Return every product process of the run."""
        return [*self.servers, *self.processors]

    # ------------------------------------------------------------------ delivering updates

    async def post(self, channel: str, body: bytes) -> None:
        """Deliver one update (K copies at once with --dup K), each retried until it gets 200."""
        if channel == "telegram":
            path = "/telegram"
            headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET}
        else:
            path = "/whatsapp"
            headers = {"content-type": "application/json", "x-hub-signature-256": self.whatsapp.sign(body)}
        await asyncio.gather(*(self._post_until_ok(path, body, headers) for _ in range(self.args.dup)))
        self.stats.acked += 1
        now = time.monotonic()
        self.stats.first_ack = self.stats.first_ack or now
        self.stats.last_ack = now
        if self.stats.acked * 2 >= self.total_updates:
            self.midpoint.set()

    async def _post_until_ok(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        if self.pool is None:
            raise RuntimeError("the servers are not running")
        delay = 0.05
        while True:
            try:
                answer = await self.pool.request("POST", path, body, headers)
            except HttpError as exc:
                self.stats.errors[str(exc).split(":")[0]] += 1
            else:
                if answer.status == 200:
                    self.stats.deliveries += 1
                    self.stats.latencies.append(answer.seconds)
                    if answer.seconds > 0.05:
                        self.stats.slow[int(time.monotonic() - self.started)] += 1
                    return
                self.stats.non_200[answer.status] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def pace(self) -> None:
        """Wait for the next slot of the paced mode's steady rate."""
        if self.args.mode != "paced" or self.args.rate <= 0:
            return
        now = time.monotonic()
        slot = max(self.rate_next, now)
        self.rate_next = slot + 1 / self.args.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    def update_for(self, citizen: Citizen, step: Step) -> bytes | None:
        """Build the update a citizen sends at a step (None: the button to press is not there)."""
        if citizen.telegram_user is not None:
            user, act = citizen.telegram_user, step.telegram
            if act.choice is not None and self.args.mode == "closed":
                update = self.telegram.press(user, act.choice)
                return None if update is None else json.dumps(update).encode()
            text = act.typed if act.choice is not None else act.text
            self.telegram.user_sends_text(user, None, citizen.fill(text or ""))
            return json.dumps(self.telegram.last_update).encode()
        wa_user, act = citizen.whatsapp_user, step.whatsapp
        if wa_user is None:
            raise RuntimeError(f"citizen {citizen.number} has no account")
        if act.choice is not None:
            return self.whatsapp.tap(wa_user, act.choice)
        return self.whatsapp.delivery(wa_user, "text", {"body": citizen.fill(act.text or "")})

    # ------------------------------------------------------------------ reading replies

    def transcript(self, citizen: Citizen) -> list[str]:
        """Return the texts a citizen received, in order."""
        if citizen.channel == "telegram":
            return self.telegram.transcript(citizen.chat_id)
        return self.whatsapp.transcript(citizen.chat_id)

    def recognised(self, text: str) -> list[str]:
        """Return `recognise(text)`, remembered per text: a citizen's wait re-reads its whole transcript each wake."""
        keys = self._recognised.get(text)
        if keys is None:
            keys = self._recognised[text] = recognise(text, self.fragments)
        return keys

    def received_keys(self, citizen: Citizen) -> list[str]:
        """Return the catalogue keys recognised in what a citizen received, in order ('?' for an unknown message)."""
        return [key for text in self.transcript(citizen) for key in self.recognised(text)]

    def step_answered(self, citizen: Citizen, index: int) -> bool:
        """Tell whether the replies of step `index` (and the ones before) arrived."""
        channel = citizen.channel
        last = self.steps[index].replies(channel)[-1]
        so_far = sum(len(s.replies(channel)) for s in self.steps[: index + 1])
        wanted = self.expected[channel][:so_far].count(last)
        return self.received_keys(citizen).count(last) >= wanted

    async def wait_answer(self, citizen: Citizen, index: int, deadline: float) -> bool:
        """Wait until the step's replies arrived, or the deadline passed."""
        while not self.step_answered(citizen, index):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            citizen.changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 1.0)):
                    await citizen.changed.wait()
        return True

    # ------------------------------------------------------------------ a citizen's run

    async def live(self, citizen: Citizen, deadline: float) -> None:
        """Follow the script; in closed mode wait for each answer before the next message."""
        await asyncio.sleep(self.args.ramp * citizen.number / max(self.args.citizens, 1))
        for index, step in enumerate(self.steps):
            if time.monotonic() > deadline:
                citizen.stuck = f"out of time before step {index + 1}"
                return
            body = self.update_for(citizen, step)
            if body is None:  # closed mode: the previous answer came without the button this step presses
                citizen.stuck = f"no button {step.telegram.choice} at step {index + 1}"
                return
            await self.pace()
            self.latency.posted(citizen.chat_id, index)
            await self.post(citizen.channel, body)
            citizen.step = index + 1
            if self.args.mode == "closed" and not await self.wait_answer(citizen, index, deadline):
                citizen.stuck = f"no answer to step {index + 1}"
                return

    # ------------------------------------------------------------------ faults

    async def fault(self) -> None:
        """Inject the chosen fault when half of the updates were acknowledged."""
        args = self.args
        if not (args.kill or args.pg_restart or args.platform_errors):
            return
        await self.midpoint.wait()
        if args.kill:
            victim = (self.processors if args.kill == "process" else self.servers)[-1]
            await victim.kill()
            self.stats.note(self.started, f"SIGKILL {victim.name} (port {victim.port})")
            await asyncio.sleep(args.down)
            began = time.monotonic()
            await victim.start()
            self.stats.note(self.started, f"{victim.name} restarted, answering after {time.monotonic() - began:.1f} s")
        if args.pg_restart:
            began = time.monotonic()
            self.stats.note(self.started, "restarting PostgreSQL")
            versions = sorted(os.listdir("/etc/postgresql"))
            process = await asyncio.create_subprocess_exec(
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                versions[-1],
                "main",
                "restart",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await process.communicate()
            self.stats.note(
                self.started,
                f"PostgreSQL restarted (exit {process.returncode}) in {time.monotonic() - began:.1f} s"
                + (f": {output.decode(errors='replace').strip()}" if process.returncode else ""),
            )
        if args.platform_errors:
            until = time.monotonic() + args.outage
            self.telegram.outage_until = self.whatsapp.outage_until = until
            self.stats.note(self.started, f"fake platforms answer 429/5xx for {args.outage:.0f} s")
            await asyncio.sleep(args.outage)
            self.stats.note(
                self.started,
                f"fake platforms back; injected Telegram {dict(self.telegram.injected)}, "
                f"WhatsApp {dict(self.whatsapp.injected)}",
            )

    async def watch_lag(self, every: float = 0.02) -> None:
        """Record how late this process's event loop wakes up: that delay is part of every latency it measures."""
        for tick in itertools.count():
            before = time.perf_counter()
            await asyncio.sleep(every)
            self.stats.lag.append(time.perf_counter() - before - every)
            if tick % 50 == 0 and self.postgres is not None:
                self.postgres.update()

    # ------------------------------------------------------------------ after the run

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run a query on the benchmark database (retrying while PostgreSQL restarts)."""
        for attempt in range(30):
            try:
                async with await psycopg.AsyncConnection.connect(**conninfo(self.args.database_url)) as conn:
                    cursor = await conn.execute(sql, params or None)
                    return list(await cursor.fetchall())
            except psycopg.OperationalError:
                if attempt == 29:
                    raise
                await asyncio.sleep(0.5)
        raise AssertionError("unreachable")

    async def settle(self, deadline: float) -> float:
        """Wait until every reply arrived and the outbox has nothing pending; return when that was."""
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            complete = all(c.stuck is None and self.step_answered(c, len(self.steps) - 1) for c in self.citizens)
            pending = (await self.query("SELECT count(*) FROM outbox WHERE status = 'pending'"))[0][0]
            inbox = (await self.query("SELECT count(*) FROM inbox WHERE status = 'pending'"))[0][0]
            if pending == 0 and inbox == 0:
                if quiet_since is None:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= self.args.quiet * (1 if complete else 3):
                    return quiet_since
            else:
                quiet_since = None
            if self.postgres is not None:
                self.postgres.update()
            await asyncio.sleep(0.25)
        return time.monotonic()

    async def run(self) -> int:
        """Run the benchmark; return the exit status (0: every check passed)."""
        args = self.args
        self.make_citizens()
        async with self.running():
            # The harness's own start-up heap (fakes, citizens) out of its collector's sight, as the product's
            # servers do with theirs: a full collection here would delay every request in flight.
            gc.collect()
            gc.freeze()
            self.postgres = PostgresCpu()
            for server in self.everyone:
                server.cpu_start = server.cpu()
            cpu0 = (sum(s.cpu() for s in self.everyone), time.process_time(), 0.0, machine_cpu())
            self.started = time.monotonic()
            deadline = self.started + args.max_seconds
            print(
                f"run: {args.citizens} citizens ({sum(c.channel == 'telegram' for c in self.citizens)} Telegram, "
                f"{sum(c.channel == 'whatsapp' for c in self.citizens)} WhatsApp) x {len(self.steps)} updates, "
                f"mode {args.mode}"
                + (f" at {args.rate:.0f} updates/s" if args.mode == "paced" else "")
                + f", {args.connections} connections, dup {args.dup}",
                flush=True,
            )
            fault = asyncio.create_task(self.fault())
            lag = asyncio.create_task(self.watch_lag())
            await asyncio.gather(*(self.live(c, deadline) for c in self.citizens))
            sent_done = time.monotonic()
            lag.cancel()
            self.stats.note(self.started, f"last update acknowledged ({self.stats.acked} updates)")
            with contextlib.suppress(asyncio.CancelledError):
                if not fault.done():
                    fault.cancel()
                await fault
            settled = await self.settle(deadline + args.settle)
            self.stats.note(self.started, self.settled_note if settled < deadline + args.settle else "gave up waiting")
            cpu1 = (sum(s.cpu() for s in self.everyone), time.process_time(), self.postgres.update(), machine_cpu())
            return await self.report(sent_done, settled, cpu0, cpu1)

    def check_replies(self) -> Replies:
        """Compare what every citizen received with the expected sequence."""
        found = Replies()
        for citizen in self.citizens:
            got = self.received_keys(citizen)
            filed = got.count("complaint.filed")
            found.confirmations += filed
            found.confirmed += filed >= 1
            if got == self.expected[citizen.channel]:
                found.exact += 1
                continue
            counts, want = Counter(got), Counter(self.expected[citizen.channel])
            found.missing += any(counts[k] < n for k, n in want.items())
            repeated = any(counts[k] > n for k, n in want.items())
            found.repeated += repeated
            found.repeated_on[citizen.channel] += repeated
            found.unexpected.update(k for k in got if k not in want)
            if len(found.samples) < 3:
                extra, lacking = counts - want, want - counts
                wanted = self.expected[citizen.channel]
                pairs = zip(got, wanted, strict=False)
                position = next((n for n, (a, b) in enumerate(pairs, 1) if a != b), min(len(got), len(wanted)) + 1)
                found.samples.append(
                    f"{citizen.channel} citizen {citizen.number}: {len(got)} replies, first difference at reply "
                    f"{position}; "
                    f"extra {dict(extra) or '-'}, missing {dict(lacking) or '-'}"
                    + (f"; stopped: {citizen.stuck}" if citizen.stuck else "")
                )
        return found

    async def report(
        self,
        sent_done: float,
        settled: float,
        cpu0: tuple[float, float, float, float],
        cpu1: tuple[float, float, float, float],
    ) -> int:
        """Query the database, compare every citizen's replies with the expected sequence, print the figures."""
        args, stats = self.args, self.stats
        rows = await self.query(
            "SELECT description, count(*) FROM complaints WHERE description LIKE %s GROUP BY description",
            f"%({TAG} %",
        )
        per_citizen = {str(d): int(n) for d, n in rows}
        outbox = dict(await self.query("SELECT status, count(*) FROM outbox GROUP BY status"))
        inbox = dict(await self.query("SELECT status, count(*) FROM inbox GROUP BY status"))
        first_in, last_done = (await self.query("SELECT min(received_at), max(processed_at) FROM inbox"))[0]
        processing = (last_done - first_in).total_seconds() if first_in and last_done else float("nan")
        expected = [c for c in self.citizens if c.step == len(self.steps)]
        stored = [c for c in self.citizens if per_citizen.get(c.fill(DESCRIPTION), 0) >= 1]
        duplicated = [c for c in self.citizens if per_citizen.get(c.fill(DESCRIPTION), 0) > 1]
        replies = self.check_replies()
        exact, missing, repeated, unexpected = replies.exact, replies.missing, replies.repeated, replies.unexpected
        confirmations, confirmed, samples = replies.confirmations, replies.confirmed, replies.samples
        lost = len(expected) - len([c for c in expected if c in stored])
        window = max(stats.last_ack - self.started, 1e-9)
        ms = [s * 1000 for s in stats.latencies]
        servers_cpu, bench_cpu, pg_cpu, all_cpu = (b - a for a, b in zip(cpu0, cpu1, strict=True))
        others = max(all_cpu - servers_cpu - bench_cpu - pg_cpu, 0.0)
        print()
        print("=" * 78)
        faults = [
            name
            for name, on in (
                (f"dup {args.dup}", args.dup > 1),
                (f"kill {args.kill}", bool(args.kill)),
                ("pg-restart", args.pg_restart),
                ("platform-errors", args.platform_errors),
            )
            if on
        ]
        layout = (
            f"{args.accept} serve --accept-only + {args.processes} process"
            if args.accept
            else f"{args.processes} serve process(es)"
        )
        print(
            f"load: {args.citizens} citizens, mode {args.mode}, {layout}, webhooks by client-side round robin, "
            f"faults: {', '.join(faults) or 'none'}"
            + (f", Telegram client {self.telegram_request}" if self.telegram_request else "")
            + (f", WhatsApp client {self.whatsapp_client}" if self.whatsapp_client else "")
        )
        print(
            f"updates acknowledged:  {stats.acked} of {self.total_updates} in {window:.1f} s = "
            f"{stats.acked / window:.0f} updates/s ({stats.deliveries} HTTP 200 incl. copies = "
            f"{stats.deliveries / window:.0f}/s)"
        )
        print(
            f"ack latency (200):     p50 {percentile(ms, 0.5):.1f} ms, p90 {percentile(ms, 0.9):.1f} ms, "
            f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms, default=0):.1f} ms"
        )
        print(
            f"updates processed:     {inbox.get('done', 0)} in {processing:.1f} s (first stored to last processed) = "
            f"{inbox.get('done', 0) / processing:.0f} updates/s"
        )
        if stats.slow:
            worst = ", ".join(f"t={t}s: {n}" for t, n in sorted(stats.slow.items()))
            print(f"acks over 50 ms:       {sum(stats.slow.values())}, by second of the run: {worst}")
        lag = [s * 1000 for s in stats.lag]
        print(
            f"benchmark loop lag:    p50 {percentile(lag, 0.5):.1f} ms, p99 {percentile(lag, 0.99):.1f} ms, "
            f"max {max(lag, default=0):.1f} ms (this process's own delay, included in the ack latency above)"
        )
        print(f"retried deliveries:    non-200 {dict(stats.non_200) or 0}, no answer {dict(stats.errors) or 0}")
        print(
            f"complaints:            expected {len(expected)}, stored {sum(per_citizen.values())} "
            f"({len(stored)} citizens), confirmations received {confirmations} ({confirmed} citizens)"
        )
        print(f"                       duplicated {len(duplicated)}, lost {lost}")
        print(
            f"replies:               exactly the expected sequence for {exact} of {len(self.citizens)} citizens; "
            f"missing for {missing}, repeated for {repeated}, unexpected {dict(unexpected) or 0}"
        )
        if repeated:
            print(f"repeated by channel:   {dict(replies.repeated_on)}")
        stuck = Counter(c.stuck for c in self.citizens if c.stuck)
        if stuck:
            print(f"citizens stopped:      {dict(stuck)}")
        for sample in samples:
            print(f"  e.g. {sample}")
        print(f"settled:               {settled - sent_done:.1f} s after the last ack; outbox {outbox}, inbox {inbox}")
        print(f"CPU seconds by process: {', '.join(f'{s.name} {s.cpu() - s.cpu_start:.1f}' for s in self.everyone)}")
        print(
            f"CPU seconds:           product processes {servers_cpu:.1f}, PostgreSQL {pg_cpu:.1f}, "
            f"benchmark+fakes {bench_cpu:.1f}, everything else on the machine {others:.1f} "
            f"(wall {settled - self.started:.1f} s x {os.cpu_count()} cores)"
        )
        ok = lost == 0 and not duplicated and exact == len(self.citizens) and len(expected) == len(self.citizens)
        calls = Counter(method for method, _ in self.telegram.calls)
        self.figures = Figures(inbox.get("done", 0), processing, servers_cpu, pg_cpu, calls, ok)
        split = ""
        if self.processors and self.figures.processed:
            processing_cpu = sum(p.cpu() - p.cpu_start for p in self.processors)
            split = f" ({processing_cpu * 1000 / self.figures.processed:.2f} ms in the process processes)"
        print(
            f"CPU per update:        {self.figures.cpu_ms():.2f} ms in the product processes{split}, "
            f"{self.figures.cpu_ms(with_database=True):.2f} ms with PostgreSQL (per update processed)"
        )
        if calls:
            print(f"Bot API calls:         {dict(calls.most_common())}")
        felt = self.latency.measure(self)
        felt.print(args)
        print(f"checks:                {'PASS' if ok else 'FAIL'} (no loss, no duplicate, every reply exactly once)")
        if args.mode == "closed" and self.processors and not faults:
            # Issue #17, split layout: the processing a closed loop sustains, and the product's CPU for it.
            rate, cpu = self.figures.processed / processing, self.figures.cpu_ms()
            met = ok and rate >= 800 and cpu <= 1.2
            print(
                f"target processing:     {'met' if met else 'NOT met'} ({rate:.0f} updates/s at {cpu:.2f} ms; "
                "issue #17: >= 800 updates/s processed closed loop, <= 1.2 ms of CPU per update in the product)"
            )
        if args.mode == "paced":  # in a closed loop each citizen waits for its reply: acks follow the processing
            target = stats.acked / window >= 1000 and percentile(ms, 0.99) < 50
            print(f"target ack:            {'met' if target else 'NOT met'} (>= 1000 updates/s with p99 ack < 50 ms)")
        print("=" * 78)
        if args.json:
            summary = {
                "citizens": args.citizens,
                "mode": args.mode,
                "processes": args.processes,
                "accept": args.accept,
                "processed_per_s": round(inbox.get("done", 0) / processing, 1),
                "telegram_request": self.telegram_request,
                "whatsapp_client": self.whatsapp_client,
                "cpu_ms_per_update": round(self.figures.cpu_ms(), 3),
                "cpu_ms_per_update_with_postgresql": round(self.figures.cpu_ms(with_database=True), 3),
                "faults": faults,
                "updates": stats.acked,
                "updates_per_s": round(stats.acked / window, 1),
                "ack_ms": {"p50": round(percentile(ms, 0.5), 1), "p99": round(percentile(ms, 0.99), 1)},
                "expected": len(expected),
                "stored": sum(per_citizen.values()),
                "confirmations": confirmations,
                "duplicated": len(duplicated),
                "lost": lost,
                "exact": exact,
                "reply_ms": felt.to_json(),
                "events": stats.events,
            }
            print(json.dumps(summary))
        return 0 if ok else 1


# --------------------------------------------------------------------------- the python-telegram-bot baseline


@dataclass
class BaselineProcess(ServeProcess):
    """The PTB baseline bot (benchmarks/ptb_baseline.py) as a process, started and measured like a serve process."""

    api_url: str = ""
    token: str = ""
    concurrency: int = 0

    @property
    def name(self) -> str:
        """Return a short name for reports and log files."""
        return "ptb-baseline"

    @property
    def argv(self) -> list[str]:
        """Return the command line."""
        script = Path(__file__).with_name("ptb_baseline.py")
        argv = [sys.executable, str(script), "--port", str(self.port), "--api-url", self.api_url]
        argv += ["--token", self.token, "--secret", SECRET, "--concurrency", str(self.concurrency)]
        return argv


class BaselineRun(LoadRun):
    """The same Telegram citizens, on a fresh fake Bot API, against the PTB baseline bot instead of SuaraWarga."""

    settled_note = "settled: every update processed"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start the fake Bot API and the baseline bot; stop them at the end."""
        async with self.telegram:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SUARAWARGA_")}
            bot = BaselineProcess(
                0,
                1,
                self.args.baseline_port,
                env,
                self.workdir,
                api_url=self.telegram.root_url,
                token=self.telegram.token,
                concurrency=self.args.baseline_concurrency,
            )
            self.servers = [bot]
            try:
                await bot.start()
                shown = [a if a != SECRET else "***" for a in bot.argv]
                print(f"baseline: {' '.join(shown)}")
                backend = [("127.0.0.1", bot.port)]
                self.pool = HttpPool(backend, size=self.args.connections, timeout=self.args.request_timeout)
                yield
            finally:
                if self.pool is not None:
                    self.pool.close()
                await bot.stop()

    async def fault(self) -> None:
        """Inject nothing: the baseline is compared on fault-free runs."""

    async def bot_stats(self) -> JSON:
        """Return the baseline bot's counters (GET /stats)."""
        if self.pool is None:
            raise RuntimeError("the baseline is not running")
        for attempt in range(10):
            try:
                answer = await self.pool.request("GET", "/stats")
            except HttpError:
                if attempt == 9:
                    raise
                await asyncio.sleep(0.1)
                continue
            stats: JSON = json.loads(answer.body)
            return stats
        raise AssertionError("unreachable")

    async def settle(self, deadline: float) -> float:
        """Wait until every reply arrived and the bot processed every update it received; return when that was."""
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            complete = all(c.stuck is None and self.step_answered(c, len(self.steps) - 1) for c in self.citizens)
            stats = await self.bot_stats()
            if stats["processed"] >= stats["received"]:
                if quiet_since is None:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= self.args.quiet * (1 if complete else 3):
                    return quiet_since
            else:
                quiet_since = None
            await asyncio.sleep(0.25)
        return time.monotonic()

    async def report(
        self,
        sent_done: float,
        settled: float,
        cpu0: tuple[float, float, float, float],
        cpu1: tuple[float, float, float, float],
    ) -> int:
        """Compare every citizen's replies with the expected sequence and print the baseline's figures."""
        args, stats = self.args, self.stats
        bot = await self.bot_stats()
        replies = self.check_replies()
        processing = bot["last_processed"] - bot["first_received"] if bot["processed"] else float("nan")
        window = max(stats.last_ack - self.started, 1e-9)
        ms = [s * 1000 for s in stats.latencies]
        cpu = cpu1[0] - cpu0[0]
        calls = Counter(method for method, _ in self.telegram.calls)
        completed = sum(c.step == len(self.steps) for c in self.citizens)
        ok = replies.exact == len(self.citizens) == completed == bot["filed"]
        self.figures = Figures(bot["processed"], processing, cpu, 0.0, calls, ok)
        concurrency = args.baseline_concurrency or "1 (PTB's default)"
        print()
        print("=" * 78)
        print(
            f"baseline ptb: {args.citizens} citizens (Telegram), mode {args.mode}, 1 python-telegram-bot process "
            f"(in-memory ConversationHandler, updates at once: {concurrency}), same fake Bot API"
        )
        print(
            f"updates acknowledged:  {stats.acked} of {self.total_updates} in {window:.1f} s = "
            f"{stats.acked / window:.0f} updates/s"
        )
        print(
            f"ack latency (200):     p50 {percentile(ms, 0.5):.1f} ms, p90 {percentile(ms, 0.9):.1f} ms, "
            f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms, default=0):.1f} ms"
        )
        print(
            f"updates processed:     {bot['processed']} of {bot['received']} received in {processing:.1f} s "
            f"(first received to last processed) = {self.figures.per_second:.0f} updates/s"
        )
        print(
            f"replies:               exactly the expected sequence for {replies.exact} of {len(self.citizens)} "
            f"citizens; missing for {replies.missing}, repeated for {replies.repeated}, "
            f"unexpected {dict(replies.unexpected) or 0}; complaints kept in memory {bot['filed']}"
        )
        for sample in replies.samples:
            print(f"  e.g. {sample}")
        print(
            f"CPU seconds:           baseline process {cpu:.1f} = {self.figures.cpu_ms():.2f} ms per update processed "
            f"(wall {settled - self.started:.1f} s)"
        )
        print(f"Bot API calls:         {dict(calls.most_common())}")
        print(f"checks:                {'PASS' if ok else 'FAIL'} (every citizen got every reply exactly once)")
        print("=" * 78)
        return 0 if ok else 1


def compare(args: argparse.Namespace, products: Sequence[tuple[str, Figures]], baseline: Figures | None) -> None:
    """Print SuaraWarga's figures (one row per client measured) beside the baseline's, and their ratio."""
    limits, steps = Limits(), script()
    replies = sum(len(step.replies("telegram")) for step in steps)
    floor = max(replies - limits.private_burst, 0) / limits.private_per_second
    rows: list[tuple[str, Figures]] = [(f"SuaraWarga ({kind})", figures) for kind, figures in products]
    if baseline is not None:
        rows.append(("PTB baseline", baseline))
    width = max(len(name) for name, _ in rows)
    print()
    print("=" * 78)
    against = " and the python-telegram-bot baseline" if baseline is not None else ""
    print(f"SuaraWarga{against}: the same {args.citizens} citizens, same fake Bot API, measured in this run")
    for name, figures in rows:
        calls = sum(figures.calls.values()) / figures.processed if figures.processed else float("nan")
        database = f" ({figures.cpu_ms(with_database=True):.2f} with PostgreSQL)" if figures.database_cpu else ""
        print(
            f"  {name:<{width}}  {figures.per_second:6.0f} processed/s, CPU {figures.cpu_ms():.2f} ms per update"
            f"{database}, {calls:.2f} Bot API calls per update, checks {'PASS' if figures.ok else 'FAIL'}"
        )
    ratios = {kind: figures.per_second / baseline.per_second for kind, figures in products} if baseline else {}
    for kind, ratio in ratios.items():
        print(f"  processed/s, SuaraWarga ({kind}) ÷ baseline = {ratio:.2f} (issue #17: at least 0.5)")
    if baseline is not None:
        print(
            f"  note: SuaraWarga paces each private chat (a burst of {limits.private_burst}, then "
            f"{limits.private_per_second:g} a second): {replies} replies take a citizen at least {floor:.0f} s, so "
            f"with {args.citizens} citizens it cannot process more than {len(steps) * args.citizens / floor:.0f} "
            "updates/s; the baseline does not pace"
        )
    print("=" * 78)
    if args.json:
        summary = {
            "citizens": args.citizens,
            "suarawarga": {
                kind: {
                    "processed_per_s": round(f.per_second, 1),
                    "cpu_ms_per_update": round(f.cpu_ms(), 3),
                    "cpu_ms_per_update_with_postgresql": round(f.cpu_ms(with_database=True), 3),
                    "ok": f.ok,
                }
                for kind, f in products
            },
            "baseline": {
                "kind": args.baseline,
                "processed_per_s": round(baseline.per_second, 1),
                "cpu_ms_per_update": round(baseline.cpu_ms(), 3),
                "ok": baseline.ok,
            }
            if baseline is not None
            else None,
            "ratio": {kind: round(ratio, 3) for kind, ratio in ratios.items()},
        }
        print(json.dumps(summary))


async def measure(args: argparse.Namespace, workdir: Path) -> int:
    """Run SuaraWarga (once per --telegram-request and --whatsapp-client pair), then --baseline; compare."""
    status = 0
    products: list[tuple[str, Figures]] = []
    for kind in args.telegram_request or [None]:
        for whatsapp in args.whatsapp_client or [None]:
            product = LoadRun(args, workdir, kind, whatsapp)
            status = max(status, await product.run())
            if product.figures is not None:
                label = ", ".join([*([kind] if kind else []), *([f"WhatsApp {whatsapp}"] if whatsapp else [])])
                products.append((label or "default client", product.figures))
    baseline: Figures | None = None
    if args.baseline:
        run = BaselineRun(args, workdir)
        status = max(status, await run.run())
        baseline = run.figures
    if len(products) > 1 or baseline is not None:
        compare(args, products, baseline)
    return status


def clients(value: str) -> list[str]:
    """Parse --telegram-request or --whatsapp-client: a comma-separated list of httpx and tuned."""
    kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
    if not kinds or any(kind not in ("httpx", "tuned") for kind in kinds):
        raise argparse.ArgumentTypeError("expected httpx, tuned, or httpx,tuned")
    return kinds


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description="Drive the real `suarawarga serve` with simulated citizens on Telegram and WhatsApp "
        "(fake platforms on loopback, PostgreSQL), optionally with faults, and check nothing was lost or doubled.",
    )
    parser.add_argument("--database-url", default=DEFAULT_DB, help=f"dropped and created (default: {DEFAULT_DB})")
    parser.add_argument("--citizens", type=int, default=1000, help="simulated citizens, half on each channel")
    parser.add_argument("--mode", choices=["closed", "paced"], default="closed", help="see the module docstring")
    parser.add_argument("--rate", type=float, default=1000, help="paced mode: updates/s offered (default: 1000)")
    parser.add_argument(
        "--only", choices=["telegram", "whatsapp"], help="put every citizen on one channel (for diagnosis)"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="serve processes, or with --accept process processes (default: 1)"
    )
    parser.add_argument(
        "--accept",
        type=int,
        default=0,
        metavar="N",
        help="split layout: N `serve --accept-only` processes take the webhooks, --processes `process` "
        "processes handle them (default: 0, every serve process does everything)",
    )
    parser.add_argument("--port", type=int, default=18080, help="port of the first serve process (default: 18080)")
    parser.add_argument("--connections", type=int, default=128, help="HTTP requests in flight at most (default: 128)")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds over which citizens start (default: 1)")
    parser.add_argument("--dup", type=int, default=1, help="send every delivery K times at once (default: 1)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="split layout: run the process processes at this niceness, below the accepting ones (default: 0)",
    )
    parser.add_argument(
        "--kill",
        nargs="?",
        const="serve",
        choices=["serve", "process"],
        help="SIGKILL a serve process (or with --accept, `--kill process`: a process process) mid-run and "
        "start it again",
    )
    parser.add_argument("--down", type=float, default=1.0, help="--kill: seconds before the restart (default: 1)")
    parser.add_argument("--pg-restart", action="store_true", help="restart PostgreSQL mid-run (pg_ctlcluster)")
    parser.add_argument(
        "--force-pg-restart", action="store_true", help="restart PostgreSQL even when other pytest runs are seen"
    )
    parser.add_argument("--platform-errors", action="store_true", help="fakes answer 429/5xx for a while mid-run")
    parser.add_argument("--outage", type=float, default=5.0, help="--platform-errors: seconds (default: 5)")
    parser.add_argument("--max-seconds", type=float, default=120, help="bound of the sending phase (default: 120)")
    parser.add_argument("--settle", type=float, default=75, help="extra seconds allowed to settle (default: 75)")
    parser.add_argument("--quiet", type=float, default=1.0, help="seconds without pending work that end the run")
    parser.add_argument("--request-timeout", type=float, default=10.0, help="seconds before a request is retried")
    parser.add_argument(
        "--telegram-rate",
        type=int,
        default=2000,
        help="SUARAWARGA_TELEGRAM_SEND_RATE of serve: Bot API calls/s (default: 2000; 0: the product's 28/s)",
    )
    parser.add_argument("--log-level", default="INFO", help="SUARAWARGA_LOG_LEVEL of the serve processes")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra env for serve")
    parser.add_argument(
        "--baseline",
        choices=["ptb"],
        help="afterwards, run the same citizens (Telegram only) against an in-memory python-telegram-bot bot "
        "(benchmarks/ptb_baseline.py) and print SuaraWarga's processed/s divided by its",
    )
    parser.add_argument(
        "--baseline-concurrency",
        type=int,
        default=0,
        metavar="N",
        help="--baseline: updates the PTB bot handles at once (default 0: one at a time, as ConversationHandler asks)",
    )
    parser.add_argument("--baseline-port", type=int, default=18190, help="--baseline: its port (default: 18190)")
    parser.add_argument(
        "--telegram-request",
        type=clients,
        metavar="KIND[,KIND]",
        help="SUARAWARGA_TELEGRAM_REQUEST of the product: httpx, tuned, or both (httpx,tuned: SuaraWarga runs once "
        "with each, on a fresh database, and the figures are printed side by side)",
    )
    parser.add_argument(
        "--whatsapp-client",
        type=clients,
        metavar="KIND[,KIND]",
        help="SUARAWARGA_WHATSAPP_CLIENT of the product: httpx, tuned, or both (as --telegram-request; with both "
        "options every pair runs)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (serve logs) afterwards")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    if args.citizens < 1 or args.processes < 1 or args.dup < 1 or args.connections < 1:
        parser.error("--citizens, --processes, --dup and --connections must be at least 1")
    if args.kill == "process" and not args.accept:
        parser.error("--kill process needs the split layout (--accept N)")
    if args.nice and not args.accept:
        parser.error("--nice applies to the split layout's process processes (--accept N)")
    if args.baseline:
        if args.only == "whatsapp":
            parser.error("--baseline compares Telegram citizens: leave out --only whatsapp")
        if args.dup > 1 or args.kill or args.pg_restart or args.platform_errors:
            parser.error("--baseline compares fault-free runs: no --dup, --kill, --pg-restart or --platform-errors")
        if args.whatsapp_client:
            parser.error("--baseline runs Telegram citizens only: --whatsapp-client would change nothing")
        args.only = "telegram"  # the same citizens on both, and the baseline is a Telegram bot
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    args = parse_args(argv)
    if args.pg_restart and not args.force_pg_restart:
        others = other_pytest_running()
        if others:
            print("other test runs use PostgreSQL now; wait, or pass --force-pg-restart:", *others, sep="\n  ")
            return 3
    return run_in_workdir("suarawarga-load-", args.keep, lambda workdir: measure(args, workdir))


if __name__ == "__main__":
    sys.exit(main())
