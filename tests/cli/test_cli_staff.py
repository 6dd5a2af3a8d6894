"""`suarawarga staff list / remove / unlink-group / history` as an admin uses them (#12 item 7)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest

from suarawarga.bootstrap import build
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.messages import ChannelName
from suarawarga.cli.main import main
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import StaffRole
from suarawarga.config import load_settings
from suarawarga.storage.migrate import upgrade
from tests.dialogs.test_staff_dialog import FILE_NAMED
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh SQLite file and a temporary working directory."""
    path = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUARAWARGA_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SUARAWARGA_ATTACHMENTS_DIR", str(tmp_path / "files"))
    return path


async def _chat(script: list[tuple[str, str, bool]]) -> list[list[str]]:
    """Run (chat, line, in a group) through the bot on the CLI's database; return each answer's text keys."""
    app = build(load_settings(), clock=FrozenClock())
    app.register_sender(ChannelName.CONSOLE, RecordingSender(app.catalogue))
    answers: list[list[str]] = []
    try:
        await upgrade(app.db)
        async with app.dispatcher() as dispatcher:
            for chat, line, group in script:
                conversation = Conversation(dispatcher, app.clock, app.catalogue, chat)
                inbound = dataclasses.replace(conversation.inbound(line), group=group, sender_id="andi")
                if chat == "andi":
                    inbound = dataclasses.replace(inbound, sender_name="Pak Andi")
                if chat == "warga":
                    inbound = dataclasses.replace(inbound, sender_id="warga")
                answers.append(await conversation.send(inbound))
    finally:
        await app.aclose()
    return answers


async def _invite(unit: str) -> str:
    app = build(load_settings())
    try:
        async with app.uow() as uow:
            code, _, _ = await create_invite(uow, unit, StaffRole.OFFICER, app.clock.now())
            await uow.commit()
    finally:
        await app.aclose()
    return code


def test_list_remove_unlink_and_history(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An admin lists staff, removes an officer (whose buttons stop), unlinks a group; each change is recorded."""
    assert main(["db", "upgrade"]) == 0
    assert main(["seed"]) == 0
    join, link = asyncio.run(_invite("DPUPR")), asyncio.run(_invite("DPUPR"))
    answers = asyncio.run(
        _chat(
            [
                ("andi", f"gabung {join}", False),
                ("grup", f"/hubungkan {link}", True),
                *[("warga", line, False) for line, _ in FILE_NAMED],
            ]
        )
    )
    assert answers[:2] == [["staff.join.ok"], ["staff.link.ok"]]
    capsys.readouterr()

    assert main(["staff", "list", "dpupr"]) == 0  # unit codes in any letter case
    table = capsys.readouterr().out
    assert "Pak Andi" in table and "DPUPR" in table and "grup" in table
    assert main(["staff", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    [officer] = listed["officers"]
    [group] = listed["groups"]
    assert (officer["name"], officer["unit"], officer["role"]) == ("Pak Andi", "DPUPR", "officer")
    assert officer["joined_at"].endswith("+07:00")

    assert main(["staff", "remove", str(officer["id"]), "--reason", "pindah tugas"]) == 0
    assert "removed Pak Andi" in capsys.readouterr().out
    code = asyncio.run(_code_of_last_complaint())
    after = asyncio.run(_chat([("grup", "antrian", True)]))
    assert after == [["staff.not_allowed"]]
    pressed = asyncio.run(_press("andi", f"cmd:st acc {code}"))
    assert pressed == ["staff.not_allowed"]

    assert main(["staff", "unlink-group", str(group["id"])]) == 0
    assert "no longer receives" in capsys.readouterr().out
    assert main(["staff", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"officers": [], "groups": []}

    assert main(["staff", "history", "--format", "json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [(h["event"], h["by"], h["reason"]) for h in history] == [
        ("unlinked", "cli", None),
        ("removed", "cli", "pindah tugas"),
        ("linked", "chat", None),
        ("joined", "chat", "officer"),
    ]
    assert history[1]["officer"] == "Pak Andi"
    assert main(["staff", "history", "DPUPR"]) == 0
    assert "admin (CLI) — pindah tugas" in capsys.readouterr().out


async def _code_of_last_complaint() -> str:
    app = build(load_settings())
    try:
        async with app.uow() as uow:
            [complaint] = await uow.complaints.list(None)
    finally:
        await app.aclose()
    return complaint.code


async def _press(chat: str, choice: str) -> list[str]:
    app = build(load_settings(), clock=FrozenClock())
    app.register_sender(ChannelName.CONSOLE, RecordingSender(app.catalogue))
    try:
        async with app.dispatcher() as dispatcher:
            conversation = Conversation(dispatcher, app.clock, app.catalogue, chat)
            inbound = dataclasses.replace(conversation.inbound("x"), text=None, choice=choice)
            return await conversation.send(inbound)
    finally:
        await app.aclose()


@pytest.mark.parametrize(
    "words",
    [
        ["staff", "list", "NOPE"],
        ["staff", "history", "nope"],
        ["staff", "remove", "999"],
        ["staff", "unlink-group", "999"],
    ],
)
def test_wrong_values_get_one_line_and_exit_2(
    words: list[str], database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown unit or number: one line on stderr naming the command and the value, exit 2, no traceback."""
    assert main(["db", "upgrade"]) == 0
    assert main(["seed"]) == 0
    capsys.readouterr()
    assert main(words) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"suarawarga staff {words[1]}: ")
    assert words[2].lower() in err.lower()


@pytest.mark.parametrize("value", ["abc", "0", "-3", "99999999999"])
def test_a_malformed_number_is_refused_by_the_parser(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`staff remove` takes only a positive number, said so without a traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(["staff", "remove", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "expected a number from suarawarga staff list" in err
    assert "Traceback" not in err
