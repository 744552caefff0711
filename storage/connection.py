"""SQLite connections for the storage layer: the writer's runs on the event loop's thread;
readers' run a statement and read its first rows in one trip to their thread.

aiosqlite runs every call on the connection's own thread: ``execute`` is one trip there and
back, each ``fetchone``/``fetchall`` another, and closing the cursor (the end of an
``async with``) a third. A trip costs more CPU than the small statements of an update
(queue, thread wake-up, a wake-up of the event loop, the future), and an update runs a
dozen statements. Here ``execute`` also fetches up to :data:`PREFETCH` rows and closes the
cursor when they are all there is, in the same trip; the cursor then answers ``fetchone``,
``fetchall`` and ``close`` from memory. A larger result is read on as before, so
``fetchone`` of a long result never holds more than :data:`PREFETCH` rows.

The writer (:class:`InlineConnection`) makes no trips at all: an update's unit of work is a
dozen statements of tens of microseconds on small indexed tables, cheaper to run in place
than to hand to a thread, and the trips were most of an update's time under the database's
write lock (so of its latency, and of the updates per second the lock lets through). What
must not run on the event loop is *waiting*, or long work:

- the writer's own busy timeout is 0, and a statement that finds the database locked by
  another process (the ``npsbot`` command line) is run again on a helper thread with the
  usual busy timeout, the event loop free meanwhile;
- bulk work (an import, an expiry or retention batch) shows itself by a slow statement or a
  unit of work that has spent :data:`UNIT_BUDGET` in place (``COMMIT`` aside): the writer's
  statements then go to the helper thread, the event loop free between them, until
  :data:`OFFLOAD_SECONDS` have passed without such work. One statement in place is the
  longest the event loop waits for the database.

Checkpoints, which wait for the disk, are not run by the writer's commits (see
:meth:`storage.sqlite.SqliteDatabase.checkpoint_passive`). A ``COMMIT``'s own write() can
still wait for the filesystem now and then; that wait holds the write lock, which every
update needs, wherever it happens.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

#: Rows read in the trip that runs the statement.
PREFETCH = 64
#: SQLite's primary result codes for "another connection holds a lock".
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
#: In place, a statement this slow, or a unit of work (from its BEGIN) this long, is bulk
#: work: the writer's statements then run on the helper thread for OFFLOAD_SECONDS.
SLOW_STATEMENT = 0.020
UNIT_BUDGET = 0.025
OFFLOAD_SECONDS = 1.0


class PrefetchedCursor(aiosqlite.Cursor):
    """A cursor whose first rows came back with the statement."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        cursor: sqlite3.Cursor,
        rows: list[Any],
        exhausted: bool,
    ) -> None:
        super().__init__(conn, cursor)
        self._ahead: deque[Any] = deque(rows)
        self._exhausted = exhausted  # every row is in _ahead; the sqlite3 cursor is closed

    async def fetchone(self) -> Any:
        if self._ahead:
            return self._ahead.popleft()
        if self._exhausted:
            return None
        return await super().fetchone()

    async def fetchmany(self, size: int | None = None) -> Iterable[Any]:
        wanted = self.iter_chunk_size if size is None else size
        rows = [self._ahead.popleft() for _ in range(min(wanted, len(self._ahead)))]
        if len(rows) < wanted and not self._exhausted:
            rows.extend(await super().fetchmany(wanted - len(rows)))
        return rows

    async def fetchall(self) -> Iterable[Any]:
        rows = list(self._ahead)
        self._ahead.clear()
        if not self._exhausted:
            rows.extend(await super().fetchall())
        return rows

    async def close(self) -> None:
        if not self._exhausted:
            await super().close()


def _run(conn: sqlite3.Connection, sql: str, parameters: Any) -> tuple[sqlite3.Cursor, list[Any]]:
    """On the connection's thread: the statement and its first rows."""
    cursor = conn.execute(sql, parameters)
    rows = cursor.fetchmany(PREFETCH) if cursor.description is not None else []
    if len(rows) < PREFETCH:
        cursor.close()  # rowcount and lastrowid stay readable
    return cursor, rows


