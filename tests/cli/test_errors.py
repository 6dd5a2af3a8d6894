"""Every command fails the same way: one line naming the command, the value and what is expected; never a trace."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path

import pytest

from suarawarga.cli import data, serving
from suarawarga.cli.main import build_parser
from suarawarga.cli.output import commands
from tests.cli.support import Run, prepare, run


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A migrated and seeded SQLite database for the CLI."""
    return prepare(tmp_path, monkeypatch, capsys)


def one_line_error(result: Run, command: str, *expected: str) -> None:
    """Assert a user error: exit 2, one line on stderr naming the command and saying each expected text."""
    assert "Traceback" not in result.err + result.out
    assert result.code == 2, result
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith(f"suarawarga {command}: "), line
    for text in expected:
        assert text in line, line


@pytest.mark.parametrize(
    ("argv", "command", "expected"),
    [
        (["seed", "nofile.yaml"], "seed", ["'nofile.yaml'", "No such file", "expected a seed YAML file"]),
        (["audit", "--since", "2026-13-45"], "audit", ["--since '2026-13-45'", "expected a date"]),
        (["audit", "--since", "yesterday"], "audit", ["--since 'yesterday'", "e.g. 2026-12-01"]),
        (["run-job", "deadlines", "--at", "tomorrow"], "run-job", ["--at 'tomorrow'", "expected a date"]),
        (["digest", "preview", "--week", "2026-W99"], "digest preview", ["'2026-W99'", "expected an ISO week"]),
        (["run-job", "digests", "--period", "2026-W99"], "run-job", ["'2026-W99'", "expected an ISO week"]),
        (["staff", "invite", "DPUPR", "--hours", "99999999"], "staff invite", ["--hours", "99999999", "1–720"]),
        (["survey", "import", "x.csv", "--unit", "DPUPR", "--batch", "0"], "survey import", ["--batch", "0"]),
        (["db", "upgrade", "--revision", "nope"], "db upgrade", ["'nope'", "expected head or a revision"]),
        (["report", "ikm", "--period", "2026-Q5"], "report ikm", ["2026-Q5"]),
    ],
)
def test_bad_values_are_one_line(
    database: Path, argv: list[str], command: str, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The values issue #11 found printing a traceback now print one line and exit 2."""
    one_line_error(run(capsys, *argv), command, *expected)


def test_bad_seed_files_are_one_line(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A YAML syntax error says where it is; an invalid seed keeps its message, on one line."""
    (tmp_path / "bad.yaml").write_text("city: [\n", encoding="utf-8")
    one_line_error(run(capsys, "seed", "bad.yaml"), "seed", "bad.yaml: not valid YAML", "line 2")
    (tmp_path / "inv.yaml").write_text("units: 5\n", encoding="utf-8")
    one_line_error(run(capsys, "seed", "inv.yaml"), "seed", "inv.yaml: 'city' is a mapping")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "foo", "SUARAWARGA_DATABASE_URL='foo'"),
        ("DATABASE_URL", "postgresql+psycopg://sw:geheim@127.0.0.1:1/sw", "Connection refused"),
        ("TIMEZONE", "Mars/Base", "SUARAWARGA_TIMEZONE='Mars/Base': unknown timezone (expected an IANA name"),
        ("LANGUAGE", "fr", "SUARAWARGA_LANGUAGE='fr': unknown language (expected id or en)"),
    ],
)
def test_bad_settings_are_one_line(
    database: Path,
    variable: str,
    value: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong setting or an unreachable database is one line naming the variable and its value, no password."""
    monkeypatch.setenv(f"SUARAWARGA_{variable}", value)
    result = run(capsys, "complaint", "list")
    one_line_error(result, "complaint list", expected)
    assert "geheim" not in result.err


def test_unwritable_sqlite_path_is_one_line(tmp_path: Path) -> None:
    """A SQLite file in a folder that does not exist is one line saying what to check (run as the admin runs it).

    In a process of its own: aiosqlite leaves the failed connection's thread behind, which ends with the process.
    """
    env = {**os.environ, "SUARAWARGA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/missing/x.db"}
    done = subprocess.run(
        [sys.executable, "-m", "suarawarga", "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120
    )
    result = Run(done.returncode, done.stdout, done.stderr)
    one_line_error(result, "db upgrade", "unable to open database file", "folder exists")


def test_output_folders_are_created(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--output into a folder that does not exist yet creates it, as `qr` does; a file in the way is one line."""
    assert run(capsys, "report", "ikm", "--format", "csv", "--output", "new/csv/ikm.csv").code == 0
    assert (tmp_path / "new" / "csv" / "ikm.csv").is_file()
    assert run(capsys, "report", "ikm", "--format", "xlsx", "--output", "new/xlsx/ikm.xlsx").code == 0
    assert (tmp_path / "new" / "xlsx" / "ikm.xlsx").is_file()
    (tmp_path / "plain").write_text("", encoding="utf-8")
    one_line_error(
        run(capsys, "report", "chart", "--output", "plain/chart.png"), "report chart", "'plain/chart.png'", "folder"
    )


def test_unexpected_error_is_one_line_and_a_trace_file(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug prints one line saying where the whole trace is (readable by its owner only), exit code 1."""

    async def broken(app: object, args: argparse.Namespace) -> int:
        raise RuntimeError("boom at 081234567890")

    monkeypatch.setattr(data, "cmd_audit", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run(capsys, "audit")
    assert result.code == 1
    assert "Traceback" not in result.err
    [line] = result.err_lines
    assert line.startswith("suarawarga audit: unexpected error RuntimeError: boom at <number>; full trace in ")
    trace = Path(line.split("full trace in ")[1])
    assert trace.parent == tmp_path
    assert trace.stat().st_mode & 0o077 == 0
    assert "Traceback" in trace.read_text(encoding="utf-8")
    assert "081234567890" not in trace.read_text(encoding="utf-8")


BAD = ("NOPE", "-1", "\x1b[2J")
DATES = ("2026-13-45",)
GOOD = {"week": "2026-W48", "unit": "DPUPR", "name": "deadlines"}


def bad_runs() -> list[list[str]]:
    """Every command from the parser (so a new one is covered), with each of its values wrong in turn."""
    runs = []
    for words, parser in commands(build_parser()):
        runs.append([*words, "--no-such-option"])
        valued = [a for a in parser._actions if a.nargs != 0 and not isinstance(a, argparse._HelpAction)]
        for action in valued:
            wrong = BAD + (DATES if action.dest in ("at", "since", "period", "week", "date_from", "date_to") else ())
            for value in wrong:
                argv = list(words)
                for other in valued:
                    given = value if other is action else GOOD.get(other.dest, "NOPE")
                    if not other.option_strings:
                        argv.append(given)
                    elif other is action or other.required:
                        argv += [other.option_strings[-1], given]
                runs.append(argv)
    return runs


async def _return_at_once(work: Awaitable[None]) -> None:
    """Stand-in for waiting for Ctrl-C: a server command that got this far ends at once."""
    close = getattr(work, "close", None)
    if close is not None:
        close()


def test_every_command_with_bad_values_prints_no_traceback(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command and subcommand, each value wrong in turn: never a traceback; a user error is one line."""
    monkeypatch.setattr(serving, "until_stopped", _return_at_once)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the console reads end-of-input and leaves
    runs = bad_runs()
    assert len(runs) > 60
    failures = []
    for argv in runs:
        result = run(capsys, *argv)
        if "Traceback" in result.out + result.err:
            failures.append(f"{argv}: traceback")
        elif result.code == 2 and (len(result.err_lines) != 1 or not result.err_lines[0].startswith("suarawarga")):
            failures.append(f"{argv}: {result.err!r}")
        elif "\x1b" in result.out + result.err:
            failures.append(f"{argv}: raw escape in {result.out + result.err!r}")
    assert failures == []
