"""The database handle: transaction scopes over SQLite (the default) or PostgreSQL.

:meth:`Database.open` takes a path, a ``sqlite:///path`` URL or a ``postgresql://`` URL
(:func:`storage.tx.parse_target`) and hands every scope to that engine:
:class:`storage.sqlite.SqliteDatabase` (one writer connection behind a lock, WAL readers)
or :class:`storage.postgres.PostgresDatabase` (a pool; writers serialised by an advisory
lock; snapshot read transactions). Callers see the same interface and the same
:class:`Tx` from both.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from storage.dialect import Dialect
from storage.sqlite import SqliteDatabase
from storage.tx import (
    MAX_READERS,
    DatabaseUnavailableError,
    Params,
    Row,
    Target,
    Tx,
    parse_target,
)

__all__ = [
    "MAX_READERS",
    "Database",
    "DatabaseUnavailableError",
    "Params",
    "Row",
    "Target",
    "Tx",
    "parse_target",
]


class _Engine(Protocol):
    dialect: Dialect
    path: str
    target: Target

    @property
    def separate_readers(self) -> bool: ...

    def transaction(self, *, chat: int | None = None) -> AbstractAsyncContextManager[Tx]: ...

    def read(self) -> AbstractAsyncContextManager[Tx]: ...

    async def checkpoint(self) -> bool: ...

    async def checkpoint_passive(self) -> tuple[int, int]: ...

    async def close(self) -> None: ...


class Database:
    """Owns the connections. Open with :meth:`open`, close with :meth:`close` inside the loop."""

    def __init__(self, engine: _Engine) -> None:
        self._engine = engine
        self.dialect = engine.dialect
        #: The file (SQLite) or the URL without its password (PostgreSQL).
        self.path = engine.path
        self.target = engine.target

    @classmethod
    async def open(cls, location: str | Path, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database at ``location`` (a path or a URL) and
        bring its schema up to date.

        Raises :class:`storage.migrations.SchemaTooNewError` if the database was written by
        a newer version of the bot, ValueError for a location that is neither.
        """
        target = parse_target(location)
        if target.engine == "postgresql":
            # Imported here: a SQLite installation never loads the PostgreSQL driver.
            from storage.postgres import PostgresDatabase

            return cls(await PostgresDatabase.connect(target, migrate=migrate))
        return cls(await SqliteDatabase.connect(target.location, migrate=migrate))

    @property
    def separate_readers(self) -> bool:
        """True if reads run on their own connections (not a SQLite ``:memory:``)."""
        return self._engine.separate_readers

    def transaction(self, *, chat: int | None = None) -> AbstractAsyncContextManager[Tx]:
        """A write transaction: committed on success, rolled back on error.

        Without ``chat`` it is exclusive: no other writer runs meanwhile (SQLite ``BEGIN
        IMMEDIATE``; PostgreSQL an advisory lock across processes). With ``chat`` it is
        scoped to that chat: on PostgreSQL it runs beside other chats' scoped transactions
        (never beside an exclusive one, nor another of the same chat), so it may only run
        statements that are safe beside them (see :mod:`storage.postgres`); on SQLite it is
        the same as exclusive (one writer)."""
        return self._engine.transaction(chat=chat)

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A read-only scope over one committed snapshot that never waits for the writer."""
        return self._engine.read()

    async def checkpoint(self) -> bool:
        """SQLite: copy the write-ahead log into the file and truncate it, so erased data
        leaves the disk (False if a reader kept part of it). PostgreSQL: nothing to do."""
        return await self._engine.checkpoint()

    async def checkpoint_passive(self) -> tuple[int, int]:
        """SQLite: copy the write-ahead log into the file beside the writer, waiting for
        no one (the bot runs it every second: commits never checkpoint), and return the
        log's frames and how many are copied. PostgreSQL: nothing to do, (0, 0)."""
        return await self._engine.checkpoint_passive()

    async def close(self) -> None:
        """Close the connections; must run inside the event loop or the process may hang."""
        await self._engine.close()
