"""IKM reports as JSON rows, a text table, CSV and an xlsx workbook; every format shows the same figures.

All figures come from :class:`suarawarga.surveys.services.IkmReport` and are rounded only here, half-up:
NRR to 3 places, NI to 4, IKM to 2 (docs/ikm.md §3). Every format states the weight
used, n, and (when the population is known) the Krejcie–Morgan minimum sample and whether n reaches it.
Texts in the workbook come from the catalogue through a `label(key)` function, so this module needs no bot code.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import tzinfo
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suarawarga.surveys.cells import append_row, csv_text, heading_row
from suarawarga.surveys.definitions import (
    PROFILE_OPTIONS,
    UNSUR_ORDER,
    ProfileField,
    Unsur,
    profile_option_key,
    profile_question_key,
    unsur_label,
    unsur_name_key,
)
from suarawarga.surveys.ikm import RollUpMethod, Weight
from suarawarga.surveys.model import StoredResponse
from suarawarga.surveys.mutu import IKM_SCALE, MUTU_MIN_IKM, Mutu, format_ikm, round_half_up
from suarawarga.surveys.services import IkmLine, IkmReport, Scope

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CSV_COLUMNS",
    "Label",
    "line_dict",
    "report_csv",
    "report_json",
    "report_rows",
    "report_table",
    "write_xlsx",
]

Label = Callable[[str], str]
"""Renders a catalogue key (in the report's language)."""

WEIGHT_TEXT = {Weight.EXACT: "1/9", Weight.LEGACY_0111: "0,111", Weight.LEGACY_011: "0,11"}

CSV_COLUMNS = (
    "scope",
    "unit",
    "name",
    "period",
    "n",
    *(f"nrr_{u.value}" for u in UNSUR_ORDER),
    "ni",
    "ikm",
    "mutu",
    "kinerja",
    "weakest",
    "weight",
    "min_sample",
    "sample_ok",
    "mean_of_unit_ikms",
    "mean_of_unit_ikms_mutu",
    "mean_of_unit_ikms_units",
)
CSV_NUMBERS = frozenset(
    (
        "n",
        *(f"nrr_{u.value}" for u in UNSUR_ORDER),
        "ni",
        "ikm",
        "min_sample",
        "mean_of_unit_ikms",
        "mean_of_unit_ikms_units",
    )
)
"""Columns holding numbers (written as they are); every other column is text and guarded against formulas."""


def line_dict(line: IkmLine, report: IkmReport) -> dict[str, Any]:
    """Return one report line as the JSON object of the issue (figures as decimal strings)."""
    result = line.result
    data: dict[str, Any] = {
        "unit": line.code,
        "period": report.period.label,
        "n": line.n_respondents,
        "nrr": {r.unsur.value: r.nrr_display for r in result.per_unsur} if result else {},
        "ni": result.ni_display if result else None,
        "ikm": result.ikm_display if result else None,
        "mutu": result.mutu.value if result else None,
        "kinerja": result.kinerja if result else None,
        "weakest": [u.value for u in result.weakest] if result else [],
        "weight": report.weight.value,
        "min_sample": line.min_sample,
        "sample_ok": line.sample_ok,
        "name": line.name,
        "scope": line.scope.value,
        "method": RollUpMethod.POOLED.value,
    }
    mean = line.mean_of_units
    if line.scope is not Scope.UNIT:
        data["mean_of_unit_ikms"] = (
            {
                "method": mean.method.value,
                "ikm": mean.ikm_display,
                "mutu": mean.mutu.value,
                "kinerja": mean.kinerja,
                "units": mean.n_units,
            }
            if mean
            else None
        )
    return data


def report_rows(report: IkmReport) -> list[dict[str, Any]]:
    """Return every line of a report as a JSON object."""
    return [line_dict(line, report) for line in report.lines]


def report_json(report: IkmReport) -> str:
    """Return the report as a JSON array of line objects."""
    return json.dumps(report_rows(report), ensure_ascii=False, indent=2)


def _flat(row: Mapping[str, Any]) -> dict[str, str]:
    mean = row.get("mean_of_unit_ikms") or {}
    flat = {
        "scope": row["scope"],
        "unit": row["unit"],
        "name": row["name"],
        "period": row["period"],
        "n": str(row["n"]),
        "ni": row["ni"] or "",
        "ikm": row["ikm"] or "",
        "mutu": row["mutu"] or "",
        "kinerja": row["kinerja"] or "",
        "weakest": ";".join(row["weakest"]),
        "weight": row["weight"],
        "min_sample": "" if row["min_sample"] is None else str(row["min_sample"]),
        "sample_ok": "" if row["sample_ok"] is None else ("yes" if row["sample_ok"] else "no"),
        "mean_of_unit_ikms": mean.get("ikm", ""),
        "mean_of_unit_ikms_mutu": mean.get("mutu", ""),
        "mean_of_unit_ikms_units": str(mean.get("units", "")),
    }
    for unsur in UNSUR_ORDER:
        flat[f"nrr_{unsur.value}"] = row["nrr"].get(unsur.value) or ""
    return flat


def report_csv(report: IkmReport) -> str:
    """Return the report as CSV, one line per unit, OPD roll-up or city."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report_rows(report):
        writer.writerow({k: v if k in CSV_NUMBERS else csv_text(v) for k, v in _flat(row).items()})
    return out.getvalue()


def report_table(report: IkmReport, label: Label) -> str:
    """Return the report as a text table, with the NRR detail of the main line."""
    period = report.period
    lines = [
        f"IKM {period.label} ({period.first_day.isoformat()} .. {period.last_day.isoformat()}), "
        f"{label(report.weight.catalogue_key)}",
        "",
        f"{'SCOPE':<5} {'UNIT':<24} {'N':>7} {'IKM':>6} {'MUTU':<4} {'KINERJA':<12} {'MIN':>5} {'OK':<3} WEAKEST",
    ]
    for line in report.lines:
        row = line_dict(line, report)
        ok = "-" if row["sample_ok"] is None else ("yes" if row["sample_ok"] else "NO")
        lines.append(
            f"{line.scope.value:<5} {line.code[:24]:<24} {line.n_respondents:>7} {row['ikm'] or '-':>6} "
            f"{row['mutu'] or '-':<4} {row['kinerja'] or '-':<12} {row['min_sample'] or '-':>5} {ok:<3} "
            f"{','.join(unsur_label(u) for u in row['weakest']) or '-'}"
        )
        mean = line.mean_of_units
        if mean is not None:
            lines.append(
                f"{'':<5} {'':<24} {label(mean.method.catalogue_key)}: {mean.ikm_display} {mean.mutu.value} "
                f"(n units = {mean.n_units})"
            )
    main = report.lines[0] if report.lines else None
    if main is not None and main.result is not None:
        lines += ["", f"{main.name} ({main.code}), n = {main.n_respondents}, NI = {main.result.ni_display}"]
        lines.append(f"{'':<3} {'UNSUR':<48} {'ANS':>7} {'NRR':>6}  a/b/c/d")
        for result in main.result.per_unsur:
            lines.append(
                f"{result.label:<3} {label(unsur_name_key(result.unsur))[:48]:<48} {result.answers:>7} "
                f"{result.nrr_display or '-':>6}  {'/'.join(str(c) for c in result.distribution)}"
            )
        if main.result.unanswered:
            lines.append("unanswered (left out of the NI): " + ", ".join(u.value for u in main.result.unanswered))
    if not report.lines or all(line.n_respondents == 0 for line in report.lines):
        lines += ["", "no responses in this period"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- xlsx


def _number(value: Decimal | None) -> float | None:
    # Spreadsheet cells hold binary floats; the value written is the already-rounded display figure.
    return None if value is None else float(value)


def _rounded(value: Fraction | None, places: int) -> float | None:
    return None if value is None else _number(round_half_up(value, places))


def _append(sheet: Worksheet, values: list[Any], number_format: str | None = None) -> None:
    """Append a row and give its non-integer numbers a fixed number of places."""
    append_row(sheet, values)
    if number_format is not None:
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, float):
                cell.number_format = number_format


def _summary_header(column: str, label: Label) -> str:
    """Return a summary column's heading in the report's language (CSV keeps the field names)."""
    if column.startswith("nrr_"):
        unsur = Unsur(column.removeprefix("nrr_"))
        return f"NRR {unsur_label(unsur)} {label(unsur_name_key(unsur))}"  # NRR: the regulation's term
    return label(f"survey.export.column.{column}")


def _summary_sheet(sheet: Worksheet, report: IkmReport, label: Label) -> None:
    sheet.title = "Ringkasan"
    append_row(sheet, [f"Indeks Kepuasan Masyarakat — periode {report.period.label}"])
    append_row(sheet, [f"Bobot: {label(report.weight.catalogue_key)}"])
    append_row(sheet, [])
    heading_row(sheet, [_summary_header(c, label) for c in CSV_COLUMNS])
    yes_no = {"yes": label("survey.export.yes"), "no": label("survey.export.no"), "": None}
    for row in report_rows(report):
        flat: dict[str, Any] = dict(_flat(row))
        flat["n"] = row["n"]
        for key in ("ni", "ikm", "mean_of_unit_ikms", *(f"nrr_{u.value}" for u in UNSUR_ORDER)):
            flat[key] = _number(Decimal(flat[key])) if flat[key] else None
        flat["min_sample"] = row["min_sample"]
        flat["mean_of_unit_ikms_units"] = (row.get("mean_of_unit_ikms") or {}).get("units")
        flat["scope"] = label(f"survey.export.scope.{row['scope']}")
        flat["sample_ok"] = yes_no[flat["sample_ok"]]
        flat["weakest"] = ", ".join(unsur_label(Unsur(u)) for u in row["weakest"]) or None
        flat["weight"] = WEIGHT_TEXT[report.weight]  # "1/9", "0,111": the heading says "Bobot"
        append_row(sheet, [flat[c] if flat[c] != "" else None for c in CSV_COLUMNS])
        for header, cell in zip(CSV_COLUMNS, sheet[sheet.max_row], strict=False):
            if header.startswith("nrr_"):
                cell.number_format = "0.000"
            elif header == "ni":
                cell.number_format = "0.0000"
            elif header in ("ikm", "mean_of_unit_ikms"):
                cell.number_format = "0.00"


def _processing_sheet(
    sheet: Worksheet,
    report: IkmReport,
    line: IkmLine,
    responses: Sequence[StoredResponse],
    label: Label,
) -> None:
    """Write the standard "Pengolahan data ... per responden dan per unsur pelayanan" sheet."""
    weight = WEIGHT_TEXT[report.weight]
    append_row(sheet, ["PENGOLAHAN DATA SURVEI KEPUASAN MASYARAKAT PER RESPONDEN DAN PER UNSUR PELAYANAN"])
    append_row(sheet, [f"Unit pelayanan: {line.name} ({line.code})"])
    append_row(sheet, [f"Periode: {report.period.label}"])
    append_row(sheet, [f"Bobot: {label(report.weight.catalogue_key)}"])
    append_row(sheet, [])
    append_row(sheet, ["No. Resp", *(unsur_label(u) for u in UNSUR_ORDER)])
    for number, response in enumerate(responses, 1):
        append_row(sheet, [number, *(response.answers.get(u) for u in UNSUR_ORDER)])
    result = line.result
    if result is None:
        append_row(sheet, ["Belum ada responden pada periode ini."])
        return
    per_unsur = result.per_unsur
    _append(sheet, ["Σ Nilai/Unsur", *(r.tally.score_sum for r in per_unsur)])
    _append(sheet, ["NRR/Unsur", *(_rounded(r.nrr, 3) for r in per_unsur)], "0.000")
    _append(sheet, [f"NRR tertimbang/Unsur (× {weight})", *(_rounded(r.weighted_nrr, 4) for r in per_unsur)], "0.0000")
    _append(sheet, ["*) Jumlah NRR tertimbang", _rounded(result.ni, 4)], "0.0000")
    _append(sheet, ["**) IKM Unit Pelayanan", _number(result.ikm_rounded)], "0.00")
    append_row(sheet, ["Mutu pelayanan", label(result.mutu.catalogue_key)])
    append_row(sheet, [])
    notes = [
        "Keterangan:",
        "U1 s.d. U9 = unsur-unsur pelayanan",
        "NRR = Nilai rata-rata",
        "IKM = Indeks Kepuasan Masyarakat",
        "*) = Jumlah NRR IKM tertimbang",
        f"**) = Jumlah NRR tertimbang × {IKM_SCALE}",
        "NRR Per Unsur = Jumlah nilai per unsur dibagi Jumlah kuesioner yang terisi",
        f"NRR tertimbang per unsur = NRR per unsur × {weight}",
        f"n = {line.n_respondents} responden",
    ]
    if result.unanswered:
        notes.append("Unsur tanpa jawaban tidak dihitung; bobot unsur lain diperbesar (9 ÷ jumlah unsur yang terisi).")
    if line.min_sample is not None:
        notes.append(
            f"Sampel minimum Krejcie–Morgan untuk populasi {line.population}: {line.min_sample} "
            f"({'terpenuhi' if line.sample_ok else 'BELUM terpenuhi'})"
        )
    for note in notes:
        append_row(sheet, [note])
    append_row(sheet, [])
    append_row(sheet, ["No", "Unsur Pelayanan", "Nilai Rata-rata"])
    for r in per_unsur:
        _append(sheet, [r.label, label(unsur_name_key(r.unsur)), _rounded(r.nrr, 3)], "0.000")
    append_row(sheet, [])
    append_row(sheet, [f"IKM UNIT PELAYANAN: {result.ikm_display}"])
    append_row(sheet, [f"Mutu Pelayanan: {label(result.mutu.catalogue_key)}"])
    bands = [Mutu.A, Mutu.B, Mutu.C, Mutu.D]
    for mutu in bands:
        upper = "100.00" if mutu is Mutu.A else format_ikm(MUTU_MIN_IKM[bands[bands.index(mutu) - 1]] - Decimal("0.01"))
        append_row(sheet, [f"{label(mutu.catalogue_key)}: {format_ikm(MUTU_MIN_IKM[mutu])}–{upper}"])


def _profile_sheet(
    sheet: Worksheet, counts: Mapping[ProfileField, Mapping[str | None, int]], n: int, label: Label
) -> None:
    append_row(sheet, ["Profil responden", "Jawaban", "Jumlah", "Persentase"])
    for profile_field in ProfileField:
        given = counts.get(profile_field, {})
        for option in PROFILE_OPTIONS[profile_field]:
            count = given.get(option.value, 0)
            append_row(
                sheet,
                [
                    label(profile_question_key(profile_field)),
                    label(profile_option_key(profile_field, option)),
                    count,
                    _number(round_half_up(Decimal(count * 100) / n, 2)) if n else None,
                ],
            )
        missing = sum(c for code, c in given.items() if code not in {o.value for o in PROFILE_OPTIONS[profile_field]})
        append_row(
            sheet,
            [
                label(profile_question_key(profile_field)),
                "tidak diisi",
                missing,
                _number(round_half_up(Decimal(missing * 100) / n, 2)) if n else None,
            ],
        )


def _saran_sheet(
    sheet: Worksheet, responses: Sequence[StoredResponse], unit_codes: Mapping[int, str], tz: tzinfo
) -> None:
    append_row(sheet, ["No", "Tanggal", "Unit", "Layanan", "Saran"])
    number = 0
    for response in responses:
        if response.saran:
            number += 1
            append_row(
                sheet,
                [
                    number,
                    response.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    unit_codes.get(response.unit_id, str(response.unit_id)),
                    response.service or "",
                    response.saran,
                ],
            )


def write_xlsx(
    path: Path,
    report: IkmReport,
    responses: Sequence[StoredResponse],
    profile: Mapping[ProfileField, Mapping[str | None, int]],
    label: Label,
    tz: tzinfo,
) -> None:
    """Write the workbook: summary, the per-respondent processing sheet of the main line, profile, saran."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    if summary is None:  # pragma: no cover - a new workbook always has a sheet
        summary = book.create_sheet()
    _summary_sheet(summary, report, label)
    main = report.first()
    _processing_sheet(book.create_sheet("Pengolahan data"), report, main, responses, label)
    _profile_sheet(book.create_sheet("Profil"), profile, main.n_respondents, label)
    codes = {unit_id: unit.code for unit_id, unit in report.units.items()}
    _saran_sheet(book.create_sheet("Saran"), responses, codes, tz)
    book.save(path)
