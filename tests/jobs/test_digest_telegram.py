"""Weekly digests end to end on Telegram: the real job, the real sender, read back from the local Bot API server.

Staff join the bot as they do in production (/gabung with invite codes in private chats, /hubungkan in the OPD's
group) against the fake Bot API enforcing Telegram's flood limits; complaints and survey answers are stored for
week 2026-W48; the digest job and the outbox job run as the worker runs them. The test then reads what each chat
received and checks every figure against values it computes itself from what it stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from io import BytesIO
from typing import Any

import holidays
from fakes.telegram_server import Chat, FakeBotApi, User
from openpyxl import load_workbook
from PIL import Image
from pydantic import SecretStr

from suarawarga.bootstrap import App
from suarawarga.bot.channels.telegram import telegram_channel
from suarawarga.bot.messages import ChannelName, OutboxStatus
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, Staff, StaffRole, UnitKind
from suarawarga.complaints.seed import UnitSeed, read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.jobs.scheduler import JobName, run_job
from suarawarga.runtime import running
from suarawarga.surveys.definitions import Unsur
from suarawarga.surveys.model import NewResponse, ResponseSource
from tests.jobs.support import file
from tests.support.clock import JAKARTA, FrozenClock

JSON = dict[str, Any]
MONDAY_W49 = datetime(2026, 11, 30, 7, 0, tzinfo=JAKARTA)  # the digest of 2026-W48 goes out
WEEK_START, WEEK_END = datetime(2026, 11, 23, tzinfo=JAKARTA), datetime(2026, 11, 30, tzinfo=JAKARTA)
WEEK_BEFORE = WEEK_START - timedelta(days=7)
OPD_LEVEL = (UnitKind.OPD, UnitKind.KECAMATAN, UnitKind.OTHER)
SENDS = ("sendMessage", "sendPhoto", "sendDocument")

ROAD_OFFICER = User(6101, "Andi", language_code="id")
ROAD_HEAD = User(6102, "Rahmat", language_code="id")
WASTE_OFFICER = User(6201, "Sari", language_code="id")
WASTE_HEAD = User(6202, "Yusuf", language_code="id")
ADMINS = (User(6301, "Dewi", language_code="id"), User(6302, "Fajar", language_code="id"))
ROAD_GROUP = Chat.group(-100777, "DPUPR Pengaduan")


def at(day: int, hour: int, month: int = 11) -> datetime:
    """Return a moment of 2026 in Padang."""
    return datetime(2026, month, day, hour, 0, tzinfo=JAKARTA)


@dataclass(frozen=True)
class Filing:
    """A complaint the test stores, and what the OPD did with it (each a moment or None)."""

    unit: str
    category: str
    filed: datetime
    accepted: datetime | None = None
    resolved: datetime | None = None
    reopened: datetime | None = None


PLAN = (
    # DPUPR (roads and drainage): one left over from week 47, four filed in week 48.
    Filing("DPUPR", "jalan_rusak", at(18, 9)),  # never accepted: 3 working days passed on 23 Nov
    Filing("DPUPR", "jalan_rusak", at(23, 9), accepted=at(23, 15)),  # accepted after 6 h, response not yet due
    Filing("DPUPR", "drainase_banjir", at(24, 9), accepted=at(25, 9), resolved=at(27, 9)),  # 24 h, 3 days
    Filing("DPUPR", "jalan_rusak", at(23, 10)),  # not accepted by the end of Thursday: overdue
    Filing("DPUPR", "jalan_rusak", at(27, 10)),  # filed on Friday: due next Wednesday
    # DLH (waste): an old one accepted but never answered, one reopened in week 48, two filed in week 48.
    Filing("DLH", "sampah", at(11, 9), accepted=at(12, 9)),  # 5 working days without a response: overdue
    Filing("DLH", "sampah", at(16, 9), accepted=at(16, 14), resolved=at(19, 9), reopened=at(24, 10)),
    Filing("DLH", "sampah", at(25, 9)),
    Filing("DLH", "sampah", at(26, 11), accepted=at(27, 8), resolved=at(28, 10)),  # 21 h, 47 h
    # DINKES has no staff on Telegram: no digest of its own, but it is in the city ranking.
    Filing("DINKES", "kesehatan", at(24, 9)),  # overdue since the end of Friday
)

# Survey answers: (unit, moment, score of every unsur, score of sarana).
ANSWERS = (
    ("DPUPR", at(23, 10), 4, 4),
    ("DPUPR", at(24, 10), 3, 3),
    ("DPUPR", at(26, 10), 3, 2),
    ("DPUPR", at(14, 10, month=10), 2, 2),  # earlier in the quarter (2026-Q4)
    ("DPUPR", at(14, 11, month=10), 2, 2),
    ("DLH", at(25, 13), 4, 4),
)


# ------------------------------------------------------------------------------------------- the expected figures


@dataclass
class Figures:
    """One unit's week as the test expects it."""

    received: int = 0
    received_before: int = 0
    accepted: int = 0
    resolved: int = 0
    reopened: int = 0
    overdue: list[str] = field(default_factory=list)  # codes, oldest first
    accept_hours: list[float] = field(default_factory=list)
    resolve_days: list[float] = field(default_factory=list)
    ikm_week: tuple[Decimal, str] | None = None
    n_week: int = 0
    ikm_quarter: tuple[Decimal, str] | None = None
    n_quarter: int = 0


