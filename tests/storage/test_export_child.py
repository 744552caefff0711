"""The export's child process on both engines: it opens the bot's database read-only (its
snapshot refuses writes), builds in a process of its own, and its file is byte for byte the
one the bot's process builds (``NPSBOT_EXPORT_PROCESS=off``); a stop ends it at once."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest

from bot.composition.exports import NICENESS, ChildExports
from bot.usecases.exporting import ExportFailed, ExportRequest, InlineExports
from storage import Database
from storage.reports import AnswerFilter
from storage.snapshot import read_only_snapshot
from tests.storage.test_same_figures_on_both_engines import SETTINGS, store_answers, when
from tests.support.held_export import GATE_ENV, gated_build


def request_for(db: Database, fmt: str = "csv", limit: int = 100) -> ExportRequest:
    return ExportRequest(
        target=db.target,
        start=when(-45, 0),
        end=when(1, 0),
        answer_filter=AnswerFilter(),
        fmt=fmt,
        cutoffs=SETTINGS.admin.cutoffs,
        bom=True,
        limit=limit,
    )


async def test_the_childs_snapshot_refuses_writes(db: Database) -> None:
    async with read_only_snapshot(db.target) as tx:
        assert await tx.fetchval("SELECT COUNT(*) FROM answers") == 0
        with pytest.raises(Exception, match=r"(?i)read.?only"):
            await tx.execute("CREATE TABLE snapshot_wrote (a INTEGER)")
    catalog = (
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'snapshot_wrote'"
        if db.target.engine == "postgresql"
        else "SELECT 1 FROM sqlite_master WHERE name = 'snapshot_wrote'"
    )
    async with db.read() as tx:
        assert await tx.fetchall(catalog) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_the_child_builds_in_its_own_process_the_same_file_as_the_bots_process(
    db: Database, fmt: str
) -> None:
    await store_answers(db)
    exports = ChildExports()
    try:
        child = await exports.build(request_for(db, fmt))
    finally:
        await exports.close()
    inline = await InlineExports(db).build(request_for(db, fmt))
    assert child.pid != os.getpid() and inline.pid == os.getpid()
    assert (child.rows, child.truncated, child.extension) == (100, True, fmt)
    if fmt == "csv":
        assert child.data == inline.data
        assert child.data.count(b"\r\n") == 101  # the header and 100 rows
    else:
        # A workbook carries its creation time: compare what it holds.
        from openpyxl import load_workbook

        def cells(data: bytes) -> list[tuple[object, ...]]:
            return list(load_workbook(io.BytesIO(data))["answers"].iter_rows(values_only=True))

        assert cells(child.data) == cells(inline.data)


async def test_a_missing_sqlite_file_fails_the_export_with_a_loggable_reason(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        request = request_for(db)
    finally:
        await db.close()
    (tmp_path / "bot.sqlite3").unlink()
    exports = ChildExports()
    try:
        with pytest.raises(ExportFailed, match="DatabaseUnavailableError: cannot open"):
            await exports.build(request)
    finally:
        await exports.close()
    assert not (tmp_path / "bot.sqlite3").exists(), "read-only: no new empty database"


async def test_the_child_runs_behind_the_bot_and_close_ends_it_at_once_then_refuses_more(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "mode").write_text("hold")
    monkeypatch.setenv(GATE_ENV, str(gate))
    exports = ChildExports(build=gated_build)
    running = asyncio.create_task(exports.build(request_for(db)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not (gate / "reading").exists():
        assert loop.time() < deadline and not running.done(), "the child never read"
        await asyncio.sleep(0.02)
    child = int((gate / "reading").read_text())
    # Behind the bot for the CPU.
    assert os.getpriority(os.PRIO_PROCESS, child) == os.getpriority(os.PRIO_PROCESS, 0) + NICENESS
    started = loop.time()
    await exports.close()
    with pytest.raises(ExportFailed) as failed:
        await running
    assert failed.value.interrupted
    assert loop.time() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    with pytest.raises(ExportFailed) as refused:
        await exports.build(request_for(db))
    assert refused.value.interrupted
