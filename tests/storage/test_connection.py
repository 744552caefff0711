"""The prefetching connection answers like aiosqlite's, whatever the size of the result."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import Database, connection
from storage.connection import PREFETCH, PrefetchingConnection, connect
from storage.sqlite import SqliteDatabase


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[PrefetchingConnection]:
    async with connect(tmp_path / "t.sqlite3") as connection:
        await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        yield connection


async def fill(conn: PrefetchingConnection, n: int) -> None:
    await conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"v{i}",) for i in range(n)])


@pytest.mark.parametrize("n", [0, 1, PREFETCH - 1, PREFETCH, PREFETCH + 1, 3 * PREFETCH + 5])
async def test_every_row_comes_back_once_in_order_by_any_way_of_reading(
    conn: PrefetchingConnection, n: int
) -> None:
    await fill(conn, n)
    expected = [f"v{i}" for i in range(n)]
    async with conn.execute("SELECT v FROM t ORDER BY id") as cur:
        assert [r[0] for r in await cur.fetchall()] == expected
    async with conn.execute("SELECT v FROM t ORDER BY id") as cur:
        one_by_one = []
        while (row := await cur.fetchone()) is not None:
            one_by_one.append(row[0])
    assert one_by_one == expected
    async with conn.execute("SELECT v FROM t ORDER BY id") as cur:
        first = await cur.fetchone()
        rest = await cur.fetchmany(PREFETCH)
        tail = await cur.fetchall()
    assert [r[0] for r in [*([first] if first else []), *rest, *tail]] == expected
    cur = await conn.execute("SELECT v FROM t ORDER BY id")
    assert [r[0] async for r in cur] == expected
    await cur.close()


async def test_writes_report_their_row_count_and_new_id(conn: PrefetchingConnection) -> None:
    cur = await conn.execute("INSERT INTO t (v) VALUES ('a')")
    assert (cur.rowcount, cur.lastrowid) == (1, 1)
    await fill(conn, 4)
    async with conn.execute("UPDATE t SET v = 'b' WHERE id > 2") as cur:
        assert cur.rowcount == 3
    async with conn.execute("INSERT INTO t (v) VALUES ('c') RETURNING id, v") as cur:
        assert tuple(await cur.fetchone()) == (6, "c")


async def test_a_failing_statement_raises_at_execute(conn: PrefetchingConnection) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await conn.execute("SELECT * FROM missing")


async def scratch_table(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY)")


async def test_a_write_locked_by_another_process_waits_off_the_event_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await scratch_table(db)
    other = sqlite3.connect(path, isolation_level=None)  # the command line, say
    try:
        other.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO scratch VALUES (1)")

        writing = asyncio.create_task(write())
        ticks = 0
        while ticks < 20:  # the loop runs while the write waits for the lock
            await asyncio.sleep(0.005)
            ticks += 1
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 10)
        async with db.read() as tx:
            assert await tx.fetchval("SELECT COUNT(*) FROM scratch") == 1
    finally:
        other.close()
        await db.close()


async def test_the_checkpointer_copies_the_whole_log_beside_an_idle_writer(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    await scratch_table(db)
    try:
        for i in range(50):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO scratch VALUES (?)", (i,))
        frames, copied = await db.checkpoint_passive()
        assert frames > 0 and copied == frames
    finally:
        await db.close()


async def test_bulk_work_on_the_writer_leaves_the_event_loop_free_between_statements(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    # A statement as slow as a scan of a large table (white-box: the SQLite engine's writer
    # and its sqlite3 connection, to give it a function that takes 20 ms).
    engine = db._engine
    assert isinstance(engine, SqliteDatabase)
    engine._conn._conn.create_function("slow", 0, lambda: time.sleep(0.02))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        async with db.transaction() as tx:
            await tx.execute("SELECT slow()")  # in place: the loop waits this once
            before = ticks
            for _ in range(5):
                await tx.execute("SELECT slow()")  # bulk work: on the helper thread
            during = ticks - before
        assert during >= 5  # the loop ran between (and while) the later statements
    finally:
        ticking.cancel()
        await db.close()


async def test_short_units_of_work_never_leave_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Budgets no scheduling hiccup of a busy machine reaches: this is about the trips.
    monkeypatch.setattr(connection, "SLOW_STATEMENT", 60.0)
    monkeypatch.setattr(connection, "UNIT_BUDGET", 60.0)
    db = await Database.open(tmp_path / "db.sqlite3")
    await scratch_table(db)
    trips: list[bool] = []
    off_loop = connection.InlineConnection._off_loop

    async def counted(self: connection.InlineConnection, work: Any, *, busy: bool) -> Any:
        trips.append(busy)
        return await off_loop(self, work, busy=busy)

    monkeypatch.setattr(connection.InlineConnection, "_off_loop", counted)
    try:
        for i in range(20):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO scratch VALUES (?)", (i,))
                assert await tx.fetchval("SELECT COUNT(*) FROM scratch") == i + 1
        assert trips == []  # not one statement made a trip to another thread
    finally:
        await db.close()
