"""One read-only snapshot of a database, on a connection of its own, for a process that is
not the bot: the export's child process (:mod:`bot.usecases.exporting`).

It opens the same location the bot stores in (a path, ``sqlite:///...`` or
``postgresql://...``) but never writes, never migrates and holds no lock the bot's writer
waits for:

* SQLite: the file opened with ``mode=ro`` (the connection cannot write, whatever it is
  asked) and ``PRAGMA query_only``; under WAL a reader sees one committed snapshot and
  neither waits for the writer nor holds it up. The schema must exist (the bot created it);
  a missing file is an error, not a new empty database.
* PostgreSQL: one connection (not a pool) and one ``REPEATABLE READ READ ONLY``
  transaction, as the bot's own read scopes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from bot.core.database_url import Target
from storage.dialect import POSTGRESQL, SQLITE
from storage.tx import DatabaseUnavailableError, Tx

#: Seconds a snapshot's connection waits for the server (PostgreSQL) or a lock (SQLite).
CONNECT_TIMEOUT_S = 10


@asynccontextmanager
async def read_only_snapshot(target: Target, name: str = "npsbot-snapshot") -> AsyncIterator[Tx]:
    """A read-only transaction over one committed snapshot of ``target``; the connection is
    closed when the scope ends. ``name`` is the PostgreSQL ``application_name`` (what
    ``pg_stat_activity`` shows). DatabaseUnavailableError (the password never in it) when
    the database cannot be opened."""
    if target.engine == "postgresql":
        async with _postgres_snapshot(target, name) as tx:
            yield tx
    else:
        async with _sqlite_snapshot(target.location) as tx:
            yield tx


@asynccontextmanager
async def _sqlite_snapshot(location: str) -> AsyncIterator[Tx]:
    import sqlite3

    import aiosqlite

    from storage.sqlite import SqliteTx

    if location == ":memory:":
        raise DatabaseUnavailableError("a database in memory has no snapshot for another process")
    # A relative path stays relative: the child process starts in the bot's directory.
    uri = f"file:{quote(location)}?mode=ro"
    try:
        conn = await aiosqlite.connect(
            uri, uri=True, isolation_level=None, timeout=CONNECT_TIMEOUT_S
        )
    except sqlite3.Error as exc:
        raise DatabaseUnavailableError(f"cannot open {location} read-only: {exc}") from None
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA query_only = ON")
        await conn.execute(SQLITE.begin_read)
        try:
            yield SqliteTx(conn)
        finally:
            await conn.execute("ROLLBACK")
    finally:
        await conn.close()


@asynccontextmanager
async def _postgres_snapshot(target: Target, name: str) -> AsyncIterator[Tx]:
    # Imported here: a SQLite installation never loads the PostgreSQL driver.
    import psycopg

    from storage.postgres import PgTx, configure_connection

    try:
        conn = await psycopg.AsyncConnection.connect(
            target.location,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=name,
        )
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseUnavailableError(f"cannot connect to {target.describe()}: {reason}") from None
    try:
        await configure_connection(conn)
        await conn.execute(POSTGRESQL.begin_read)
        try:
            yield PgTx(conn)
        finally:
            if not conn.closed:
                await conn.execute("ROLLBACK")
    finally:
        await conn.close()
