"""XLSX export of answers for ``/export xlsx``: typed columns, formula-safe by construction.

The same rows and columns as the CSV export (:mod:`bot.reports.csv_export`), as a workbook
a spreadsheet opens without an import dialog, Chinese intact:

* **Typed cells.** ``answered_at`` is a date-time cell (UTC: spreadsheets have no time
  zones; the header says so), ``score`` and an integer ``survey_id`` are numbers, so they
  sort, filter and average as such.
* **Formula-safe by construction.** Every text cell is written with the string type
  (``data_type = "s"``) after its value is set: openpyxl would otherwise store a value that
  starts with ``=`` as a formula. A string cell is never evaluated, so no prefix is needed
  and the text is exported exactly as the customer wrote it.
* XML cannot carry most control characters (openpyxl refuses them): they are dropped from
  text cells; a cell is capped at Excel's 32,767 characters.

Written with openpyxl's write-only mode, which streams rows instead of keeping every cell
object in memory (an export may have 100,000 rows).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.reports.csv_export import BASE_COLUMNS, ExportRow, attribute_columns

__all__ = ["DATE_FORMAT", "MAX_CELL_CHARS", "SHEET_TITLE", "export_xlsx"]

#: Excel's limit on the characters in one cell.
MAX_CELL_CHARS = 32_767
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
SHEET_TITLE = "answers"
_DRIVER_SEPARATOR = ";"
#: The date-time column's header: the cell holds UTC, which the CSV's ``Z`` says there.
_ANSWERED_AT_HEADER = "answered_at (UTC)"
#: Column widths in characters, so the sheet is readable when it opens.
_WIDTHS = {"answered_at": 20, "reason": 48, "drivers": 24, "customer_id": 18}


def _text(sheet: WriteOnlyWorksheet, value: str) -> Cell | None:
    """A text cell, or ``None`` (an empty cell) for an empty value."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_CHARS]
    if not cleaned:
        return None
    cell = WriteOnlyCell(sheet, value=cleaned)
    # Set after the value: assigning a str that starts with "=" makes openpyxl mark the
    # cell as a formula; the string type makes it plain text whatever it starts with.
    cell.data_type = "s"
    return cell


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("answered_at must be timezone-aware")
    # Excel date-times have no zone: store the UTC wall-clock time, naive.
    return moment.astimezone(UTC).replace(tzinfo=None)


def export_xlsx(rows: Iterable[ExportRow], attribute_keys: Sequence[str]) -> bytes:
    """Encode answers as an XLSX workbook (one sheet, a header row, one row per answer).

    Columns as in :func:`bot.reports.csv_export.export_csv`; ``answered_at`` is a UTC
    date-time, ``score`` (and an integer ``survey_id``) a number, everything else text.
    """
    columns = attribute_columns(attribute_keys)
    # Checked before the workbook is opened: a write-only sheet cannot be abandoned halfway.
    rows = list(rows)
    moments = [_utc(row.answered_at) for row in rows]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    headers = [*BASE_COLUMNS, *(header for header, _ in columns)]
    for index, header in enumerate(headers):
        sheet.column_dimensions[get_column_letter(index + 1)].width = _WIDTHS.get(header, 12)
    sheet.freeze_panes = "A2"
    shown = [_ANSWERED_AT_HEADER if h == "answered_at" else h for h in headers]
    sheet.append([_text(sheet, header) for header in shown])
    for row, moment in zip(rows, moments, strict=True):
        answered_at = WriteOnlyCell(sheet, value=moment)
        answered_at.number_format = DATE_FORMAT
        survey_id = (
            WriteOnlyCell(sheet, value=row.survey_id)
            if isinstance(row.survey_id, int)
            else _text(sheet, row.survey_id)
        )
        sheet.append(
            [
                survey_id,
                answered_at,
                _text(sheet, row.customer_id),
                _text(sheet, row.kind),
                _text(sheet, row.event_type or ""),
                _text(sheet, row.event_id or ""),
                WriteOnlyCell(sheet, value=row.score),
                _text(sheet, row.category.value),
                _text(sheet, _DRIVER_SEPARATOR.join(row.drivers)),
                _text(sheet, row.reason or ""),
                _text(sheet, _DRIVER_SEPARATOR.join(row.themes)),
                *(_text(sheet, row.attributes.get(key, "")) for _, key in columns),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