def working_deadline(filed: datetime, days: int) -> datetime:
    """Return midnight after the `days`-th weekday after the filing day (November 2026 has no holidays)."""
    day = filed.date()
    while days:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=JAKARTA)


def overdue_at(filing: Filing, end: datetime) -> bool:
    """Tell whether a complaint is open with a missed clock (accept 3, respond 5 working days, resolve 60 days)."""
    resolved = filing.resolved is not None and (filing.reopened is None or filing.reopened < filing.resolved)
    if resolved:
        return False
    accept_missed = filing.accepted is None and filing.resolved is None and working_deadline(filing.filed, 3) <= end
    respond_missed = filing.resolved is None and working_deadline(filing.filed, 5) <= end
    return accept_missed or respond_missed or filing.filed + timedelta(days=60) <= end


def ikm(scores: list[tuple[int, int]]) -> tuple[Decimal, str] | None:
    """Return the IKM (25 x the mean of the nine unsur means, 2 places) and its mutu, from (others, sarana) scores."""
    if not scores:
        return None
    others = Fraction(sum(s for s, _ in scores), len(scores))
    sarana = Fraction(sum(s for _, s in scores), len(scores))
    exact = 25 * (8 * others + sarana) / 9
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    mutu = "A" if value >= Decimal("88.31") else "B" if value >= Decimal("76.61") else "C" if value >= 65 else "D"
    return value, mutu


def expected(codes: dict[Filing, str]) -> dict[str, Figures]:
    """Compute every seeded unit's figures for 2026-W48 from the plan alone."""
    found: dict[str, Figures] = {}

    def week(moment: datetime | None) -> bool:
        return moment is not None and WEEK_START <= moment < WEEK_END

    for filing in sorted(PLAN, key=lambda f: f.filed):
        line = found.setdefault(filing.unit, Figures())
        line.received += week(filing.filed)
        line.received_before += WEEK_BEFORE <= filing.filed < WEEK_START
        if filing.accepted is not None and week(filing.accepted):
            line.accepted += 1
            line.accept_hours.append((filing.accepted - filing.filed) / timedelta(hours=1))
        if filing.resolved is not None and week(filing.resolved):
            line.resolved += 1
            line.resolve_days.append((filing.resolved - filing.filed) / timedelta(days=1))
        line.reopened += week(filing.reopened)
        if overdue_at(filing, WEEK_END):
            line.overdue.append(codes[filing])
    quarter_start = datetime(2026, 10, 1, tzinfo=JAKARTA)
    for unit in {a[0] for a in ANSWERS}:
        line = found.setdefault(unit, Figures())
        in_week = [(s, r) for u, m, s, r in ANSWERS if u == unit and WEEK_START <= m < WEEK_END]
        in_quarter = [(s, r) for u, m, s, r in ANSWERS if u == unit and quarter_start <= m < WEEK_END]
        line.ikm_week, line.n_week = ikm(in_week), len(in_week)
        line.ikm_quarter, line.n_quarter = ikm(in_quarter), len(in_quarter)
    return found


