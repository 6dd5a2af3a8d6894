"""Benchmark: the weekly digests of 60 OPD-level units to 500 recipients, through the real Telegram sender.

The Kota Padang seed (46 OPD-level units) plus synthetic OPDs `BENCH-01`… make 60 units. 500 recipients are
registered as the product registers them (invite codes, then `join` / `link_group`): some units have a linked
group (the group and the unit's head get that unit's digest), the others have officers and heads in private
chats, and the city admins (Bagian Organisasi) get the ranking with the chart and the xlsx. The real digest job
(`send_weekly_digests`) writes the outbox; the outbox is then delivered as the worker does (`deliver_due` until
nothing is due) through `TelegramSender` with its default limits to the fake Bot API with `enforce_limits=True`,
which answers 429 above ~30 calls/s overall, 1/s per private chat (after a burst of 5) and 20/min per group.

Measured: recipients, Bot API calls (messages and files), wall time of the delivery, calls/s, the allowed rate
for this workload (total calls over the least time Telegram's limits permit: 30 calls/s overall, and no chat
faster than its own limit), the percentage reached, and 429 answers. Targets: >= 90 %, no 429.

    python -m benchmarks.digest_send [--units 60] [--recipients 500] [--groups 12] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from fakes.telegram_server import GLOBAL_PER_SECOND, GROUP_PER_MINUTE, PRIVATE_BURST, Chat, FakeBotApi, User

from suarawarga.bootstrap import App, build
from suarawarga.bot.channels.telegram import TelegramChannel
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints import handling
from suarawarga.complaints.model import IdentityMode, StaffRole, UnitKind
from suarawarga.complaints.seed import UnitSeed, read_seed
from suarawarga.complaints.services import ComplaintDraft, file_complaint, load_seed
from suarawarga.config import Settings
from suarawarga.jobs.digests import send_weekly_digests
from suarawarga.reports.digest import DIGEST_KINDS
from suarawarga.storage.db import make_engine
from suarawarga.storage.orm import Base
from suarawarga.surveys.definitions import Unsur
from suarawarga.surveys.model import NewResponse, ResponseSource

SENDS = ("sendMessage", "sendPhoto", "sendDocument")
ADMINS = 3
FIRST_USER = 700_000_000
FIRST_GROUP = -1_000_000_000_000


class MeasuringBotApi(FakeBotApi):
    """The fake Bot API, also noting the most sends it counted in one second (its flood window)."""

    busiest = 0

    def _check_flood(self, chat: Chat, now: float) -> None:
        super()._check_flood(chat, now)
        self.busiest = max(self.busiest, len(self._global_sends))


@dataclass(frozen=True, slots=True)
class Roster:
    """Who was registered: private chats and groups, by unit code."""

    units: list[str]
    private: dict[str, list[int]]
    groups: dict[str, int]

    @property
    def recipients(self) -> int:
        """Return how many chats are registered."""
        return sum(len(chats) for chats in self.private.values()) + len(self.groups)


@dataclass(frozen=True, slots=True)
class Result:
    """What one run measured."""

    units: int
    recipients: int
    digests: int
    job_seconds: float
    messages: int
    files: int
    seconds: float
    least_seconds: float
    rate_limit_hits: int
    undelivered: int
    busiest: int

    @property
    def calls(self) -> int:
        """Return the Bot API sends (texts and files)."""
        return self.messages + self.files

    @property
    def rate(self) -> float:
        """Return the calls a second reached."""
        return self.calls / self.seconds

    @property
    def allowed(self) -> float:
        """Return the rate Telegram's limits permit for this workload."""
        return self.calls / self.least_seconds

    def lines(self) -> list[str]:
        """Return the report."""
        return [
            f"units (OPD-level)   {self.units}",
            f"recipients          {self.recipients}",
            f"digests queued      {self.digests} (job {self.job_seconds:.2f} s)",
            f"messages            {self.messages}",
            f"files               {self.files}",
            f"seconds             {self.seconds:.2f}",
            f"msgs/s              {self.rate:.2f}",
            f"allowed msgs/s      {self.allowed:.2f} (least time {self.least_seconds:.2f} s)",
            f"percentage          {100 * self.rate / self.allowed:.1f} %",
            f"429 count           {self.rate_limit_hits}",
            f"busiest second      {self.busiest} sends (the server allows {GLOBAL_PER_SECOND})",
            f"undelivered         {self.undelivered}",
        ]


