"""Importing customers from a CSV file: good rows are imported, bad ones reported by line.

Format: UTF-8 (a BOM is fine), a header row with a ``customer_id`` column; every other
column is a customer property (segment, plan, region, timezone...). An empty cell leaves
that property as it is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.validation import FieldError, check_customer_id, check_property
from storage import Database, customers

ID_COLUMN = "customer_id"
MAX_ROWS = 1_000_000


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass(frozen=True)
class CsvRow:
    """A valid row: where it was, whose it is, and the properties to merge."""

    line: int
    customer_id: str
    properties: dict[str, Any]


@dataclass
class CsvReport:
    """What a file held: valid rows and (line, problem) for the others."""

    rows: list[CsvRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_customers_csv(data: bytes) -> CsvReport:
    """Read and validate every row; raise :class:`CsvFormatError` for an unusable file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"the file is not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvFormatError(f"line 1: {exc}") from None
    if header is None:
        raise CsvFormatError("the file is empty")
    names = [h.strip() for h in header]
    if ID_COLUMN not in names:
        raise CsvFormatError(f"line 1: the header has no {ID_COLUMN} column")
    if len(set(names)) != len(names):
        raise CsvFormatError("line 1: a column name appears twice")
    for name in names:
        if name == ID_COLUMN:
            continue
        problems: list[FieldError] = []
        check_property(name, None, name, problems)
        if problems:
            raise CsvFormatError(f"line 1: column {name!r}: {problems[0].message}")
    report = CsvReport()
    seen: dict[str, int] = {}
    end_line = reader.line_num
    while True:
        start_line = end_line + 1  # a quoted cell may span lines: report where the row starts
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append((start_line, f"unreadable CSV: {exc}"))
            break  # the reader cannot resynchronise after a quoting error
        end_line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if len(report.rows) + len(report.errors) >= MAX_ROWS:
            report.errors.append((start_line, f"more than {MAX_ROWS} rows; the rest is ignored"))
            break
        row = _row(start_line, names, record, seen)
        if isinstance(row, str):
            report.errors.append((start_line, row))
        else:
            seen[row.customer_id] = start_line
            report.rows.append(row)
    return report


def _row(line: int, names: list[str], record: list[str], seen: dict[str, int]) -> CsvRow | str:
    if len(record) != len(names):
        return f"expected {len(names)} cells, found {len(record)}"
    errors: list[FieldError] = []
    properties: dict[str, Any] = {}
    customer_id: str | None = None
    for name, cell in zip(names, record, strict=True):
        if name == ID_COLUMN:
            customer_id = check_customer_id(cell, ID_COLUMN, errors)
            continue
        if cell == "":
            continue
        value = check_property(name, cell, name, errors)
        properties[name] = value
    if errors:
        return "; ".join(f"{e.field}: {e.message}" for e in errors)
    assert customer_id is not None
    if customer_id in seen:
        return f"customer {customer_id!r} already appears on line {seen[customer_id]}"
    return CsvRow(line, customer_id, properties)


async def import_customers(db: Database, rows: list[CsvRow], now: datetime) -> tuple[int, int]:
    """Upsert the rows in one transaction (all or nothing); return (created, updated)."""
    created = updated = 0
    async with db.transaction() as tx:
        for row in rows:
            if await customers.get_by_external_id(tx, row.customer_id) is None:
                created += 1
            else:
                updated += 1
            await customers.upsert(tx, row.customer_id, now, row.properties)
    return created, updated