def decimal(text: str) -> Decimal | None:
    """Read an Indonesian figure ('82,41'), or None for '-'."""
    return None if text == "-" else Decimal(text.replace(",", "."))


UNIT_TEXT = re.compile(
    r"Ringkasan mingguan 2026-W48 — (?P<unit>.+)\n"
    r"Pengaduan masuk: (?P<received>\d+) \((?P<change>[+-]\d+) dari minggu lalu\)\n"
    r"Diterima OPD: (?P<accepted>\d+) · Selesai: (?P<resolved>\d+) · Dibuka kembali: (?P<reopened>\d+)\n"
    r"Melewati tenggat: (?P<overdue>\d+) \(terlama: (?P<oldest>[^)]*)\)\n"
    r"Median waktu sampai diterima: (?P<accept_hours>\S+) jam · sampai selesai: (?P<resolve_days>\S+) hari\n"
    r"Nilai penanganan oleh pelapor: .+\n"
    r"IKM minggu ini: (?P<ikm_week>\S+) \(n=(?P<n_week>\d+), .+\)\n"
    r"IKM triwulan berjalan: (?P<ikm_quarter>\S+) mutu (?P<mutu>\S+) \(n=(?P<n_quarter>\d+), sampel .+\)\n"
    r"Unsur terlemah: (?P<weakest>.+)\Z"
)
RANK_LINE = re.compile(
    r"(?P<place>\d+)\. (?P<name>[^:\n]+): IKM (?P<ikm>[\d,]+) \((?P<mutu>[A-D]), n=(?P<n>\d+)(, sampel kecil)?\) · "
    r"masuk (?P<received>\d+) · selesai (?P<resolved>\d+) · terlambat (?P<overdue>\d+)"
)
UNRATED_LINE = re.compile(
    r"^- (?P<name>[^:\n]+): masuk (?P<received>\d+) · selesai (?P<resolved>\d+) · terlambat (?P<overdue>\d+)$", re.M
)
IDLE_LINE = re.compile(r"^Belum ada jawaban survei maupun pengaduan \((?P<count>\d+) unit\): (?P<codes>.+)$", re.M)


def check_unit_text(text: str, want: Figures) -> None:
    """Compare a unit digest as Telegram shows it with the expected figures."""
    found = UNIT_TEXT.fullmatch(text)
    assert found is not None, text
    got = found.groupdict()
    counts = [int(got[k]) for k in ("received", "accepted", "resolved", "reopened", "overdue")]
    assert counts == [want.received, want.accepted, want.resolved, want.reopened, len(want.overdue)]
    assert int(got["change"]) == want.received - want.received_before
    assert got["oldest"] == (", ".join(want.overdue[:3]) or "-")
    for key, values in (("accept_hours", want.accept_hours), ("resolve_days", want.resolve_days)):
        median = Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), ROUND_HALF_UP) if values else None
        assert decimal(got[key]) == median, key
    assert decimal(got["ikm_week"]) == (want.ikm_week[0] if want.ikm_week else None)
    assert int(got["n_week"]) == want.n_week
    assert decimal(got["ikm_quarter"]) == (want.ikm_quarter[0] if want.ikm_quarter else None)
    assert got["mutu"] == (want.ikm_quarter[1] if want.ikm_quarter else "-")
    assert int(got["n_quarter"]) == want.n_quarter


