"""The command line as an admin uses it, on a temporary SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from suarawarga.cli.main import build_parser, main
from suarawarga.cli.output import commands

SUBCOMMANDS = [words for words, _ in commands(build_parser())]  # every command, a new one included


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh SQLite file and a temporary working directory."""
    path = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUARAWARGA_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SUARAWARGA_ATTACHMENTS_DIR", str(tmp_path / "files"))
    return path


@pytest.mark.parametrize("words", SUBCOMMANDS)
def test_every_subcommand_has_help(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` works on every subcommand and describes it."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*words, "--help"])
    assert exit_info.value.code == 0
    assert "usage: suarawarga" in capsys.readouterr().out


def test_upgrade_seed_and_list(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """db upgrade, seed (twice) and complaint list work on an empty database."""
    assert main(["db", "upgrade"]) == 0
    assert main(["seed"]) == 0
    first = capsys.readouterr().out
    assert main(["seed"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == first.splitlines()[-1]
    assert main(["complaint", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["complaint", "list", "--unit", "NOPE"]) == 2
    assert main(["complaint", "show", "PDG-234567"]) == 1


def _run_console(lines: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "suarawarga", "console"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_new_user_files_a_complaint_in_the_console(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On an empty database the console sets itself up, takes a complaint, and the CLI lists and shows it."""
    env = {**os.environ}
    out = _run_console(
        [
            "1",  # Buat pengaduan
            "1",  # Setuju
            "1",  # Jalan rusak
            "Jalan di depan rumah saya berlubang besar",
            "/lokasi -0.95,100.35",
            "7",  # Padang Barat
            "1",  # Selesai (no photos)
            "2",  # Bernama
            "Budi Santoso",
            "081234567890",
            "1",  # Kirim
        ],
        env,
        tmp_path,
    )
    assert "Pengaduan Anda sudah tercatat dengan kode PDG-" in out
    code = out.split("tercatat dengan kode ")[1].split()[0]
    assert main(["complaint", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["code"], c["unit"], c["category"], c["status"]) for c in listed] == [
        (code, "DPUPR", "jalan_rusak", "diterima")
    ]
    assert main(["complaint", "show", code, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["reporter"] == "Budi Santoso"
    assert [e["event"] for e in shown["history"]] == ["filed"]
    again = _run_console([f"status {code}", "/keluar"], env, tmp_path)
    assert "Tercatat, menunggu diterima OPD" in again


def test_console_resumes_the_conversation(database: Path, tmp_path: Path) -> None:
    """Leaving the console mid-complaint and starting it again continues at the same question."""
    env = {**os.environ}
    _run_console(["1", "1", "3"], env, tmp_path)
    out = _run_console(["Air selokan meluap ke jalan setiap hujan"], env, tmp_path)
    assert "Di mana lokasinya?" in out
