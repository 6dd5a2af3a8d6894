"""Cells of every spreadsheet and CSV the product writes: text stays text, never a formula.

A citizen's saran such as `=HYPERLINK(...)` or `@SUM(...)` would run as a formula in Excel or LibreOffice
(CSV/formula injection). In xlsx a text cell is typed as a string, so nothing it holds is evaluated; in CSV,
where there are no types, text that a spreadsheet would read as a formula gets a leading apostrophe (OWASP's
advice). Numbers are never touched: they are written as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["FORMULA_STARTS", "append_row", "csv_text", "heading_row", "xlsx_text"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV field as a formula."""

# Characters an xlsx file cannot hold (XML 1.0 forbids them); openpyxl refuses the whole workbook otherwise.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_text(value: str) -> str:
    """Return free text for a CSV field, prefixed with an apostrophe when a spreadsheet would run it."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def xlsx_text(value: str) -> str:
    """Return text an xlsx cell can hold (control characters shown as U+FFFD)."""
    return _ILLEGAL_XML.sub("\ufffd", value)


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row whose text cells are typed as strings, so that no text is ever stored as a formula."""
    cleaned = [xlsx_text(v) if isinstance(v, str) else v for v in values]
    sheet.append(cleaned)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl types a text starting with '=' as a formula ('f')


def heading_row(sheet: Worksheet, headings: Iterable[str]) -> None:
    """Append a row of column headings, bold and wrapped, with columns wide enough to read them."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    append_row(sheet, headings)
    for column, cell in enumerate(sheet[sheet.max_row], 1):
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = min(max(len(str(cell.value or "")) * 0.6, 10), 24)  # long headings wrap over two or three lines
        sheet.column_dimensions[get_column_letter(column)].width = width
