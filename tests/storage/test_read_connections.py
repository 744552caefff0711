"""Reads run on their own connections (storage.db.Database.read): a long read never holds
the write lock, sees one snapshot, and cannot write."""

from __future__ import annotations

import asyncio

import pytest

from storage import Database
from storage.db import MAX_READERS
from tests.support.postgres import READ_ONLY_ERRORS


async def test_a_long_read_does_not_hold_up_a_write(db: Database) -> None:
    reading = asyncio.Event()
    release = asyncio.Event()
    seen: list[int] = []

    async def long_report() -> None:
        async with db.read() as tx:
            row = await tx.fetchone("SELECT COUNT(*) FROM inbox")
            assert row is not None
            reading.set()
            await release.wait()  # an export still reading
            row = await tx.fetchone("SELECT COUNT(*) FROM inbox")
            assert row is not None
            seen.append(int(row[0]))

    report = asyncio.create_task(long_report())
    await reading.wait()
    # With the read holding the writer's lock this would wait for ``release`` forever.
    async with asyncio.timeout(5):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO inbox (update_id, received_at) VALUES (1, 'x')"
            )
    release.set()
    await report
    assert seen == [0]  # the read kept its snapshot
    async with db.read() as tx:
        assert await tx.fetchval("SELECT COUNT(*) FROM inbox") == 1  # sees it


async def test_a_read_scope_refuses_writes(db: Database) -> None:
    with pytest.raises(READ_ONLY_ERRORS, match=r"readonly|read-only|query_only"):
        async with db.read() as tx:
            await tx.execute(
                "INSERT INTO inbox (update_id, received_at) VALUES (2, 'x')"
            )
    async with db.read() as tx:
        assert await tx.fetchval("SELECT 1") == 1  # the pool still works after the error


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
            await tx.fetchone("SELECT 1")
            inside -= 1

    async with asyncio.timeout(10):
        await asyncio.gather(*(one() for _ in range(3 * MAX_READERS)))
    assert most == MAX_READERS
    if db.target.engine == "sqlite":  # opened on demand, then reused
        assert len(db._engine._readers) == MAX_READERS  # type: ignore[attr-defined]