def last_monday_morning(app: App) -> datetime:
    """Return the most recent Monday 07:00, city time: the digest job runs as if it were then."""
    now = app.clock.now()
    monday = (now - timedelta(days=now.weekday())).replace(hour=7, minute=0, second=0, microsecond=0)
    return monday if monday <= now else monday - timedelta(days=7)


async def seed_city(app: App, units: int) -> list[str]:
    """Load the Padang seed plus synthetic OPDs so that there are `units` OPD-level units; return their codes."""
    seed = read_seed()
    have = sum(1 for u in seed.units if u.kind in DIGEST_KINDS)
    extra = tuple(
        UnitSeed(f"BENCH-{n:02d}", f"Dinas Uji Beban {n:02d}", UnitKind.OPD, None, False, False, None)
        for n in range(1, max(units - have, 0) + 1)
    )
    async with app.uow() as uow:
        await load_seed(uow, replace(seed, units=seed.units + extra))
        await uow.commit()
        return [u.code for u in await uow.units.list() if u.kind in DIGEST_KINDS]


async def register(app: App, api: FakeBotApi, codes: list[str], recipients: int, groups: int) -> Roster:
    """Register `recipients` chats with invite codes, as `/gabung` and `/hubungkan` do.

    The city admins are Bagian Organisasi's staff; `groups` units get a linked group and a head; the other
    chats are heads and officers dealt round the remaining units.
    """
    now = app.clock.now()
    admin_unit = "BAG-ORGANISASI"
    grouped = [c for c in codes if c != admin_unit][:groups]
    private: dict[str, list[int]] = {c: [] for c in codes}
    linked: dict[str, int] = {}
    users = iter(range(FIRST_USER, FIRST_USER + recipients))
    async with app.uow() as uow:

        async def person(unit: str, role: StaffRole) -> None:
            user = api.private_chat(User(next(users), f"Petugas {unit}"))
            invite, _, _ = await handling.create_invite(uow, unit, role, now)
            await handling.join(uow, invite, ChannelName.TELEGRAM, str(user.id), str(user.id), "Petugas", now)
            private[unit].append(user.id)

        for _ in range(ADMINS):
            await person(admin_unit, StaffRole.ADMIN)
        for number, code in enumerate(grouped):
            chat = api.add_chat(Chat.group(FIRST_GROUP - number, f"{code} Pengaduan"))
            invite, _, _ = await handling.create_invite(uow, code, StaffRole.OFFICER, now)
            await handling.link_group(uow, invite, ChannelName.TELEGRAM, str(chat.id), now)
            linked[code] = chat.id
            await person(code, StaffRole.HEAD)
        rest = [c for c in codes if c not in linked and c != admin_unit]
        for n in range(recipients - ADMINS - 2 * len(grouped)):
            await person(rest[n % len(rest)], StaffRole.HEAD if n < len(rest) else StaffRole.OFFICER)
        await uow.commit()
    return Roster(codes, private, linked)


async def seed_activity(app: App, codes: list[str], monday: datetime) -> None:
    """File some complaints and store survey answers in the week before `monday`, so the digests have figures."""
    rng = random.Random(6)
    week = monday - timedelta(days=7)
    async with app.uow() as uow:
        categories = [c.code for c in await uow.categories.list() if not c.sensitive]
        for n in range(90):
            at = week + timedelta(hours=rng.randrange(2, 120))
            chat = f"warga-{n}"
            citizen = await uow.citizens.register(ChannelName.CONSOLE, chat, "id", at, True)
            draft = ComplaintDraft(
                category_code=categories[n % len(categories)],
                description="Keluhan untuk uji beban ringkasan mingguan",
                identity_mode=IdentityMode.NAMED,
                channel=ChannelName.CONSOLE,
                chat_id=chat,
                citizen_id=citizen,
                language="id",
                reporter_name="Warga",
            )
            await file_complaint(uow, draft, at, "PDG")
        units = {u.code: u.id for u in await uow.units.list()}
        for code in codes:
            for _ in range(rng.randrange(0, 25)):
                await uow.surveys.add(
                    NewResponse(
                        unit_id=units[code],
                        submitted_at=week + timedelta(hours=rng.randrange(2, 120)),
                        answers={u: rng.choice((2, 3, 3, 4, 4)) for u in Unsur},
                        source=ResponseSource.CHAT,
                    )
                )
        await uow.commit()


