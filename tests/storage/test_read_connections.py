"""Reads run on their own connections (storage.db.Database.read): a long read never holds
the write lock, sees one snapshot, and cannot write."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from storage import Database
from storage.db import MAX_READERS


async def test_a_long_read_does_not_hold_up_a_write(db: Database) -> None:
    reading = asyncio.Event()
    release = asyncio.Event()
    seen: list[int] = []

    async def long_report() -> None:
        async with db.read() as tx:
            async with tx.conn.execute("SELECT COUNT(*) FROM inbox") as cur:
                row = await cur.fetchone()
            assert row is not None
            reading.set()
            await release.wait()  # an export still reading
            async with tx.conn.execute("SELECT COUNT(*) FROM inbox") as cur:
                row = await cur.fetchone()
            assert row is not None
            seen.append(int(row[0]))

    report = asyncio.create_task(long_report())
    await reading.wait()
    # With the read holding the writer's lock this would wait for ``release`` forever.
    async with asyncio.timeout(5):
        async with db.transaction() as tx:
            await tx.conn.execute(
                "INSERT INTO inbox (update_id, received_at) VALUES (1, 'x')"
            )
    release.set()
    await report
    assert seen == [0]  # the read kept its snapshot
    async with db.read() as tx, tx.conn.execute("SELECT COUNT(*) FROM inbox") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == 1  # a new read sees the commit


async def test_a_read_scope_refuses_writes(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        async with db.read() as tx:
            await tx.conn.execute(
                "INSERT INTO inbox (update_id, received_at) VALUES (2, 'x')"
            )
    async with db.read() as tx, tx.conn.execute("SELECT 1") as cur:
        assert await cur.fetchone() is not None  # the pool still works after the error


async def test_concurrent_reads_share_a_bounded_pool(db: Database) -> None:
    inside = 0
    most = 0
    gate = asyncio.Event()

    async def one() -> None:
        nonlocal inside, most
        async with db.read() as tx:
            inside += 1
            most = max(most, inside)
            if most >= MAX_READERS:
                gate.set()
            await gate.wait()
            async with tx.conn.execute("SELECT 1") as cur:
                await cur.fetchone()
            inside -= 1

    async with asyncio.timeout(10):
        await asyncio.gather(*(one() for _ in range(3 * MAX_READERS)))
    assert most == MAX_READERS
    assert len(db._readers) == MAX_READERS
