"""`suarawarga inbox list`: the updates given up on (dead letters) are visible to an admin."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from suarawarga.bootstrap import build
from suarawarga.bot.messages import ChannelName
from suarawarga.cli.main import main
from suarawarga.config import load_settings
from tests.cli.test_cli import database

__all__ = ["database"]


async def _store_a_dead_letter() -> None:
    app = build(load_settings())
    try:
        async with app.uow() as uow:
            await uow.inbox.add(ChannelName.TELEGRAM, "41", {"update_id": 41}, app.clock.now())
            await uow.inbox.add(ChannelName.WHATSAPP, "wamid.ok", {"message": {}}, app.clock.now())
            await uow.commit()
        async with app.uow() as uow:
            [row] = [r for r in await uow.inbox.pending(10) if r.channel is ChannelName.TELEGRAM]
            await uow.inbox.fail(row.id, "RuntimeError", True)
            await uow.commit()
    finally:
        await app.aclose()


def test_inbox_list_shows_the_dead_letters(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inbox list --status failed` lists the update given up on, with its attempts and error, not its content."""
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_store_a_dead_letter())
    capsys.readouterr()
    assert main(["inbox", "list", "--status", "failed", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["channel"], row["update"], row["status"], row["attempts"], row["error"]) == (
        "telegram",
        "41",
        "failed",
        1,
        "RuntimeError",
    )
    assert row["received_at"].endswith("+07:00")  # city time
    assert main(["inbox", "list"]) == 0
    table = capsys.readouterr().out
    assert "failed" in table and "pending" in table and table.rstrip().endswith("2 update(s)")