def least_seconds(api: FakeBotApi, chats: list[int]) -> float:
    """Return the least time Telegram's limits allow for the calls made: overall, and chat by chat."""
    per_chat = {chat: sum(1 for r in api.sent(chat) if r["method"] in SENDS) for chat in chats}
    total = sum(per_chat.values())
    bound = (total - 1) / GLOBAL_PER_SECOND  # the first call at 0 s, then 30 a second
    for chat, calls in per_chat.items():
        if chat > 0:  # a burst, then one a second
            bound = max(bound, max(calls - PRIVATE_BURST, 0.0))
        else:  # twenty a minute
            bound = max(bound, 60.0 * ((calls - 1) // GROUP_PER_MINUTE))
    return max(bound, 1 / GLOBAL_PER_SECOND)


async def run(database_url: str | None, units: int, recipients: int, groups: int) -> Result:
    """Build the city, run the digest job, deliver the outbox to the fake Bot API and measure it."""
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        settings = Settings(_env_file=None, database_url=url, attachments_dir=Path(folder) / "files")  # type: ignore[call-arg]
        app = build(settings, db=engine)
        try:
            server = MeasuringBotApi(enforce_limits=True)
            async with server as api:
                codes = await seed_city(app, units)
                roster = await register(app, api, codes, recipients, groups)
                monday = last_monday_morning(app)
                await seed_activity(app, codes, monday)
                channel = TelegramChannel.connect(
                    api.token, api.root_url, catalogue=app.catalogue, attachments=app.attachments, clock=app.clock
                )
                await channel.start()
                app.register_sender(ChannelName.TELEGRAM, channel.sender)
                try:
                    started = time.perf_counter()
                    job = await send_weekly_digests(app, monday)
                    job_seconds = time.perf_counter() - started
                    delivery = app.delivery()
                    started = time.perf_counter()
                    while (await delivery.deliver_due()).sent:
                        pass
                    seconds = time.perf_counter() - started
                finally:
                    await channel.stop()
                async with app.uow() as uow:
                    counts = await uow.outbox.counts()
                chats = [c for chats in roster.private.values() for c in chats] + list(roster.groups.values())
                methods = Counter(r["method"] for chat in chats for r in api.sent(chat))
                return Result(
                    units=len(codes),
                    recipients=roster.recipients,
                    digests=job.done,
                    job_seconds=job_seconds,
                    messages=methods["sendMessage"],
                    files=methods["sendPhoto"] + methods["sendDocument"],
                    seconds=seconds,
                    least_seconds=least_seconds(api, chats),
                    rate_limit_hits=api.rate_limit_hits,
                    undelivered=sum(n for status, n in counts.items() if status != "sent"),
                    busiest=server.busiest,
                )
        finally:
            await app.aclose()


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run once and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.digest_send", description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=60, help="OPD-level units (default 60)")
    parser.add_argument("--recipients", type=int, default=500, help="registered chats (default 500)")
    parser.add_argument("--groups", type=int, default=12, help="units with a linked group (default 12)")
    parser.add_argument(
        "--database-url", default=None, help="its tables are dropped and rebuilt (default: a temporary SQLite file)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    result = asyncio.run(run(args.database_url, args.units, args.recipients, args.groups))
    for line in result.lines():
        print(line)
    ok = result.rate_limit_hits == 0 and result.undelivered == 0 and result.rate >= 0.9 * result.allowed
    print("target (>= 90 % of the allowed rate, no 429, all delivered):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
