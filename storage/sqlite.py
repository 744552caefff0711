"""The SQLite engine: one writer connection, a few reader connections, migrations, and
transaction scopes.

All writes go through :meth:`SqliteDatabase.transaction`, which serialises units of work on
the single writer connection. aiosqlite shares one connection between tasks, so without the
lock one task's ``COMMIT`` would commit another task's half-done work.

Reads go through :meth:`SqliteDatabase.read`, on separate connections that refuse writes
(``PRAGMA query_only``). Under WAL a reader sees one committed snapshot and neither waits for
the writer nor holds it up, so a long report (an export of a year of answers) never delays
the customers' updates. A database in memory has no second connection to the same data:
there, reads share the writer's connection and lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import cast

import aiosqlite

from storage.dialect import SQLITE, Dialect
from storage.migrations import apply_migrations, check_not_too_new
from storage.tx import MAX_READERS, Params, Row, Target, Tx

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


class _SqliteTx(Tx):
    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(SQLITE)
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._conn.execute(sql, params) as cur:
            return cur.rowcount

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        await self._conn.executemany(sql, seq)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cur:
            return cast(Row | None, await cur.fetchone())

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cur:
            return cast(list[Row], await cur.fetchall())

    async def batches(self, sql: str, size: int) -> AsyncIterator[list[Row]]:
        async with self._conn.execute(sql) as cur:
            while rows := await cur.fetchmany(size):
                yield cast(list[Row], rows)


class SqliteDatabase:
    """The SQLite engine behind :class:`storage.db.Database` (see the module docstring)."""

    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path
        self.target = Target("sqlite", path)
        self._idle_readers: list[aiosqlite.Connection] = []
        self._readers: list[aiosqlite.Connection] = []
        self._reader_free = asyncio.Condition()
        self._reader_slots = 0
        self._closed = False

    @property
    def separate_readers(self) -> bool:
        """True if reads run on their own connections (a file, not ``:memory:``)."""
        return self.path != ":memory:"

    @classmethod
    async def connect(cls, path_str: str, *, migrate: bool) -> SqliteDatabase:
        """Open (creating if needed) the file and bring its schema up to date."""
        if path_str != ":memory:":
            Path(path_str).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path_str, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            tx = _SqliteTx(conn)
            # Refuse a newer schema before touching the file (WAL mode is written to it).
            await check_not_too_new(tx)
            await conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL under WAL: an application crash loses nothing committed; only a power
            # loss can drop the last transactions, which is the documented trade-off.
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            # Overwrite deleted and replaced content with zeros, so that an erased
            # customer's words and ids do not linger in free space of the file (see
            # storage/privacy.py; the WAL is emptied by checkpoint() after an erasure).
            await conn.execute("PRAGMA secure_delete = ON")
            if migrate:
                await apply_migrations(tx, _sqlite_scope(conn))
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path_str)

    async def close(self) -> None:
        """Close the connections; must run inside the event loop or the process may hang."""
        async with self._reader_free:
            self._closed = True
            # Readers in use are closed as their scope ends (_give_back).
            idle, self._idle_readers = self._idle_readers, []
            self._reader_free.notify_all()
        for reader in idle:
            await reader.close()
        async with self._lock:
            await self._conn.close()

    async def _open_reader(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _take_reader(self) -> aiosqlite.Connection:
        async with self._reader_free:
            while True:
                if self._closed:
                    raise RuntimeError("the database is closed")
                if self._idle_readers:
                    return self._idle_readers.pop()
                if self._reader_slots < MAX_READERS:
                    self._reader_slots += 1  # reserved before opening: never above the cap
                    break
                await self._reader_free.wait()
        try:
            conn = await self._open_reader()
        except BaseException:
            async with self._reader_free:
                self._reader_slots -= 1
                self._reader_free.notify()
            raise
        async with self._reader_free:
            self._readers.append(conn)
        return conn

    async def _give_back(self, conn: aiosqlite.Connection) -> None:
        async with self._reader_free:
            if not self._closed:
                self._idle_readers.append(conn)
                self._reader_free.notify()
                return
        await conn.close()

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate the log to zero
        bytes, so old page images (erased data among them) leave the disk. False if a
        reader in another connection kept part of the log (it is overwritten later)."""
        async with self._lock, self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        return row is not None and int(row[0]) == 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error.

        IMMEDIATE takes the write lock up front, so a read-then-write unit never fails with
        "database is locked" when the CLI writes from another process at the same time.
        """
        async with self._lock:
            await self._conn.execute(SQLITE.begin_write)
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only scope: one snapshot of what is committed, on a reader connection
        that refuses writes and never takes the write lock (see the module docstring)."""
        if not self.separate_readers:
            async with self._lock:
                await self._conn.execute(SQLITE.begin_read)
                try:
                    yield _SqliteTx(self._conn)
                finally:
                    await self._conn.execute("ROLLBACK")
            return
        conn = await self._take_reader()
        try:
            await conn.execute(SQLITE.begin_read)
            try:
                yield _SqliteTx(conn)
            finally:
                await conn.execute("ROLLBACK")
        except BaseException:
            # A connection in an unknown state (cancelled mid-statement) is not reused.
            await self._discard_reader(conn)
            raise
        await self._give_back(conn)

    async def _discard_reader(self, conn: aiosqlite.Connection) -> None:
        async with self._reader_free:
            if conn in self._readers:
                self._readers.remove(conn)
                self._reader_slots -= 1
            self._reader_free.notify()
        try:
            await conn.close()
        except Exception:
            log.warning("closing a reader connection failed", exc_info=True)


def _sqlite_scope(conn: aiosqlite.Connection) -> Callable[[], AbstractAsyncContextManager[Tx]]:
    """One migration step's transaction on the opening connection."""

    @asynccontextmanager
    async def scope() -> AsyncIterator[Tx]:
        await conn.execute(SQLITE.begin_write)
        try:
            yield _SqliteTx(conn)
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")

    return scope