# ------------------------------------------------------------------------------------------- the product and its users


@contextlib.asynccontextmanager
async def product(app: App) -> AsyncIterator[FakeBotApi]:
    """Run the product as `poll` does, with the channel built from the settings, against an enforcing Bot API."""
    async with FakeBotApi(enforce_limits=True) as api:
        values = {"telegram_token": SecretStr(api.token), "telegram_api_url": api.root_url}
        app.settings = app.settings.model_copy(update=values)
        channel = telegram_channel(app)  # production limits
        assert channel is not None
        async with running(app, [channel], retries=False) as run:
            await channel.delete_webhook()
            poller = asyncio.create_task(channel.poll(run.inbox.accept, wait=5))
            try:
                yield api
            finally:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller


def sends(api: FakeBotApi, chat_id: int, method: str | None = None) -> list[JSON]:
    """Return the messages and files the bot sent to a chat (optionally of one method), oldest first."""
    return [r for r in api.sent(chat_id) if r["method"] in SENDS and method in (None, r["method"])]


async def invite(app: App, unit: str, role: StaffRole) -> str:
    """Create an invite code as `suarawarga staff invite` does."""
    async with app.uow() as uow:
        code, _, _ = await handling.create_invite(uow, unit, role, app.clock.now())
        await uow.commit()
    return code


async def join_staff(app: App, api: FakeBotApi) -> None:
    """Officers, heads and admins send /gabung CODE in private chats; the DPUPR officer links the OPD's group."""
    joining = [
        (ROAD_OFFICER, "DPUPR", StaffRole.OFFICER),
        (ROAD_HEAD, "DPUPR", StaffRole.HEAD),
        (WASTE_OFFICER, "DLH", StaffRole.OFFICER),
        (WASTE_HEAD, "DLH", StaffRole.HEAD),
        *((admin, "BAG-ORGANISASI", StaffRole.ADMIN) for admin in ADMINS),
    ]
    for user, unit, role in joining:
        api.user_sends_command(user, None, "gabung", await invite(app, unit, role))
    joined = app.catalogue.raw("staff.join.ok", "id").split("{", 1)[0]
    await api.wait_for(lambda: all(any(joined in (r["text"] or "") for r in sends(api, u.id)) for u, *_ in joining))
    api.add_chat(ROAD_GROUP)
    code = await invite(app, "DPUPR", StaffRole.OFFICER)
    api.user_sends_command(ROAD_OFFICER, ROAD_GROUP, "hubungkan", code, mention_bot=True)
    linked = app.catalogue.raw("staff.link.ok", "id").split("{", 1)[0]
    await api.wait_for(lambda: any(linked in (r["text"] or "") for r in sends(api, ROAD_GROUP.id)))


async def staff_member(app: App, user: User) -> Staff:
    """Return the membership a Telegram user got by joining."""
    async with app.uow() as uow:
        found = await uow.staff.memberships(ChannelName.TELEGRAM, str(user.id))
    return found[0]


async def seed_week(app: App) -> dict[Filing, str]:
    """Store the planned complaints, what the OPDs did with them, and the survey answers; return the codes."""
    officers = {"DPUPR": await staff_member(app, ROAD_OFFICER), "DLH": await staff_member(app, WASTE_OFFICER)}
    codes: dict[Filing, str] = {}
    for number, filing in enumerate(PLAN):
        complaint: Complaint = await file(app, filing.filed, filing.category, chat=f"warga-{number}")
        codes[filing] = complaint.code
        async with app.uow() as uow:
            unit = await uow.units.get(complaint.unit_id)
            assert unit is not None
            assert unit.code == filing.unit
            if filing.accepted is not None:
                complaint = (await handling.accept(uow, officers[filing.unit], complaint, filing.accepted)).complaint
            if filing.resolved is not None:
                done = await handling.resolve(uow, officers[filing.unit], complaint, "Sudah", (), filing.resolved)
                complaint = done.complaint
            if filing.reopened is not None:
                await handling.reopen(uow, complaint, "Belum beres", filing.reopened)
            await uow.commit()
    async with app.uow() as uow:
        units = {u.code: u.id for u in await uow.units.list()}
        for unit_code, moment, score, sarana in ANSWERS:
            answers = {u: sarana if u is Unsur.SARANA else score for u in Unsur}
            await uow.surveys.add(NewResponse(units[unit_code], moment, answers, ResponseSource.CHAT))
        await uow.commit()
    return codes


