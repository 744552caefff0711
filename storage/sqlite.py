"""The SQLite engine: one writer connection, a few reader connections, migrations, and
transaction scopes.

All writes go through :meth:`SqliteDatabase.transaction`, which serialises units of work on
the single writer connection. One connection is shared between tasks, so without the lock
one task's ``COMMIT`` would commit another task's half-done work. The writer's statements
run in place on the event loop (no thread trip per statement); bulk work and waits for
another process's lock go to its helper thread (:mod:`storage.connection`).

Reads go through :meth:`SqliteDatabase.read`, on separate connections that refuse writes
(``PRAGMA query_only``). Under WAL a reader sees one committed snapshot and neither waits for
the writer nor holds it up, so a long report (an export of a year of answers) never delays
the customers' updates. A database in memory has no second connection to the same data:
there, reads share the writer's connection and lock.

Commits never checkpoint the write-ahead log (a checkpoint waits for the disk, and the
writer runs on the event loop): :meth:`SqliteDatabase.checkpoint_passive`, which the bot
runs every second, copies it into the file on a connection and thread of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import cast

import aiosqlite

from storage.connection import InlineConnection, PrefetchingConnection, connect, connect_writer
from storage.dialect import SQLITE, Dialect
from storage.migrations import apply_migrations, check_not_too_new
from storage.tx import MAX_READERS, Params, Row, Target, Tx

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
#: WAL pages after which a commit checkpoints by itself (the bot's checkpoints come first).
AUTOCHECKPOINT_PAGES = 10_000


class SqliteTx(Tx):
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

    def __init__(self, conn: InlineConnection, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path
        self.target = Target("sqlite", path)
        self._idle_readers: list[aiosqlite.Connection] = []
        self._readers: list[aiosqlite.Connection] = []
        self._reader_free = asyncio.Condition()
        self._reader_slots = 0
        self._closed = False
        self._checkpointer: PrefetchingConnection | None = None

    @property
    def separate_readers(self) -> bool:
        """True if reads run on their own connections (a file, not ``:memory:``)."""
        return self.path != ":memory:"

    @classmethod
    async def connect(cls, path_str: str, *, migrate: bool) -> SqliteDatabase:
        """Open (creating if needed) the file and bring its schema up to date."""
        if path_str != ":memory:":
            Path(path_str).parent.mkdir(parents=True, exist_ok=True)
        # Run in place on the event loop; it waits for another process's lock on a helper
        # thread with BUSY_TIMEOUT_MS (storage/connection.py).
        conn = await connect_writer(path_str, BUSY_TIMEOUT_MS)
        try:
            conn.row_factory = aiosqlite.Row
            tx = SqliteTx(conn)
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
            # Commits never checkpoint (see the module docstring); the limit only bounds the
            # log of a process that never calls checkpoint_passive (a long CLI import).
            await conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
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
        if self._checkpointer is not None:
            await self._checkpointer.close()
        async with self._lock:
            await self._conn.close()

    async def _open_reader(self) -> aiosqlite.Connection:
        conn = await connect(self.path)
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
        conn = self._conn

        def truncate() -> object:
            return conn._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

        async with self._lock:
            # On the helper thread: TRUNCATE waits (up to the busy timeout) for readers.
            row = await conn.on_helper_thread(truncate)
        return isinstance(row, tuple | aiosqlite.Row) and int(row[0]) == 0

    async def checkpoint_passive(self) -> tuple[int, int]:
        """Copy what the write-ahead log holds into the database file, without waiting for
        anyone and without the write lock (WAL lets a checkpoint run beside the writer), on
        a connection and thread of its own: the writer's commits never wait for the disk.
        Returns the log's frames and how many are now in the database file."""
        if not self.separate_readers:
            return 0, 0
        checkpointer = self._checkpointer
        if checkpointer is None:
            checkpointer = connect(self.path)
            await checkpointer
            self._checkpointer = checkpointer
        async with checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)") as cur:
            row = await cur.fetchone()
        return (int(row[1]), int(row[2])) if row is not None else (0, 0)

    @asynccontextmanager
    async def transaction(self, *, chat: int | None = None) -> AsyncIterator[Tx]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error.

        IMMEDIATE takes the write lock up front, so a read-then-write unit never fails with
        "database is locked" when the CLI writes from another process at the same time.
        ``chat`` changes nothing: SQLite has one writer, so every scope is exclusive.
        """
        async with self._lock:
            await self._conn.execute(SQLITE.begin_write)
            try:
                yield SqliteTx(self._conn)
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
                    yield SqliteTx(self._conn)
                finally:
                    await self._conn.execute("ROLLBACK")
            return
        conn = await self._take_reader()
        try:
            await conn.execute(SQLITE.begin_read)
            try:
                yield SqliteTx(conn)
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
            yield SqliteTx(conn)
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")

    return scope
