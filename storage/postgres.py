"""The PostgreSQL engine behind :class:`storage.db.Database`: psycopg 3 and a psycopg_pool
connection pool, the same interface as :class:`storage.sqlite.SqliteDatabase`.

* Write transactions come in two scopes, both ``READ COMMITTED``:

  - **exclusive** (:meth:`PostgresDatabase.transaction` without a chat, the default): one
    at a time across every process, as under SQLite's ``BEGIN IMMEDIATE``. It takes
    ``pg_advisory_xact_lock`` on :data:`storage.dialect.WRITE_LOCK` (and, in the process,
    the write gate exclusively), so a read-then-write unit sees what committed before it
    and nobody else's half;
  - **chat-scoped** (``transaction(chat=chat_id)``): the write lock *shared*
    (``pg_advisory_xact_lock_shared``) and then that chat's own lock
    (:data:`storage.dialect.CHAT_TX_LOCK_CLASS`, the chat folded as
    :func:`storage.lease.chat_key` does). Scoped transactions of different chats run at
    once, in one process (up to :data:`MAX_SCOPED_WRITERS` pooled connections) and across
    processes; two of one chat take turns; an exclusive one waits for every scoped one to
    end and holds new ones back until it has run.

  Lock order is always the write lock, then one chat: no transaction takes two chats'
  locks, so scoped writers never wait for each other in a cycle
  (``tests/storage/test_scoped_transactions.py``).

  Which work runs in which scope, and why a chat-scoped one is safe beside other chats'
  (each statement touches the chat's own rows, or is one atomic statement: guarded
  ``UPDATE ... WHERE status = ...``, ``INSERT ... ON CONFLICT`` on a unique key, rollup
  upserts ``SET n = n + excluded.n``; PostgreSQL re-checks an UPDATE's condition on the
  row's latest version after waiting for its lock):

  ===================================================  ===========  =========================
  work                                                 scope        why
  ===================================================  ===========  =========================
  a customer's update (run_unit: score, drivers,       chat         the chat's customer,
  reason, edit, /language, /stop, /help, relay)                     surveys, answers, inbox
                                                                    row and outbox; rollups,
                                                                    alerts, webhook rows and
                                                                    an admin chat's relayed
                                                                    message are atomic
                                                                    upserts and inserts
  the sender's outbox flush of one chat                chat         that chat's outbox rows
                                                                    (claimed by a guarded
                                                                    UPDATE), its drivers
                                                                    message, its customers
  one survey's send (claim, sent, postpone, close,     chat         guarded UPDATEs of one
  blocked)                                                          survey and its customer
  an inbox batch of one chat (a webhook POST)          chat         INSERT ... ON CONFLICT DO
                                                                    NOTHING; the flood limits
                                                                    count this process's
                                                                    queue, not the table
  /start (linking), erasure, admin commands, polling   exclusive    they read across
  batches of many chats, contact rules when                         customers or chats and
  queueing, digests, alerts, retention, rollup                      then write
  rebuilds, reminders, expiry, migrations, the ops
  API's writes, webhook deliveries' claims
  ===================================================  ===========  =========================

* Read scopes (:meth:`PostgresDatabase.read`) are ``REPEATABLE READ READ ONLY``
  transactions on their own pooled connections: one snapshot, writes refused, never
  waiting for the writer.
* Migrations run under a session advisory lock (:data:`storage.dialect.MIGRATION_LOCK`), so
  two processes starting together migrate once.

Connections run in autocommit mode and the scopes issue ``BEGIN``/``COMMIT`` themselves, as
the SQLite engine does. Rows read like ``sqlite3.Row`` (by position and by name) and
``numeric`` results (PostgreSQL's ``SUM`` of integers) come back as ``int`` when whole, so
repository code sees the same Python values from both engines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg_pool import AsyncConnectionPool

from storage.dialect import MIGRATION_LOCK, POSTGRESQL
from storage.lease import chat_key
from storage.migrations import apply_migrations, check_not_too_new
from storage.tx import MAX_READERS, DatabaseUnavailableError, Params, Row, Target, Tx

log = logging.getLogger(__name__)

#: Seconds to wait for the server at start-up, and for a free pooled connection.
CONNECT_TIMEOUT = 10.0
#: Chat-scoped write transactions open at once in one process (each holds a pooled
#: connection); more wait in the process rather than at the server.
MAX_SCOPED_WRITERS = 8

Connection = psycopg.AsyncConnection[Any]


class PgRow:
    """A result row readable by position, by column name and as an iterable."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)

    def __repr__(self) -> str:
        return f"PgRow({self._values!r})"


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    names = [column.name for column in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}
    return lambda values: PgRow(values, index)


