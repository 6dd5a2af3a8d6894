"""The console as people use it: each terminal shows its own chat's messages; Ctrl-C leaves at once (#11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from suarawarga.bootstrap import App, build
from suarawarga.bot.channels.console import ConsoleSender, console_key, show_waiting
from suarawarga.bot.messages import ChannelName, OutboxStatus
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import StaffRole
from suarawarga.config import Settings
from tests.dialogs.test_staff_dialog import FILE_NAMED
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import jpeg_with_gps


async def test_a_console_shows_only_its_own_chats_messages(app: App, settings: Settings, clock: FrozenClock) -> None:
    """The officer's card is not shown in the citizen's terminal: it waits, pending, for the officer's console."""
    async with app.uow() as uow:
        code, _, _ = await create_invite(uow, "DPUPR", StaffRole.OFFICER, clock.now())
        await uow.commit()
    officer_screen: list[str] = []
    officer_app = build(settings, clock=clock, db=app.db)
    officer_app.register_sender(
        ChannelName.CONSOLE, ConsoleSender(officer_app.catalogue, "andi", officer_screen.append)
    )
    async with officer_app.dispatcher() as dispatcher:
        officer = Conversation(dispatcher, clock, officer_app.catalogue, "andi")
        assert await officer.say(f"gabung {code}") == ["staff.join.ok"]
    assert len(officer_screen) == 1

    citizen_screen: list[str] = []
    citizen_app = build(settings, clock=clock, db=app.db)
    citizen_app.register_sender(
        ChannelName.CONSOLE, ConsoleSender(citizen_app.catalogue, "warga", citizen_screen.append)
    )
    async with citizen_app.dispatcher() as dispatcher:
        citizen = Conversation(dispatcher, clock, citizen_app.catalogue, "warga")
        await citizen.verify(FILE_NAMED)
    assert not any("Pengaduan baru" in text for text in citizen_screen)
    assert any("tercatat dengan kode" in text for text in citizen_screen)
    async with app.uow() as uow:
        waiting = await uow.outbox.pending_for(ChannelName.CONSOLE, "andi")
        for_citizen = await uow.outbox.for_recipient(ChannelName.CONSOLE, "warga")
    assert [m.text_key for m in waiting] == ["staff.new"]
    assert {state.status for state in for_citizen} == {OutboxStatus.SENT}

    # the officer opens their console: the card is shown there, once, and marked sent
    assert await show_waiting(officer_app.uow, officer_app.delivery(), console_key("andi")) == 1
    assert "Pengaduan baru" in officer_screen[-1]
    assert await show_waiting(officer_app.uow, officer_app.delivery(), console_key("andi")) == 0
    async with app.uow() as uow:
        assert await uow.outbox.pending_for(ChannelName.CONSOLE, "andi") == []


def _console(chat: str, lines: list[str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "suarawarga", "console", "--chat", chat],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ},
        cwd=cwd,
        timeout=120,
        check=True,
    )
    return result.stdout


def _invite(unit: str, cwd: Path) -> str:
    """Return a one-time invite code for a unit's officer, as `suarawarga staff invite` prints it."""
    printed = subprocess.run(
        [sys.executable, "-m", "suarawarga", "staff", "invite", unit],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    ).stdout
    return printed.split(": ")[1].split()[0]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh SQLite file and a temporary working directory."""
    path = tmp_path / "console.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUARAWARGA_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SUARAWARGA_ATTACHMENTS_DIR", str(tmp_path / "files"))
    return path


def test_two_terminals_each_see_their_own_chat(database: Path, tmp_path: Path) -> None:
    """An officer's and a citizen's consoles on one database: each message appears in the terminal it is for."""
    _console("setup", ["/keluar"], tmp_path)
    code = _invite("DPUPR", tmp_path)
    joined = _console("petugas", [f"gabung {code}"], tmp_path)
    assert "Anda terdaftar sebagai petugas" in joined
    filed = _console(
        "warga",
        [
            "1",
            "1",
            "1",
            "Jalan di depan rumah saya berlubang besar",
            "Jl. Sudirman 10",
            "7",
            "1",
            "2",
            "Budi",
            "0812345678",
            "1",
        ],
        tmp_path,
    )
    assert "Pengaduan Anda sudah tercatat dengan kode" in filed
    assert "Pengaduan baru" not in filed
    officer = _console("petugas", ["/keluar"], tmp_path)
    assert "Pengaduan baru" in officer
    assert "Pengaduan baru" not in _console("petugas", ["/keluar"], tmp_path)  # shown once


def test_ctrl_c_at_the_prompt_leaves_at_once(database: Path, tmp_path: Path) -> None:
    """Ctrl-C while the console waits for a line exits with 130 at once, without a traceback."""
    with subprocess.Popen(
        [sys.executable, "-m", "suarawarga", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            deadline = time.monotonic() + 60
            seen = ""
            while "5. English" not in seen and time.monotonic() < deadline:
                seen += process.stdout.readline()
            assert "5. English" in seen
            time.sleep(0.5)  # now waiting at the prompt, nothing typed
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=10)  # before the fix: waits for Enter, forever
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        errors = process.stderr.read()
    assert code == 130
    assert "Traceback" not in errors
    assert "Fatal Python error" not in errors


def test_mistyped_console_commands_get_indonesian_hints(database: Path, tmp_path: Path) -> None:
    """`/lokasi` without numbers, `/foto` without a path or with a missing file: a hint in Indonesian, no English."""
    shown = _console("warga", ["/lokasi dekat pasar", "/foto", "/foto tidak-ada.jpg"], tmp_path)
    assert "Tulis /lokasi LINTANG,BUJUR, mis. /lokasi -0.95,100.35" in shown
    assert "Tulis /foto lalu jalur berkas gambarnya" in shown
    assert "Berkas tidak ditemukan: tidak-ada.jpg" in shown
    assert "usage" not in shown.lower() and "e.g." not in shown


def test_an_officers_card_names_the_photo_in_indonesian(database: Path, tmp_path: Path) -> None:
    """The officer's console lists the citizen's photo under the new complaint as `[foto: ...]`."""
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(jpeg_with_gps())
    _console("setup", ["/keluar"], tmp_path)
    _console("petugas", [f"gabung {_invite('DPUPR', tmp_path)}"], tmp_path)
    description = "Jalan di depan rumah saya berlubang besar"
    # menu, consent, category, description, address, kecamatan, photo, done, anonim, send
    steps = ["1", "1", "1", description, "Jl. Sudirman 10", "7", f"/foto {photo}", "1", "3", "1"]
    filed = _console("warga", steps, tmp_path)
    assert "cek perkembangannya dengan mengetik status PDG-" in filed  # filed, anonymously
    officer = _console("petugas", ["/keluar"], tmp_path)
    assert "Pengaduan baru" in officer and "[foto: " in officer and "[photo" not in officer
