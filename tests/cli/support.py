"""Helpers of the CLI tests: run the command line in-process and see what an admin sees."""

from __future__ import annotations

import asyncio
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from suarawarga.bootstrap import build
from suarawarga.bot.messages import ChannelName
from suarawarga.cli.main import main
from suarawarga.complaints.model import IdentityMode
from suarawarga.complaints.services import ComplaintDraft, file_complaint
from suarawarga.config import load_settings


@dataclass(frozen=True)
class Run:
    """What one command printed, and its exit code."""

    code: int | str | None
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """Return the non-empty lines on stderr."""
        return [line for line in self.err.splitlines() if line.strip()]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """Run `suarawarga ARGV`; an exception escaping main() counts as the traceback the admin would see."""
    capsys.readouterr()
    try:
        code: int | str | None = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # what the console script would print as a traceback
        captured = capsys.readouterr()
        return Run(1, captured.out, captured.err + "".join(traceback.format_exception(exc)))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def prepare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """Point the CLI at a fresh, migrated and seeded SQLite file in a temporary working directory."""
    path = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUARAWARGA_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SUARAWARGA_ATTACHMENTS_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("SUARAWARGA_LOG_LEVEL", "WARNING")
    for name in ("TIMEZONE", "LANGUAGE", "TELEGRAM_TOKEN", "TELEGRAM_BOT_USERNAME", "WHATSAPP_PHONE_NUMBER"):
        monkeypatch.delenv(f"SUARAWARGA_{name}", raising=False)
    assert run(capsys, "db", "upgrade").code == 0
    assert run(capsys, "seed").code == 0
    return path


def file_anonymous(description: str, at: datetime, category: str = "jalan_rusak") -> str:
    """File an anonymous complaint straight into the database the CLI uses; return its tracking code."""

    async def go() -> str:
        app = build(load_settings())
        try:
            async with app.uow() as uow:
                filed = await file_complaint(
                    uow,
                    ComplaintDraft(
                        category_code=category,
                        description=description,
                        identity_mode=IdentityMode.ANONIM,
                        channel=ChannelName.CONSOLE,
                        chat_id="warga",
                        citizen_id=None,
                        language="id",
                    ),
                    at,
                    "PDG",
                )
                await uow.commit()
            return filed.code
        finally:
            await app.aclose()

    return asyncio.run(go())
