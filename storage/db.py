"""The database handle: one aiosqlite connection, migrations, and transaction scopes.

All writes go through :meth:`Database.transaction`, which serialises units of work on the
single connection. aiosqlite shares one connection between tasks, so without the lock one
task's ``COMMIT`` would commit another task's half-done work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.migrations import apply_migrations, check_not_too_new

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


class Tx:
    """An open unit of work. Repository functions take one; callers never see SQL or rows."""

    __slots__ = ("conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn


class Database:
    """Owns the connection. Open with :meth:`open`, close with :meth:`close` inside the loop."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date.

        Raises :class:`storage.migrations.SchemaTooNewError` if the file was written by a
        newer version of the bot.
        """
        path_str = str(path)
        if path_str != ":memory:":
            Path(path_str).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path_str, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Refuse a newer schema before touching the file (WAL mode is written to it).
            await check_not_too_new(conn)
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
                await apply_migrations(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path_str)

    async def close(self) -> None:
        """Close the connection; must run inside the event loop or the process may hang."""
        async with self._lock:
            await self._conn.close()

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
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only scope (a deferred transaction, so reads see one snapshot)."""
        async with self._lock:
            await self._conn.execute("BEGIN")
            try:
                yield Tx(self._conn)
            finally:
                await self._conn.execute("ROLLBACK")
