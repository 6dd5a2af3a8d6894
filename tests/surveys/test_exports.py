"""The same questionnaires give the same figures through JSON, the text table, CSV and the xlsx workbook."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from suarawarga.bootstrap import App
from suarawarga.surveys.definitions import UNSUR_ORDER, ProfileField, unsur_label
from suarawarga.surveys.export import CSV_COLUMNS, report_csv, report_json, report_table, write_xlsx
from suarawarga.surveys.ikm import Weight
from suarawarga.surveys.periods import parse_period
from suarawarga.surveys.services import IkmReport, ikm_report, profile_counts, responses_in
from tests.support.clock import JAKARTA
from tests.surveys.support import Made, spread, store

Q4 = datetime(2026, 10, 1, tzinfo=JAKARTA)
JSON_FIELDS = {
    "unit",
    "period",
    "n",
    "nrr",
    "ni",
    "ikm",
    "mutu",
    "kinerja",
    "weakest",
    "weight",
    "min_sample",
    "sample_ok",
}


async def dinkes_report(app: App, weight: Weight = Weight.EXACT) -> IkmReport:
    """Store questionnaires for Dinkes and two puskesmas (one skipping pengaduan) and report on Dinkes."""
    rnd = random.Random(11)
    made = spread(rnd, ["DINKES", "PKM-ANDALAS"], 120, Q4, 90)
    made += [
        Made("PKM-PAUH", Q4 + timedelta(days=i), {**dict.fromkeys(UNSUR_ORDER, 3), UNSUR_ORDER[7]: None})
        for i in range(5)
    ]
    await store(app, made, saran_every=7)
    async with app.uow() as uow:
        return await ikm_report(uow, parse_period("2026-Q4", JAKARTA), weight, "DINKES", population=500)


def whole(value: object) -> int:
    """Return a cell's integer value (0 for an empty cell)."""
    return value if isinstance(value, int) else 0


def label_for(app: App) -> Any:
    """Return an Indonesian catalogue renderer."""
    return lambda key: app.catalogue.render(key, "id")


async def test_json_has_the_issue_fields_and_display_rounding(app: App) -> None:
    """Each JSON line has the issue's fields; NRR has 3 places, NI 4, IKM 2; a skipped unsur is null."""
    report = await dinkes_report(app)
    rows = json.loads(report_json(report))
    assert [r["unit"] for r in rows] == ["DINKES", "DINKES", "PKM-ANDALAS", "PKM-PAUH"]
    for row, line in zip(rows, report.lines, strict=True):
        assert set(row) >= JSON_FIELDS
        assert row["period"] == "2026-Q4" and row["weight"] == "exact" and row["n"] == line.n_respondents
        assert line.result is not None
        assert row["ikm"] == line.result.ikm_display and len(row["ikm"].split(".")[1]) == 2
        assert len(row["ni"].split(".")[1]) == 4
        assert all(v is None or len(v.split(".")[1]) == 3 for v in row["nrr"].values())
        assert row["weakest"] == [u.value for u in line.result.weakest]
    assert rows[0]["min_sample"] == 217 and rows[0]["sample_ok"] is False  # N=500 -> 217 (Krejcie–Morgan table)
    assert rows[0]["mean_of_unit_ikms"]["method"] == "mean_of_unit_ikms"
    assert rows[3]["nrr"]["pengaduan"] is None and rows[3]["ikm"] == "75.00" and rows[3]["mutu"] == "C"


async def test_csv_and_table_show_the_json_figures(app: App) -> None:
    """CSV cells and table columns carry exactly the JSON figures of every line."""
    report = await dinkes_report(app)
    rows = json.loads(report_json(report))
    parsed = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert tuple(parsed[0]) == CSV_COLUMNS
    for row, cells in zip(rows, parsed, strict=True):
        assert (cells["unit"], cells["n"], cells["ni"], cells["ikm"], cells["mutu"]) == (
            row["unit"],
            str(row["n"]),
            row["ni"],
            row["ikm"],
            row["mutu"],
        )
        assert [cells[f"nrr_{u.value}"] for u in UNSUR_ORDER] == [row["nrr"][u.value] or "" for u in UNSUR_ORDER]
        assert cells["weakest"].split(";") == row["weakest"]
    table = report_table(report, label_for(app)).splitlines()
    assert table[0].startswith("IKM 2026-Q4") and "bobot 1/9 (eksak)" in table[0]
    for row in rows:
        assert any(
            line.split()[:5] == [row["scope"], row["unit"], str(row["n"]), row["ikm"], row["mutu"]]
            and f" {row['kinerja']} " in line
            for line in table
        ), row["unit"]
    detail = {line.split()[0]: line.split() for line in table if line[:2] in {f"U{i}" for i in range(1, 10)}}
    for unsur in UNSUR_ORDER:
        assert detail[unsur_label(unsur)][-2] == rows[0]["nrr"][unsur.value]


