"""Chat-scoped write transactions on PostgreSQL: different chats' run at once (in one
process and across processes), one chat's take turns, an exclusive one waits for them and
they for it, and a storm of both never deadlocks. On SQLite the scope changes nothing.

"Two processes" are two :class:`Database` objects on one database: each has its own pool
and its own in-process gate, as two bot processes do. Waiting is proven by the server
showing the waiter's lock request not granted (a positive event), never by sleeping.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
import pytest

from storage import Database
from tests.support.postgres import PostgresServer, url_for

HANDSHAKE_SECONDS = 20.0


@pytest.fixture
async def two(postgres: PostgresServer) -> AsyncIterator[tuple[Database, Database, str]]:
    """Two handles on one new PostgreSQL database, as two processes hold them, and the
    database's URL (dropped afterwards: a test adds tables of its own)."""
    name = postgres.create()
    url = url_for(name)
    first = await Database.open(url)
    second = await Database.open(url, migrate=False)
    try:
        yield first, second, url
    finally:
        await second.close()
        await first.close()
        postgres.drop(name)


async def lock_waiters(url: str) -> int:
    """Advisory lock requests on this database that the server has not granted yet."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def until_waiting(url: str, count: int = 1) -> None:
    """Return once ``count`` advisory lock requests wait at the server."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANDSHAKE_SECONDS
    while await lock_waiters(url) < count:
        assert loop.time() < deadline, "no transaction came to wait for the lock"
        await asyncio.sleep(0.01)


