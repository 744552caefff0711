"""CSV export of answers for ``/export``: RFC 4180, UTF-8, safe to open in a spreadsheet.

Choices:
* UTF-8, with a byte-order mark when ``bom=True``: Excel needs the BOM to read a
  double-clicked file as UTF-8 (without it Chinese comments show as mojibake), while a BOM
  trips naive parsers (the first header becomes ``\\ufeffsurvey_id``). ``/export`` adds it
  by default (``NPSBOT_EXPORT_BOM``); scripts can turn it off.
* RFC 4180: comma separator, every text cell in ``"`` quotes (numbers are not), CRLF line
  endings.
* Formula injection (CWE-1236): spreadsheet programs execute a cell that starts with
  ``=``, ``+``, ``-`` or ``@`` or their full-width forms (and a leading tab, CR, LF or NUL
  can smuggle one in). Every text
  cell taken from data gets a leading apostrophe in that case, the OWASP recommendation.
  Cells the exporter formats itself (the 0–10 score, timestamps, categories) cannot start
  with those characters and are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.nps import Category

__all__ = ["BASE_COLUMNS", "ExportRow", "attribute_columns", "export_csv", "neutralise"]

BASE_COLUMNS = (
    "survey_id",
    "answered_at",
    "customer_id",
    "kind",
    "event_type",
    "event_id",
    "score",
    "category",
    "drivers",
    "reason",
    "themes",
)
# What a spreadsheet may read as the start of a formula: the ASCII signs, their full-width
# forms (some spreadsheets fold them to ASCII), and a leading tab, CR, LF or NUL that an
# import may strip before looking at the next character.
_FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\uff1d",  # ＝
    "\uff0b",  # ＋
    "\uff0d",  # －
    "\uff20",  # ＠
    "\t",
    "\r",
    "\n",
    "\x00",
)
_DRIVER_SEPARATOR = ";"


@dataclass(frozen=True)
class ExportRow:
    """One answered survey, as exported. ``answered_at`` must be timezone-aware."""

    survey_id: int | str
    answered_at: datetime
    customer_id: str
    kind: str
    score: int
    category: Category
    event_type: str | None = None
    event_id: str | None = None
    drivers: Sequence[str] = ()
    themes: Sequence[str] = ()  # theme ids found in the reason (none yet: not themed)
    reason: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would otherwise treat as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive timestamp is ambiguous; guessing would silently shift answers by hours.
        raise ValueError("answered_at must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def attribute_columns(attribute_keys: Sequence[str]) -> list[tuple[str, str]]:
    """(header, key) pairs; a key that clashes with a base column is renamed."""
    columns: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key in attribute_keys:
        if key in seen:
            continue
        seen.add(key)
        header = f"attribute_{key}" if key in BASE_COLUMNS else key
        columns.append((header, key))
    return columns


def export_csv(
    rows: Iterable[ExportRow], attribute_keys: Sequence[str], *, bom: bool = False
) -> bytes:
    """Encode answers as CSV bytes with a header row.

    Columns: ``survey_id, answered_at`` (ISO 8601 UTC, ``Z``), ``customer_id, kind,
    event_type, event_id, score, category, drivers`` (``;``-joined), ``reason``, ``themes``
    (``;``-joined theme ids found in the reason by the themes job; empty until themed), then one
    column per attribute key (missing attributes are empty). Text cells are neutralised
    against formula injection. ``bom=True`` prepends a UTF-8 byte-order mark for Excel.
    """
    columns = attribute_columns(attribute_keys)
    buffer = io.StringIO(newline="")
    # Every text cell is quoted (numbers are not), so that no importer guesses a type
    # from a text's look.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([*BASE_COLUMNS, *(neutralise(header) for header, _ in columns)])
    for row in rows:
        # An integer id is ours, not user data: written as is.
        survey_id = row.survey_id if isinstance(row.survey_id, int) else neutralise(row.survey_id)
        writer.writerow(
            [
                survey_id,
                _utc_iso(row.answered_at),
                neutralise(row.customer_id),
                neutralise(row.kind),
                neutralise(row.event_type or ""),
                neutralise(row.event_id or ""),
                row.score,
                row.category.value,
                neutralise(_DRIVER_SEPARATOR.join(row.drivers)),
                neutralise(row.reason or ""),
                neutralise(_DRIVER_SEPARATOR.join(row.themes)),
                *(neutralise(row.attributes.get(key, "")) for _, key in columns),
            ]
        )
    data = buffer.getvalue().encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data
