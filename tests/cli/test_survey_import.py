"""`survey import` with the files offices really have: a unit column, Excel's UTF-16 and BOM exports, words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import prepare, run

UNSUR = "persyaratan,prosedur,waktu,biaya,produk,kompetensi,perilaku,pengaduan,sarana"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A migrated and seeded SQLite database for the CLI."""
    return prepare(tmp_path, monkeypatch, capsys)


def test_a_unit_column_makes_unit_optional(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rows that name their unit need no --unit; without either, the file or the row says what is missing."""
    path = tmp_path / "units.csv"
    path.write_text(
        f"submitted_at,unit,{UNSUR}\n2025-10-05,PKM-ANDALAS,4,3,3,4,3,4,4,2,3\n2025-10-06,pkm-pauh,3,3,3,3,3,3,3,3,3\n",
        encoding="utf-8",
    )
    result = run(capsys, "survey", "import", str(path))
    assert result.code == 0, result
    assert "2 imported" in result.out
    no_column = tmp_path / "plain.csv"
    no_column.write_text(f"submitted_at,{UNSUR}\n2025-10-05,4,3,3,4,3,4,4,2,3\n", encoding="utf-8")
    refused = run(capsys, "survey", "import", str(no_column))
    assert refused.code == 2
    assert refused.err_lines == [
        f"suarawarga survey import: '{no_column}': no unit column: pass --unit UNITCODE"
        " for the unit these rows are about"
    ]
    gap = tmp_path / "gap.csv"
    gap.write_text(f"submitted_at,unit,{UNSUR}\n2025-10-05,,4,3,3,4,3,4,4,2,3\n", encoding="utf-8")
    missing = run(capsys, "survey", "import", str(gap))
    assert missing.code == 1
    assert "line 2: no unit: fill in the unit column, or pass --unit" in missing.err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_excel_exports_are_read(
    encoding: str, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel's "Unicode text" (UTF-16 with a BOM, tab separated) and its UTF-8 CSV with a BOM both import."""
    rows = [f"submitted_at\tunit\t{UNSUR.replace(',', chr(9))}", "05/10/2025\tPKM-ANDALAS\t4\t3\t3\t4\t3\t4\t4\t2\t3"]
    text = "\r\n".join(rows) + "\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # big-endian with its BOM, as some tools write it
    path = tmp_path / "excel.txt"
    path.write_bytes(data)
    result = run(capsys, "survey", "import", str(path))
    assert result.code == 0, result
    assert "1 imported" in result.out


def test_a_word_is_not_a_number(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`empat` is "not a number"; `5` is "outside 1–4"."""
    path = tmp_path / "words.csv"
    path.write_text(
        f"submitted_at,{UNSUR}\n2025-10-05,empat,3,3,4,3,4,4,2,3\n2025-10-05,5,3,3,4,3,4,4,2,3\n", encoding="utf-8"
    )
    result = run(capsys, "survey", "import", str(path), "--unit", "pkm-andalas")
    assert result.code == 1
    assert "persyaratan: score 'empat' is not a number (write 1–4, or a–d)" in result.err
    assert "persyaratan: score '5' is outside 1–4" in result.err
    assert "'empat' is outside" not in result.err
