"""What the admin commands print: city time, escaped citizen text, unit codes, digest weeks, and the small things."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pytest

import suarawarga.jobs.scheduler as scheduler
from suarawarga.bootstrap import App, build
from suarawarga.bot.messages import ChannelName, ConversationKey, Outbound
from suarawarga.cli import serving
from suarawarga.config import load_settings
from suarawarga.jobs.context import JobResult
from tests.cli.support import file_anonymous, prepare, run

FILED = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)  # 05-12-2026 05:00 in Padang (WIB, UTC+7)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A migrated and seeded SQLite database for the CLI."""
    return prepare(tmp_path, monkeypatch, capsys)


def add_outbox_message(at: datetime, error: str) -> None:
    """Store one outgoing message that failed with `error`."""

    async def go() -> None:
        app = build(load_settings())
        try:
            async with app.uow() as uow:
                [stored] = await uow.outbox.add_many(
                    [Outbound(ConversationKey(ChannelName.TELEGRAM, "123456789"), "status.none")], at
                )
                await uow.outbox.mark_retry(stored.id, error, at + timedelta(minutes=5))
                await uow.commit()
        finally:
            await app.aclose()

    asyncio.run(go())


def test_people_read_city_time(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """complaint list/show and outbox list print Padang time (as the bot does); JSON keeps ISO 8601 with offset."""
    code = file_anonymous("Jalan berlubang di depan pasar", FILED)
    add_outbox_message(FILED, "timeout")
    listing = run(capsys, "complaint", "list")
    assert "2026-12-05 05:00" in listing.out
    assert "2026-12-04" not in listing.out
    shown = run(capsys, "complaint", "show", code)
    assert "filed_at: 2026-12-05 05:00 (Asia/Jakarta)" in shown.out
    assert "  2026-12-05 05:00  filed" in shown.out
    assert "22:00" not in shown.out
    outbox = run(capsys, "outbox", "list")
    assert "2026-12-05 05:00" in outbox.out
    assert "2026-12-04" not in outbox.out
    as_json = json.loads(run(capsys, "complaint", "show", code, "--format", "json").out)
    assert as_json["filed_at"] == "2026-12-05T05:00:00+07:00"
    assert datetime.fromisoformat(as_json["history"][0]["at"]) == FILED
    [message] = json.loads(run(capsys, "outbox", "list", "--format", "json").out)
    assert datetime.fromisoformat(message["created_at"]) == FILED


HOSTILE = "Jalan rusak\x1b[2J\x1b]0;dibobol\x07 lagi\x9b31m\r\nPelapor: Wali Kota\u202e"


def test_control_characters_in_citizen_text_are_escaped(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An ESC sequence, a C1 CSI, a carriage return or a bidi override in a description is shown, not obeyed."""
    code = file_anonymous(HOSTILE, FILED)
    add_outbox_message(FILED, "refused\x1b[31m red\nsecond line")
    outputs = [
        run(capsys, "complaint", "show", code).out,
        run(capsys, "complaint", "show", code, "--format", "json").out,
        run(capsys, "complaint", "list", "--format", "json").out,
        run(capsys, "outbox", "list").out,
    ]
    for text in outputs:
        for raw in ("\x1b", "\x07", "\x9b", "\r", "\u202e"):
            assert raw not in text
    shown = outputs[0]
    assert "description: Jalan rusak\\u001b[2J\\u001b]0;dibobol\\u0007 lagi\\u009b31m\\u000d\\u000aPelapor" in shown
    assert "\nPelapor" not in shown  # a new line in citizen text cannot forge a field of its own
    assert json.loads(outputs[1])["description"] == HOSTILE  # JSON still carries the text itself
    assert "refused\\u001b[31m red\\u000asecond line" in outputs[3]


def test_unit_list_and_case_insensitive_codes(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`unit list` shows the codes; every command takes a unit code in any case; a wrong one points to the list."""
    puskesmas = json.loads(run(capsys, "unit", "list", "--kind", "puskesmas", "--format", "json").out)
    assert puskesmas
    assert {u["kind"] for u in puskesmas} == {"puskesmas"}
    assert "PKM-ANDALAS" in {u["code"] for u in puskesmas}
    table = run(capsys, "unit", "list").out
    assert "DPUPR" in table
    assert table.rstrip().endswith("unit(s)")
    assert run(capsys, "staff", "invite", "dpupr").code == 0
    assert run(capsys, "complaint", "list", "--unit", "dpupr").code == 0
    assert run(capsys, "report", "ikm", "--unit", "pkm-andalas").code == 0
    assert run(capsys, "digest", "preview", "--week", "2026-W48", "--unit", "dpupr").code == 0
    for argv in (
        ["report", "ikm", "--unit", "NOPE"],
        ["staff", "invite", "nope"],
        ["complaint", "list", "--unit", "nope"],
    ):
        result = run(capsys, *argv)
        assert result.code == 2
        assert result.err.strip().endswith("unknown unit NOPE (see suarawarga unit list)"), result.err


def this_week() -> str:
    """Return the ISO week the real clock is in (the CLI's clock), in Padang."""
    year, week, _ = datetime.now(UTC).astimezone(load_settings().tz).isocalendar()
    return f"{year}-W{week:02d}"


def test_digest_periods(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A month is not a week; a week that has not ended is refused; --period belongs to digests only."""
    month = run(capsys, "digest", "preview", "--week", "2026-12")
    assert month.code == 2
    assert "'2026-12' is a month, expected an ISO week" in month.err
    unfinished = run(capsys, "run-job", "digests", "--period", this_week())
    assert unfinished.code == 2
    assert f"week {this_week()} has not ended yet" in unfinished.err
    not_digests = run(capsys, "run-job", "deadlines", "--period", "2026-W48")
    assert not_digests.code == 2
    assert "--period is for the digests job only" in not_digests.err
    past = run(capsys, "run-job", "digests", "--period", "2026-W48")
    assert past.code == 0
    assert "week 2026-W48" in past.out


class ExtraJob(StrEnum):
    """A job another part of the product adds to the registry."""

    TIDY = "tidy"


def test_run_job_takes_its_names_from_the_job_registry(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job added to jobs.scheduler.jobs() can be run by hand without touching the CLI."""
    registry = scheduler.jobs

    async def tidy(app: App, now: datetime) -> JobResult:
        result = JobResult("tidy")
        result.done = 3
        return result

    def more_jobs() -> dict[StrEnum, scheduler.Job]:
        extended: dict[StrEnum, scheduler.Job] = {ExtraJob.TIDY: tidy}
        for name, job in registry().items():
            extended[name] = job
        return extended

    monkeypatch.setattr(scheduler, "jobs", more_jobs)
    result = run(capsys, "run-job", "tidy")
    assert result.code == 0, result
    assert result.out.startswith("tidy: 3 done")
    help_text = " ".join(run(capsys, "run-job", "--help").out.split())
    listed = help_text.split("the job: ")[1].split(" options:")[0]
    assert set(listed.split(", ")) == {str(name) for name in registry()} | {"tidy"}


def test_run_job_prints_its_result_once(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary is the command's output, not also a log line."""
    monkeypatch.setenv("SUARAWARGA_LOG_LEVEL", "INFO")
    result = run(capsys, "run-job", "deadlines")
    assert result.code == 0
    assert (result.out + result.err).count("deadlines: ") == 1


@pytest.mark.parametrize("hours", ["0", "-5"])
def test_invite_must_be_valid_for_some_time(hours: str, database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--hours 0 or negative is refused instead of printing a code that has already expired."""
    result = run(capsys, "staff", "invite", "DPUPR", "--hours", hours)
    assert result.code == 2
    assert "invite code" not in result.out
    assert f"argument --hours: {int(hours)} is outside 1–720 hours" in result.err


def test_serve_without_a_channel_names_metrics_too(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a channel, serve still answers /healthz and /metrics, and says so."""

    async def no_http(app: App, args: argparse.Namespace, asgi: object, telegram: object) -> None:
        return None

    monkeypatch.setattr(serving, "serve_http", no_http)
    result = run(capsys, "serve", "--no-setup")
    assert result.code == 0
    assert "only /healthz and /metrics will answer" in result.err


def test_db_upgrade_does_not_list_alembic_plugins(tmp_path: Path) -> None:
    """db upgrade at INFO prints the migrations it runs, not seven 'setup plugin' lines (fresh process)."""
    env = {
        **os.environ,
        "SUARAWARGA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
        "SUARAWARGA_LOG_LEVEL": "INFO",
    }
    done = subprocess.run(
        [sys.executable, "-m", "suarawarga", "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0
    assert "Running upgrade" in done.stderr
    assert "alembic.runtime.plugins" not in done.stderr


def test_help_does_not_load_the_database_layer() -> None:
    """`suarawarga --help` imports neither SQLAlchemy nor pydantic nor the job scheduler (it answers at once)."""
    script = (
        "import sys\n"
        "from suarawarga.__main__ import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'pydantic', 'apscheduler', 'suarawarga.bootstrap')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