async def unit_names(app: App) -> dict[str, str]:
    """Return every unit's name by code."""
    async with app.uow() as uow:
        return {u.code: u.name for u in await uow.units.list()}


async def opd_level_codes(app: App) -> set[str]:
    """Return the codes of the OPD-level units (OPDs, kecamatan and other city bodies) in the database."""
    async with app.uow() as uow:
        return {u.code for u in await uow.units.list() if u.kind in OPD_LEVEL}


async def run_worker_jobs(app: App) -> None:
    """Run the digest job, then the outbox job, as the worker does at the digest time; everything is delivered."""
    digests = await run_job(app, JobName.DIGESTS)
    assert digests.done > 0
    await run_job(app, JobName.OUTBOX)
    async with app.uow() as uow:
        counts = await uow.outbox.counts()
    assert set(counts) == {OutboxStatus.SENT.value}, counts


def city_files(api: FakeBotApi, chat_id: int) -> tuple[bytes, bytes]:
    """Return the newest chart and workbook a chat got, read back from the Bot API server's file store."""
    photo = sends(api, chat_id, "sendPhoto")[-1]["files"][0]
    sheet = sends(api, chat_id, "sendDocument")[-1]["files"][0]
    return api.file_bytes(photo["file_id"]), api.file_bytes(sheet["file_id"])


