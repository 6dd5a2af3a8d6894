"""The IKM commands as an admin runs them, on a temporary SQLite file: import, report, chart and QR poster."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from suarawarga.cli.main import build_parser, main
from suarawarga.surveys.graphics import PosterLink, PosterText, qr_matrix, qr_poster, telegram_link, whatsapp_link

HEADER = "submitted_at,persyaratan,prosedur,waktu,biaya,produk,kompetensi,perilaku,pengaduan,sarana,unit,saran"
ROWS = [
    "2025-10-05 09:30,4,3,3,4,3,4,4,2,3,,Tambah kursi",
    "2025-10-06,3,3,2,4,3,3,4,,3,,",
    "2025-11-02,4,4,4,4,4,4,4,4,4,PKM-PAUH,",
    "2025-12-31 23:59,2,3,3,4,2,3,3,3,2,,Parkir sempit",
    "2026-01-01 00:00,1,1,1,1,1,1,1,1,1,,",  # next quarter: outside 2025-Q4
]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh, migrated and seeded SQLite file in a temporary working directory."""
    path = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUARAWARGA_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SUARAWARGA_ATTACHMENTS_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("SUARAWARGA_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("SUARAWARGA_TELEGRAM_BOT_USERNAME", raising=False)
    monkeypatch.delenv("SUARAWARGA_WHATSAPP_PHONE_NUMBER", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert main(["seed"]) == 0
    return path


def write_csv(folder: Path, rows: list[str], name: str = "paper.csv") -> Path:
    """Write a CSV with the standard header and return its path."""
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("words", [["report", "ikm"], ["report", "chart"], ["survey", "import"], ["qr"]])
def test_new_commands_have_help(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` works on every IKM command and mentions its options."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*words, "--help"])
    assert exit_info.value.code == 0
    assert "usage: suarawarga" in capsys.readouterr().out


def test_import_refuses_bad_files_then_skip_bad_and_reimport(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad rows are listed by line and nothing is stored; --skip-bad stores the rest; a re-import adds nothing."""
    capsys.readouterr()
    path = write_csv(tmp_path, [*ROWS[:2], "2025-10-07,3,3,9,3,3,3,3,3,3,,", "kemarin,3,3,3,3,3,3,3,3,3,,"])
    assert main(["survey", "import", str(path), "--unit", "PKM-ANDALAS"]) == 1
    err = capsys.readouterr().err
    assert f"{path}: line 4: waktu: score '9' is outside 1–4" in err and f"{path}: line 5: submitted_at" in err
    assert "nothing stored: 2 bad row(s)" in err
    assert main(["report", "ikm", "--unit", "PKM-ANDALAS", "--period", "2025-Q4", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["n"] == 0
    assert main(["survey", "import", str(path), "--unit", "PKM-ANDALAS", "--skip-bad"]) == 0
    assert "2 imported, 0 already imported, 2 bad row(s) left out" in capsys.readouterr().out
    assert main(["survey", "import", str(path), "--unit", "pkm-andalas", "--skip-bad"]) == 0
    assert "0 imported, 2 already imported" in capsys.readouterr().out
    assert main(["survey", "import", str(path), "--unit", "NOPE"]) == 2
    assert main(["survey", "import", str(tmp_path / "missing.csv"), "--unit", "PKM-ANDALAS"]) == 2


def test_report_formats_agree_through_the_cli(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """json, csv, table and xlsx written by the CLI show the same IKM for the OPD and its puskesmas."""
    assert main(["survey", "import", str(write_csv(tmp_path, ROWS)), "--unit", "PKM-ANDALAS"]) == 0
    capsys.readouterr()
    base = ["report", "ikm", "--unit", "DINKES", "--period", "2025-Q4"]
    assert main([*base, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["scope"], r["unit"], r["n"]) for r in rows] == [
        ("opd", "DINKES", 4),
        ("unit", "PKM-ANDALAS", 3),
        ("unit", "PKM-PAUH", 1),
    ]
    assert rows[2]["ikm"] == "100.00" and rows[2]["mutu"] == "A"
    assert main([*base, "--format", "csv", "--output", "r.csv"]) == 0
    parsed = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    assert [(c["unit"], c["ikm"], c["ni"], c["mutu"]) for c in parsed] == [
        (r["unit"], r["ikm"], r["ni"], r["mutu"]) for r in rows
    ]
    assert main([*base, "--format", "xlsx", "--output", "r.xlsx"]) == 0
    sheet = load_workbook(tmp_path / "r.xlsx")["Pengolahan data"]
    by_label = {r[0]: r[1] for r in sheet.iter_rows(values_only=True) if isinstance(r[0], str)}
    assert f"{by_label['**) IKM Unit Pelayanan']:.2f}" == rows[0]["ikm"]
    assert main([*base, "--format", "xlsx"]) == 2  # xlsx needs a file
    capsys.readouterr()
    assert main([*base]) == 0
    table = capsys.readouterr().out
    assert all(f" {r['ikm']} {r['mutu']} " in table for r in rows)
    assert main(["report", "ikm", "--from", "2025-10-01", "--to", "2025-12-31", "--format", "json"]) == 0
    city = json.loads(capsys.readouterr().out)[0]
    assert (city["scope"], city["n"], city["period"]) == ("city", 4, "2025-10-01..2025-12-31")
    assert main(["report", "ikm", "--period", "2025-Q5"]) == 2
    assert main(["report", "ikm", "--from", "2025-10-01"]) == 2
    assert main(["report", "ikm", "--unit", "NOPE"]) == 2
    assert main([*base, "--weight", "0.11", "--format", "json", "--population", "100"]) == 0
    legacy = json.loads(capsys.readouterr().out)[0]
    assert legacy["weight"] == "0.11" and Decimal(legacy["ikm"]) < Decimal(rows[0]["ikm"])
    assert (legacy["min_sample"], legacy["sample_ok"]) == (80, False)


def test_report_language_names_the_city_in_that_language(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report ikm --language en` labels the city row in English, not in the bot's default language."""
    assert main(["survey", "import", str(write_csv(tmp_path, ROWS)), "--unit", "PKM-ANDALAS"]) == 0
    capsys.readouterr()
    assert main(["report", "ikm", "--period", "2025-Q4", "--format", "json", "--language", "en"]) == 0
    city = json.loads(capsys.readouterr().out)[0]
    assert city["scope"] == "city"
    assert "Whole city" in json.dumps(city)
    assert "Seluruh kota" not in json.dumps(city)


def test_chart_pngs_are_written(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """report chart writes a unit's NRR chart and the ranked OPD chart as PNG images."""
    assert main(["survey", "import", str(write_csv(tmp_path, ROWS)), "--unit", "PKM-ANDALAS"]) == 0
    assert main(["report", "chart", "--unit", "PKM-ANDALAS", "--period", "2025-Q4", "--output", "unit.png"]) == 0
    assert main(["report", "chart", "--period", "2025-Q4", "--output", "opd.png"]) == 0
    for name in ("unit.png", "opd.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width >= 800 and image.height >= 300
    assert main(["report", "chart", "--unit", "DISDUKCAPIL", "--period", "2025-Q4", "--output", "x.png"]) == 1
    assert not (tmp_path / "x.png").exists()


def test_qr_command_writes_png_and_pdf(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """qr writes an A4 PNG and a PDF; the WhatsApp link is added when the business number is set."""
    capsys.readouterr()
    assert main(["qr", "PKM-ANDALAS"]) == 2  # no bot username and no WhatsApp number
    assert main(["qr", "pkm-andalas", "--bot-username", "@SuaraWargaBot", "--output", "out/poster.png"]) == 0
    out = capsys.readouterr().out
    assert "https://t.me/SuaraWargaBot?start=ikm_PKM-ANDALAS" in out and "wa.me" not in out
    monkeypatch.setenv("SUARAWARGA_WHATSAPP_PHONE_NUMBER", "+62 812-3456-7890")
    monkeypatch.setenv("SUARAWARGA_TELEGRAM_BOT_USERNAME", "SuaraWargaBot")
    assert main(["qr", "PKM-ANDALAS"]) == 0
    out = capsys.readouterr().out
    assert "https://wa.me/6281234567890?text=mulai%20ikm_PKM-ANDALAS" in out
    for png in (tmp_path / "out" / "poster.png", tmp_path / "qr-PKM-ANDALAS.png"):
        with Image.open(png) as image:
            assert image.size == (1240, 1754)  # A4 at 150 dpi
        assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


def test_poster_modules_match_the_qr_matrix(tmp_path: Path) -> None:
    """Every module drawn on the poster has the colour of the encoded QR matrix (a decode without a decoder)."""
    links = [
        PosterLink("Telegram", telegram_link("SuaraWargaBot", "DISDUKCAPIL"), ("t.me/SuaraWargaBot",)),
        PosterLink("WhatsApp", whatsapp_link("62811", "X"), ("wa.me/62811",)),
    ]
    text = PosterText("Pemerintah Kota Padang", "SURVEI", "Dinas Dukcapil", "Pindai", "1. Pindai", "Kode: DISDUKCAPIL")
    poster = qr_poster(tmp_path / "p.png", text, links)
    assert [c.url for c in poster.codes] == [link.url for link in links]
    with Image.open(poster.png) as image:
        pixels = image.convert("L")
        for code in poster.codes:
            matrix = qr_matrix(code.url)
            assert code.modules == len(matrix) and code.module >= 4  # ≥ 4 px a module prints and scans well
            assert code.left + code.modules * code.module <= poster.size[0]
            for row, cells in enumerate(matrix):
                for col, dark in enumerate(cells):
                    x = code.left + col * code.module + code.module // 2
                    y = code.top + row * code.module + code.module // 2
                    assert (pixels.getpixel((x, y)) == 0) is dark, (code.caption, row, col)
    with pytest.raises(ValueError, match="at least one link"):
        qr_poster(tmp_path / "q.png", text, [])
