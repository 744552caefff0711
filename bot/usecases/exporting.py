"""``/export``'s file: the answers of a period, read from one snapshot and written as CSV or
XLSX, with plain data in and out so that the whole of it can run in another process.

A year's export is 100,000 rows and 13 MB of CSV: reading them, turning them into records
and rows and writing the file took seconds of CPU in the bot's process, and the customers'
updates waited for the event loop and the GIL meanwhile (the reports-under-load benchmark
in the README). :func:`build_in_this_process` does all of it with its own read-only
connection (:func:`storage.snapshot.read_only_snapshot`): the composition root runs it in a
child process (:mod:`bot.composition.exports`), so the bot's process only uploads the
bytes. :class:`InlineExports` builds in the bot's process (the bot's reader connection,
the rows and file on a thread): for a database in memory, which no other process can open,
and for ``NPSBOT_EXPORT_PROCESS=off``.

Only picklable plain data crosses the boundary: :class:`ExportRequest` (where the data
lives, the period's bounds, the filter, the format, the category cutoffs, the BOM flag, the
row cap) and :class:`ExportFile` (the row count, whether the period held more, the bytes,
the extension, the builder's process id).
"""

from __future__ import annotations

import asyncio
import json
import os
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.core.database_url import Target
from bot.core.nps import Cutoffs, categorize
from bot.reports.csv_export import ExportRow, export_csv
from storage import Database, Tx, reports, themes
from storage.reports import AnswerFilter, ExportRecord
from storage.snapshot import read_only_snapshot
from storage.tx import DatabaseUnavailableError

#: The most rows one export holds: a longer period exports its oldest ones, and says so.
MAX_EXPORT_ROWS = 100_000
#: ``/export``'s file formats (the first argument, optional; CSV by default).
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export. ``target`` is where the bot stores (the child opens it read-only);
    ``start``/``end`` are the period's UTC bounds, ``[start, end)``."""

    target: Target
    start: datetime
    end: datetime
    answer_filter: AnswerFilter
    fmt: str
    cutoffs: Cutoffs
    bom: bool
    limit: int = MAX_EXPORT_ROWS


@dataclass(frozen=True, slots=True)
class ExportFile:
    """The export built: ``rows`` in ``data`` (nothing when 0), ``truncated`` when the period
    held more than the request's limit, and the process that built it."""

    rows: int
    truncated: bool
    data: bytes
    extension: str
    pid: int


class ExportFailed(Exception):
    """The export could not be built. The message says why in words safe for the log:
    never a customer's data, never the database password. ``interrupted``: the bot is
    stopping and ended the work."""

    def __init__(self, reason: str, *, interrupted: bool = False) -> None:
        super().__init__(reason)
        self.interrupted = interrupted


async def read_export(
    tx: Tx, request: ExportRequest
) -> tuple[list[ExportRecord], dict[int, list[str]]]:
    """The period's answers (one more than the limit, which tells a truncated period) and
    the themes of those within the limit, from one snapshot."""
    records = await reports.export_records(
        tx, request.start, request.end, request.answer_filter, request.limit + 1
    )
    found = await themes.themes_of(tx, [r.survey_id for r in records[: request.limit]])
    return records, found


def export_rows(
    records: list[ExportRecord], cutoffs: Cutoffs, found: dict[int, list[str]]
) -> tuple[list[ExportRow], list[str]]:
    """The rows as exported and the attribute keys (the extra columns), sorted."""
    keys: dict[str, None] = {}
    rows = []
    for record in records:
        attributes = {}
        for key, value in record.attributes.items():
            keys.setdefault(str(key), None)
            # Text as it is; numbers, booleans and nested values as JSON.
            attributes[str(key)] = value if isinstance(value, str) else json.dumps(value)
        rows.append(
            ExportRow(
                survey_id=record.survey_id,
                answered_at=record.scored_at,
                customer_id=record.customer_ref,
                kind=record.kind,
                score=record.score,
                category=categorize(record.score, cutoffs),
                event_type=record.event_type,
                event_id=record.event_id,
                reason=record.reason,
                attributes=attributes,
                drivers=record.drivers,
                themes=found.get(record.survey_id, ()),
            )
        )
    return rows, sorted(keys)


def write_export(
    request: ExportRequest, records: list[ExportRecord], found: dict[int, list[str]]
) -> ExportFile:
    """The file of what :func:`read_export` read (CPU only: no database, no event loop)."""
    truncated = len(records) > request.limit
    records = records[: request.limit]
    if not records:
        return ExportFile(0, False, b"", request.fmt, os.getpid())
    rows, keys = export_rows(records, request.cutoffs, found)
    if request.fmt == "xlsx":
        # Imported here: openpyxl is only needed when someone asks for a workbook.
        from bot.reports.xlsx_export import export_xlsx

        data = export_xlsx(rows, keys)
    else:
        data = export_csv(rows, keys, bom=request.bom)
    return ExportFile(len(rows), truncated, data, request.fmt, os.getpid())


def build_in_this_process(request: ExportRequest) -> ExportFile:
    """The whole export in the calling process, on its own read-only connection: the child
    process's entry point (it has no event loop of its own until this starts one)."""
    return asyncio.run(_read_and_write(request))


async def _read_and_write(request: ExportRequest) -> ExportFile:
    async with read_only_snapshot(request.target, "npsbot-export") as tx:
        records, found = await read_export(tx, request)
    return write_export(request, records, found)


class InlineExports:
    """Builds exports in the bot's process: the read on the bot's reader connection, the
    rows and the file on a thread (customers wait longer meanwhile: see the module)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def build(self, request: ExportRequest) -> ExportFile:
        """The export of ``request``; ExportFailed (with a loggable reason) on an error."""
        try:
            async with self.db.read() as tx:
                records, found = await read_export(tx, request)
            return await asyncio.to_thread(write_export, request, records, found)
        except Exception as exc:
            raise ExportFailed(failure_reason(exc)) from exc


def failure_reason(exc: BaseException) -> str:
    """Why an export failed, for the log: the error's type and where it was raised. Not its
    message, which may quote a customer's data; except for DatabaseUnavailableError, whose
    message is written to be logged (the location without its password)."""
    if isinstance(exc, ExportFailed | DatabaseUnavailableError):
        return f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    # An error from the child process carries its own traceback as text (the cause
    # concurrent.futures attaches), whose last "File" line is where it was raised.
    remote = str(exc.__cause__) if exc.__cause__ is not None else ""
    place = _last_frame(remote) or (
        f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "unknown place"
    )
    return f"{type(exc).__name__} at {place}"


def _last_frame(remote_traceback: str) -> str | None:
    """``file.py:line`` of the last frame of a traceback printed as text, if any."""
    place = None
    for line in remote_traceback.splitlines():
        stripped = line.strip()
        if stripped.startswith('File "') and '", line ' in stripped:
            path, _, rest = stripped[len('File "') :].partition('", line ')
            place = f"{Path(path).name}:{rest.split(',', 1)[0]}"
    return place