async def test_xlsx_read_back_shows_the_same_figures(app: App, tmp_path: Path) -> None:
    """The workbook's summary and the standard processing sheet carry the JSON figures and the raw grid."""
    report = await dinkes_report(app, Weight.LEGACY_0111)
    rows = json.loads(report_json(report))
    period = report.period
    async with app.uow() as uow:
        responses = await responses_in(uow, period, report.first())
        profile = await profile_counts(uow, period, report.first())
    path = tmp_path / "ikm.xlsx"
    write_xlsx(path, report, responses, profile, label_for(app), JAKARTA)
    book = load_workbook(path)
    assert book.sheetnames == ["Ringkasan", "Pengolahan data", "Profil", "Saran"]

    summary = [list(r) for r in book["Ringkasan"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(summary) if r[:2] == ["Cakupan", "Kode unit"])  # headings in words
    assert len(summary[header]) == len(CSV_COLUMNS)
    for row, cells in zip(rows, summary[header + 1 :], strict=True):
        got = dict(zip(CSV_COLUMNS, cells, strict=True))
        assert (got["unit"], got["n"], f"{got['ikm']:.2f}", f"{got['ni']:.4f}") == (
            row["unit"],
            row["n"],
            row["ikm"],
            row["ni"],
        )
        assert [None if got[f"nrr_{u.value}"] is None else f"{got[f'nrr_{u.value}']:.3f}" for u in UNSUR_ORDER] == [
            row["nrr"][u.value] for u in UNSUR_ORDER
        ]
        assert got["weight"] == "0,111" and got["min_sample"] == row["min_sample"]

    sheet = [list(r) for r in book["Pengolahan data"].iter_rows(values_only=True)]
    start = sheet.index(["No. Resp", *(f"U{i}" for i in range(1, 10))])
    grid = sheet[start + 1 : start + 1 + rows[0]["n"]]
    assert [r[0] for r in grid] == list(range(1, rows[0]["n"] + 1))
    by_label = {r[0]: r[1:] for r in sheet if isinstance(r[0], str)}
    sums = by_label["Σ Nilai/Unsur"]
    for column, unsur in enumerate(UNSUR_ORDER):
        assert sums[column] == sum(whole(r[column + 1]) for r in grid)  # Σ agrees with the grid itself
        assert f"{by_label['NRR/Unsur'][column]:.3f}" == rows[0]["nrr"][unsur.value]
    assert f"{by_label['*) Jumlah NRR tertimbang'][0]:.4f}" == rows[0]["ni"]
    assert f"{by_label['**) IKM Unit Pelayanan'][0]:.2f}" == rows[0]["ikm"]
    assert by_label["Mutu pelayanan"][0] == app.catalogue.render(f"ikm.mutu.{rows[0]['mutu']}", "id")
    assert "NRR tertimbang/Unsur (× 0,111)" in by_label
    assert [r[0] for r in sheet if r[0] and str(r[0]).startswith("IKM UNIT PELAYANAN")] == [
        f"IKM UNIT PELAYANAN: {rows[0]['ikm']}"
    ]

    profile_rows = [list(r) for r in book["Profil"].iter_rows(min_row=2, values_only=True)]
    for field in ProfileField:
        name = app.catalogue.render(f"survey.profile.{field.value}", "id")
        assert sum(whole(r[2]) for r in profile_rows if r[0] == name) == rows[0]["n"]
    saran = [list(r) for r in book["Saran"].iter_rows(min_row=2, values_only=True)]
    assert [r[4] for r in saran] == [r.saran for r in responses if r.saran]
    assert saran and all(r[2] in {"DINKES", "PKM-ANDALAS", "PKM-PAUH"} for r in saran)


async def test_empty_period_exports_without_figures(app: App, tmp_path: Path) -> None:
    """A period without questionnaires gives n = 0 and null figures everywhere, and still a workbook."""
    async with app.uow() as uow:
        report = await ikm_report(uow, parse_period("2025", JAKARTA), unit_code="DISDUKCAPIL")
    [row] = json.loads(report_json(report))
    assert (row["n"], row["ikm"], row["mutu"], row["nrr"]) == (0, None, None, {})
    assert "no responses in this period" in report_table(report, label_for(app))
    write_xlsx(tmp_path / "empty.xlsx", report, [], {}, label_for(app), JAKARTA)
    assert (
        load_workbook(tmp_path / "empty.xlsx")["Pengolahan data"]["A7"].value == "Belum ada responden pada periode ini."
    )