def chart_height(png: bytes) -> int:
    """Open a chart, check it is a PNG with the IKM (blue) and overdue (red) bars drawn, and return its height."""
    with Image.open(BytesIO(png)) as image:
        image.load()
        assert image.format == "PNG"
        colours = {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
        assert {(0x3C, 0x78, 0xD8), (0xCC, 0x00, 0x00)} <= colours
        return int(image.size[1])


def workbook_rows(data: bytes) -> dict[str, tuple[Any, ...]]:
    """Return the workbook's unit rows by unit code."""
    sheet = load_workbook(BytesIO(data), read_only=True)["Ringkasan"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    by_code = {str(row[1]): tuple(row) for row in rows}
    assert len(by_code) == len(rows)  # one row per unit
    return by_code


# ------------------------------------------------------------------------------------------- the test


async def test_digests_reach_telegram_with_the_figures_of_the_database(app: App, clock: FrozenClock) -> None:
    """OPD groups, heads and officers get their unit's figures; admins the ranking, chart and workbook; no 429."""
    assert not [d for d in holidays.country_holidays("ID", years=2026) if date(2026, 11, 1) <= d <= WEEK_END.date()]
    clock.set(MONDAY_W49)
    async with product(app) as api:
        await join_staff(app, api)
        codes = await seed_week(app)
        await run_worker_jobs(app)
        want = expected(codes)
        units = await opd_level_codes(app)

        # Each OPD's digest: DPUPR to its group and head (not the officer, whose group gets it), DLH to both.
        def unit_digests(chat_id: int) -> list[str]:
            return [r["text"] for r in sends(api, chat_id) if (r["text"] or "").startswith("Ringkasan mingguan")]

        for chat_id, unit in ((ROAD_GROUP.id, "DPUPR"), (ROAD_HEAD.id, "DPUPR"), (WASTE_OFFICER.id, "DLH")):
            texts = unit_digests(chat_id)
            assert len(texts) == 1, (chat_id, texts)
            check_unit_text(texts[0], want[unit])
        assert unit_digests(WASTE_HEAD.id) == unit_digests(WASTE_OFFICER.id)
        assert unit_digests(ROAD_OFFICER.id) == []
        assert "Unsur terlemah: sarana" in unit_digests(ROAD_HEAD.id)[0]

        # The city admins: the units with an IKM ranked by name, those with only complaints, the rest in one line.
        for admin in ADMINS:
            methods = [r["method"] for r in sends(api, admin.id)][-3:]
            assert methods == ["sendMessage", "sendPhoto", "sendDocument"]
        ranking = "\n".join(r["text"] for r in sends(api, ADMINS[0].id, "sendMessage"))
        names = await unit_names(app)
        code_of = {name: code for code, name in names.items()}
        rated = {code for code in units if want.get(code, Figures()).ikm_quarter}
        header = f"Ringkasan mingguan 2026-W48 untuk admin kota: {len(rated)} dari {len(units)} unit sudah mendapat"
        assert header in ranking
        lines = [m.groupdict() for m in RANK_LINE.finditer(ranking)]
        assert {code_of[line["name"]] for line in lines} == rated
        assert [int(line["place"]) for line in lines] == list(range(1, len(rated) + 1))
        for line in lines:
            figures = want[code_of[line["name"]]]
            assert figures.ikm_quarter is not None
            assert (decimal(line["ikm"]), line["mutu"]) == figures.ikm_quarter, line
            assert int(line["n"]) == figures.n_quarter, line
            counts = (int(line["received"]), int(line["resolved"]), int(line["overdue"]))
            assert counts == (figures.received, figures.resolved, len(figures.overdue)), line
        assert [code_of[line["name"]] for line in lines] == ["DLH", "DPUPR"]  # by IKM
        unrated = [m.groupdict() for m in UNRATED_LINE.finditer(ranking)]
        assert [code_of[line["name"]] for line in unrated] == ["DINKES"]  # complaints, no survey answers
        assert (int(unrated[0]["received"]), int(unrated[0]["overdue"])) == (1, 1)
        idle = IDLE_LINE.search(ranking)
        assert idle is not None and "IKM -" not in ranking
        assert set(idle["codes"].split(", ")) == units - rated - {"DINKES"} and int(idle["count"]) == len(units) - 3

        chart, workbook = city_files(api, ADMINS[0].id)
        assert city_files(api, ADMINS[1].id) == (chart, workbook)  # the second admin got them by file_id
        first_height = chart_height(chart)
        rows = workbook_rows(workbook)
        assert set(rows) == units
        for code, row in rows.items():
            figures = want.get(code, Figures())
            week = (figures.received, figures.accepted, figures.resolved, figures.reopened, len(figures.overdue))
            assert row[3:8] == week, code
            assert (row[8] or "") == ", ".join(figures.overdue[:3]), code  # an empty cell reads as None
            quarter = figures.ikm_quarter
            assert (row[15], row[16], row[17]) == (
                (float(quarter[0]), quarter[1], figures.n_quarter) if quarter else (None, None, figures.n_quarter)
            ), code

        # A week later, with eight more OPDs without any figure: the chart keeps its size, the workbook has them.
        seed = read_seed()
        extra = tuple(UnitSeed(f"UJI-{n}", f"Dinas Uji {n}", UnitKind.OPD, None, False, False, None) for n in range(8))
        async with app.uow() as uow:
            await load_seed(uow, replace(seed, units=seed.units + extra))
            await uow.commit()
        clock.set(MONDAY_W49 + timedelta(days=7))
        await run_worker_jobs(app)
        chart, workbook = city_files(api, ADMINS[0].id)
        assert chart_height(chart) == first_height  # units without any figure are a footnote, not empty bars
        assert set(workbook_rows(workbook)) == units | {u.code for u in extra}
        assert api.rate_limit_hits == 0