class _WholeNumericLoader(Loader):
    """``numeric`` as ``int`` when whole (``SUM`` of integers), else ``float``: what SQLite
    returns for the same expressions."""

    def load(self, data: Buffer) -> Any:
        value = Decimal(bytes(data).decode("ascii"))
        if value == value.to_integral_value():
            return int(value)
        return float(value)


async def configure_connection(conn: Connection) -> None:
    conn.adapters.register_loader("numeric", _WholeNumericLoader)
    conn.row_factory = _row_factory


class PgTx(Tx):
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        super().__init__(POSTGRESQL)
        self._conn = conn

    def _query(self, sql: str, params: Params) -> tuple[str, Params | None]:
        if not params:
            # No parameters: the text goes as written (no placeholder or % handling).
            return sql, None
        return POSTGRESQL.sql(sql), params

    async def execute(self, sql: str, params: Params = ()) -> int:
        query, args = self._query(sql, params)
        cur = await self._conn.execute(query, args)
        return cur.rowcount

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        batch = list(seq)
        if not batch:
            return
        async with self._conn.cursor() as cur:
            await cur.executemany(POSTGRESQL.sql(sql), batch)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        query, args = self._query(sql, params)
        cur = await self._conn.execute(query, args)
        row: PgRow | None = await cur.fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        query, args = self._query(sql, params)
        cur = await self._conn.execute(query, args)
        rows: list[Row] = await cur.fetchall()
        return rows

    async def batches(self, sql: str, size: int) -> AsyncIterator[list[Row]]:
        async with self._conn.cursor(name="npsbot_batches") as cur:
            await cur.execute(sql)
            while rows := await cur.fetchmany(size):
                yield list(rows)


class WriteGate:
    """The process's side of the write scopes: any number of chat-scoped writers (the
    server orders those of one chat) or one exclusive writer. An exclusive writer that
    waits holds back scoped writers that come after it, so a stream of them cannot starve
    it."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._scoped = 0
        self._exclusive = False
        self._exclusive_waiting = 0
        self._scoped_waiting = 0

    @property
    def exclusive_waiting(self) -> int:
        """Exclusive writers waiting to enter."""
        return self._exclusive_waiting

    @property
    def scoped_waiting(self) -> int:
        """Chat-scoped writers waiting to enter."""
        return self._scoped_waiting

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Held alone: no other writer of this process runs meanwhile."""
        async with self._changed:
            self._exclusive_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._exclusive and self._scoped == 0)
            finally:
                self._exclusive_waiting -= 1
                # A cancelled wait may have been what held scoped writers back.
                self._changed.notify_all()
            self._exclusive = True
        try:
            yield
        finally:
            async with self._changed:
                self._exclusive = False
                self._changed.notify_all()

    @asynccontextmanager
    async def scoped(self) -> AsyncIterator[None]:
        """Held beside other scoped writers, never beside an exclusive one."""
        async with self._changed:
            self._scoped_waiting += 1
            try:
                await self._changed.wait_for(
                    lambda: not self._exclusive and self._exclusive_waiting == 0
                )
            finally:
                self._scoped_waiting -= 1
            self._scoped += 1
        try:
            yield
        finally:
            async with self._changed:
                self._scoped -= 1
                if self._scoped == 0:
                    self._changed.notify_all()


