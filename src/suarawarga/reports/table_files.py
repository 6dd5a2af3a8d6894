"""A table (headings and rows) as CSV or xlsx, for the staff console's downloads.

Every cell goes through `surveys/cells.py`, the guard all of the product's spreadsheets share: text from citizens
stays text (a leading apostrophe in CSV, a string-typed cell in xlsx) and never runs as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from suarawarga.surveys.cells import append_row, csv_text, heading_row

Cell = str | int | float | datetime | None


def table_csv(headings: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """Return the table as UTF-8 CSV with a BOM (so Excel reads the accents), text cells guarded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in headings])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return csv_text(value) if isinstance(value, str) else str(value)


def table_xlsx(title: str, headings: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """Return the table as an xlsx workbook of one sheet; times are written without their zone (city time)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet: Any = book.active
    sheet.title = title[:31]
    heading_row(sheet, headings)
    for row in rows:
        append_row(sheet, [v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