class PrefetchingConnection(aiosqlite.Connection):
    """An aiosqlite connection whose ``execute`` returns a :class:`PrefetchedCursor`."""

    @contextmanager
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        params = () if parameters is None else parameters
        # aiosqlite's own trip to its thread (untyped there).
        cursor, rows = await self._execute(_run, self._conn, sql, params)  # type: ignore[no-untyped-call]
        return PrefetchedCursor(self, cursor, rows, exhausted=len(rows) < PREFETCH)


def connect(path: str | Path) -> PrefetchingConnection:
    """Like ``aiosqlite.connect(path, isolation_level=None)``: autocommit, transactions
    begun and ended by the statements the storage layer sends."""
    location = str(path)
    return PrefetchingConnection(
        lambda: sqlite3.connect(location, isolation_level=None), iter_chunk_size=64
    )


class InlineConnection(PrefetchingConnection):
    """The writer's connection: statements run where they are awaited, on the event loop.

    Safe because every use of the writer is serialised by
    :class:`storage.sqlite.SqliteDatabase`'s lock (one unit of work at a time), so the
    connection is never used by two threads at once even when a statement runs on the
    helper thread (aiosqlite's own worker thread of this connection, whose trips are the
    cheapest: a queue and a wake-up of the loop).
    """

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        super().__init__(
            lambda: sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False),
            iter_chunk_size=64,
        )
        self._busy_timeout_ms = busy_timeout_ms
        self._unit_spent = 0.0  # seconds in place since the unit's BEGIN
        self._committing = False
        self._offload_until = 0.0  # monotonic time until which statements go to the helper

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        self._thread.start()  # the helper thread, idle until a statement is sent there
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    @contextmanager
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        if sql.startswith("BEGIN"):
            self._unit_spent = 0.0
        elif sql == "COMMIT":
            # The statement that writes to the file. Its write() waits for the filesystem
            # now and then (its journal, other processes' syncs: 5 to 30 ms on the shared
            # development machine), which is not bulk work: moving the next statements off
            # the loop would not help. Sending every COMMIT to the helper thread cost 0.3 ms
            # of CPU per update and bought little: the write lock, which every update and
            # reply needs, is held through the wait wherever it happens.
            self._committing = True
            try:
                return await super().execute(sql, parameters)
            finally:
                self._committing = False
        return await super().execute(sql, parameters)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        started = time.monotonic()
        if started < self._offload_until:
            return await self.on_helper_thread(partial(fn, *args, **kwargs))
        try:
            result = fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _BUSY_CODES:
                raise
            # Locked by another process: nothing was done; wait for the lock off the loop.
            return await self.on_helper_thread(partial(fn, *args, **kwargs))
        if self._committing:
            return result
        took = time.monotonic() - started
        self._unit_spent += took
        if took > SLOW_STATEMENT or self._unit_spent > UNIT_BUDGET:
            self._offload_until = started + took + OFFLOAD_SECONDS
        return result

    async def on_helper_thread(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (which uses this connection) on the helper thread with the busy
        timeout, the event loop free meanwhile. Not cancellable half-way: the connection
        must not be used again until ``work`` has returned, so a cancellation is raised
        once it has."""
        return await self._off_loop(work, busy=True)

    async def _off_loop(self, work: Callable[[], Any], *, busy: bool) -> Any:
        run = partial(self._waiting, work) if busy else work
        future = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((future, run))  # aiosqlite's queue to this connection's thread
        cancelled = False
        while True:
            try:
                result = await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.done():
                    raise
                cancelled = True
                continue
            if cancelled:
                raise asyncio.CancelledError
            return result

    def _waiting(self, work: Callable[[], Any]) -> Any:
        """``work`` with the busy timeout (the writer's is 0 on the event loop)."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        try:
            return work()
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    async def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.close()
        finally:
            self._connection = None
            stopped = self.stop()  # aiosqlite's: the helper thread ends after its queue
            if stopped is not None:
                await stopped


def connect_writer(path: str | Path, busy_timeout_ms: int) -> InlineConnection:
    """The writer's connection to ``path`` (autocommit; see :class:`InlineConnection`)."""
    return InlineConnection(str(path), busy_timeout_ms)