async def until(condition: Callable[[], object]) -> None:
    """Return once ``condition()`` holds (another task makes it so)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANDSHAKE_SECONDS
    while not condition():
        assert loop.time() < deadline, "the awaited state never came"
        await asyncio.sleep(0.01)


async def overlap(a: Database, chat_a: int | None, b: Database, chat_b: int | None) -> None:
    """Both transactions are inside at the same moment: each waits, inside, for the other
    to have entered (if they could not overlap, this would time out)."""
    inside_a, inside_b = asyncio.Event(), asyncio.Event()

    async def one(db: Database, chat: int | None, mine: asyncio.Event, other: asyncio.Event):
        async with db.transaction(chat=chat) as tx:
            await tx.execute("SELECT 1")
            mine.set()
            await asyncio.wait_for(other.wait(), HANDSHAKE_SECONDS)

    await asyncio.gather(one(a, chat_a, inside_a, inside_b), one(b, chat_b, inside_b, inside_a))


async def test_two_chats_transactions_overlap_across_processes(
    two: tuple[Database, Database, str],
) -> None:
    first, second, _ = two
    await overlap(first, 1001, second, 1002)


async def test_two_chats_transactions_overlap_within_one_process(
    two: tuple[Database, Database, str],
) -> None:
    first, _, _ = two
    await overlap(first, 1001, first, 1002)


async def take_turns(holder: Database, waiter: Database, chat: int, url: str) -> None:
    """The waiter's transaction of ``chat`` waits at the chat's lock while the holder's is
    inside, and enters once it is out."""
    order: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with holder.transaction(chat=chat) as tx:
            await tx.execute("SELECT 1")
            order.append("first in")
            await asyncio.wait_for(release.wait(), HANDSHAKE_SECONDS)
            order.append("first out")

    async def wait() -> None:
        async with waiter.transaction(chat=chat) as tx:
            await tx.execute("SELECT 1")
            order.append("second in")

    held = asyncio.create_task(hold())
    await until(lambda: order)
    waiting = asyncio.create_task(wait())
    await until_waiting(url)
    assert order == ["first in"]  # the second is at the chat's lock, not inside
    release.set()
    await asyncio.gather(held, waiting)
    assert order == ["first in", "first out", "second in"]


async def test_one_chats_transactions_take_turns_across_processes(
    two: tuple[Database, Database, str],
) -> None:
    first, second, url = two
    await take_turns(first, second, 77, url)


async def test_one_chats_transactions_take_turns_within_one_process(
    two: tuple[Database, Database, str],
) -> None:
    first, _, url = two
    await take_turns(first, first, 78, url)


async def test_an_exclusive_transaction_waits_for_chat_scoped_ones_and_they_for_it(
    two: tuple[Database, Database, str],
) -> None:
    first, second, url = two
    order: list[str] = []
    release_scoped, release_exclusive = asyncio.Event(), asyncio.Event()

    async def scoped() -> None:
        async with first.transaction(chat=5) as tx:
            await tx.execute("SELECT 1")
            order.append("scoped in")
            await asyncio.wait_for(release_scoped.wait(), HANDSHAKE_SECONDS)
            order.append("scoped out")

    async def exclusive() -> None:
        async with second.transaction() as tx:
            await tx.execute("SELECT 1")
            order.append("exclusive in")
            await asyncio.wait_for(release_exclusive.wait(), HANDSHAKE_SECONDS)
            order.append("exclusive out")

    async def later_scoped() -> None:
        async with first.transaction(chat=6) as tx:
            await tx.execute("SELECT 1")
            order.append("later scoped in")

    a = asyncio.create_task(scoped())
    await until(lambda: order)
    b = asyncio.create_task(exclusive())
    await until_waiting(url)  # the exclusive writer waits for the scoped one
    assert order == ["scoped in"]
    release_scoped.set()
    await until(lambda: "exclusive in" in order)
    c = asyncio.create_task(later_scoped())
    await until_waiting(url)  # a scoped writer (another chat) waits for the exclusive one
    assert order == ["scoped in", "scoped out", "exclusive in"]
    release_exclusive.set()
    await asyncio.gather(a, b, c)
    assert order == ["scoped in", "scoped out", "exclusive in", "exclusive out", "later scoped in"]


async def test_in_one_process_an_exclusive_writer_waits_for_scoped_ones_and_holds_back_new_ones(
    two: tuple[Database, Database, str],
) -> None:
    first, _, _ = two
    order: list[str] = []
    release = asyncio.Event()

    async def scoped(chat: int, tag: str, hold: bool) -> None:
        async with first.transaction(chat=chat) as tx:
            await tx.execute("SELECT 1")
            order.append(f"{tag} in")
            if hold:
                await asyncio.wait_for(release.wait(), HANDSHAKE_SECONDS)

    async def exclusive() -> None:
        async with first.transaction() as tx:
            await tx.execute("SELECT 1")
            order.append("exclusive in")

    a = asyncio.create_task(scoped(1, "early", True))
    await until(lambda: order)
    b = asyncio.create_task(exclusive())
    gate = first._engine._gate  # type: ignore[attr-defined]
    await until(lambda: gate.exclusive_waiting)
    c = asyncio.create_task(scoped(2, "late", False))
    await until(lambda: gate.scoped_waiting)
    assert order == ["early in"]  # neither the exclusive writer nor the later one entered
    release.set()
    await asyncio.gather(a, b, c)
    assert order == ["early in", "exclusive in", "late in"]


async def test_a_scoped_transaction_holds_the_write_lock_shared_and_one_chat_lock(
    two: tuple[Database, Database, str],
) -> None:
    first, _, _ = two
    async with first.transaction(chat=123456789) as tx:
        rows = await tx.fetchall(
            "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() ORDER BY mode"
        )
    assert [r[0] for r in rows] == ["ExclusiveLock", "ShareLock"]


async def test_a_storm_of_scoped_and_exclusive_transactions_from_two_processes_never_deadlocks(
    two: tuple[Database, Database, str],
) -> None:
    first, second, _ = two
    async with first.transaction() as tx:
        await tx.execute("CREATE TABLE storm (chat BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
        await tx.execute("CREATE TABLE storm_total (id INT PRIMARY KEY, n BIGINT NOT NULL)")
        await tx.execute("INSERT INTO storm_total VALUES (1, 0)")
    rng = random.Random(7)
    plan = [
        (rng.choice((first, second)), rng.randrange(12), rng.random() < 0.1) for _ in range(300)
    ]

    async def one(db: Database, chat: int, exclusive: bool) -> None:
        async with db.transaction(chat=None if exclusive else chat) as tx:
            # The chat's own row, and a row every transaction shares, changed atomically.
            await tx.execute(
                "INSERT INTO storm VALUES (?, 1) ON CONFLICT (chat) DO UPDATE "
                "SET n = storm.n + excluded.n",
                (chat,),
            )
            await tx.execute("UPDATE storm_total SET n = n + 1 WHERE id = 1")

    await asyncio.wait_for(
        asyncio.gather(*(one(db, chat, ex) for db, chat, ex in plan)), HANDSHAKE_SECONDS * 3
    )
    async with first.read() as tx:
        assert await tx.fetchval("SELECT SUM(n) FROM storm") == len(plan)
        assert await tx.fetchval("SELECT n FROM storm_total") == len(plan)


async def test_on_sqlite_a_chat_scope_is_an_exclusive_transaction(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "one.sqlite3")
    try:
        entered: list[str] = []
        release = asyncio.Event()

        async def first() -> None:
            async with db.transaction(chat=1) as tx:
                await tx.execute("SELECT 1")
                entered.append("first")
                await asyncio.wait_for(release.wait(), HANDSHAKE_SECONDS)

        async def second() -> None:
            async with db.transaction(chat=2) as tx:
                await tx.execute("SELECT 1")
                entered.append("second")

        a = asyncio.create_task(first())
        await until(lambda: entered)
        b = asyncio.create_task(second())
        # The second cannot enter while the first holds SQLite's one writer: it is queued
        # at the writer's lock, which the first releases below.
        lock = db._engine._lock  # type: ignore[attr-defined]
        await until(lambda: lock._waiters)
        assert entered == ["first"]
        release.set()
        await asyncio.gather(a, b)
        assert entered == ["first", "second"]
    finally:
        await db.close()