class PostgresDatabase:
    """The PostgreSQL engine (see the module docstring)."""

    dialect = POSTGRESQL

    def __init__(self, pool: AsyncConnectionPool[Connection], target: Target) -> None:
        self._pool = pool
        self._gate = WriteGate()
        self._scoped_slots = asyncio.Semaphore(MAX_SCOPED_WRITERS)
        # Reads take at most MAX_READERS of the pool's connections: the writer's is never
        # held up behind a burst of reports.
        self._read_slots = asyncio.Semaphore(MAX_READERS)
        self.target = target
        self.path = target.describe()
        self._closed = False

    @property
    def separate_readers(self) -> bool:
        """Reads always run on their own pooled connections."""
        return True

    @classmethod
    async def connect(cls, target: Target, *, migrate: bool = True) -> PostgresDatabase:
        """Check the schema on ``target`` and bring it up to date (under the migration
        advisory lock) on a first connection, then open the pool.

        DatabaseUnavailableError (with the server's reason, never the password) when the
        server cannot be reached or refuses the connection."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                target.location, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT)
            )
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise DatabaseUnavailableError(
                f"cannot connect to {target.describe()}: {reason}"
            ) from None
        try:
            await configure_connection(conn)
            tx = PgTx(conn)
            await check_not_too_new(tx)
            if migrate:
                await conn.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
                try:
                    await apply_migrations(tx, _migration_scope(conn))
                finally:
                    await conn.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            target.location,
            # The writers and the readers of this process; more would only queue at the
            # locks or compete with the bot's other processes for the server.
            min_size=1,
            max_size=MAX_READERS + MAX_SCOPED_WRITERS,
            kwargs={"autocommit": True},
            configure=configure_connection,
            timeout=CONNECT_TIMEOUT,
            open=False,
            name="npsbot",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, target)

    async def close(self) -> None:
        """Close the pool (waits for connections in use to come back)."""
        self._closed = True
        async with self._gate.exclusive():
            await self._pool.close()

    async def checkpoint(self) -> bool:
        """Nothing to flush: PostgreSQL keeps no per-process log to empty. Erased rows'
        old versions are reclaimed by (auto)vacuum, see the README's "Scaling"."""
        return True

    async def checkpoint_passive(self) -> tuple[int, int]:
        """Nothing to copy: the server writes its own log to its files."""
        return 0, 0

    def transaction(self, *, chat: int | None = None) -> AbstractAsyncContextManager[Tx]:
        """A write transaction, committed on success, rolled back on error: exclusive, or
        scoped to ``chat`` (module docstring)."""
        if chat is None:
            return self._exclusive()
        return self._scoped(chat)

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[Tx]:
        async with (
            self._gate.exclusive(),
            self._pool.connection() as conn,
            _write(conn, POSTGRESQL.begin_write) as tx,
        ):
            yield tx

    @asynccontextmanager
    async def _scoped(self, chat: int) -> AsyncIterator[Tx]:
        begin = POSTGRESQL.begin_chat_write(chat_key(chat))
        async with (
            self._scoped_slots,
            self._gate.scoped(),
            self._pool.connection() as conn,
            _write(conn, begin) as tx,
        ):
            yield tx

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only scope over one snapshot, on its own connection."""
        if self._closed:
            raise RuntimeError("the database is closed")
        async with self._read_slots, self._pool.connection() as conn:
            await conn.execute(POSTGRESQL.begin_read)
            try:
                yield PgTx(conn)
            finally:
                await _rollback(conn)


@asynccontextmanager
async def _write(conn: Connection, begin: str) -> AsyncIterator[Tx]:
    await conn.execute(begin)
    try:
        yield PgTx(conn)
    except BaseException:
        await _rollback(conn)
        raise
    else:
        await conn.execute("COMMIT")


async def _rollback(conn: Connection) -> None:
    """Roll back if the connection can still take a command; a connection cancelled
    mid-statement is left to the pool, which discards it."""
    if conn.closed or conn.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
        return
    try:
        await conn.execute("ROLLBACK")
    except psycopg.Error:
        log.warning("rollback failed; the pool discards the connection", exc_info=True)


def _migration_scope(conn: Connection) -> Callable[[], AbstractAsyncContextManager[Tx]]:
    """One migration step's transaction on the migrating connection."""

    @asynccontextmanager
    async def scope() -> AsyncIterator[Tx]:
        await conn.execute("BEGIN")
        try:
            yield PgTx(conn)
        except BaseException:
            await _rollback(conn)
            raise
        await conn.execute("COMMIT")

    return scope
