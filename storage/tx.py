"""What repository functions see of a database: a :class:`Tx` (one unit of work) and its
rows, on either engine; and :func:`parse_target`, which reads ``NPSBOT_DATABASE``.

``Tx`` offers ``execute`` (the row count), ``fetchone``, ``fetchall``, ``fetchval`` and
``executemany``; rows read by position and by column name; ``tx.dialect`` gives the few
fragments the engines spell differently (:mod:`storage.dialect`). The same repository
functions serve SQLite (:mod:`storage.sqlite`) and PostgreSQL (:mod:`storage.postgres`).
``parse_target`` comes from :mod:`bot.core.database_url` (the settings validate with it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from bot.core.database_url import Target, parse_target
from storage.dialect import Dialect

__all__ = [
    "MAX_READERS",
    "DatabaseUnavailableError",
    "Params",
    "Row",
    "Target",
    "Tx",
    "parse_target",
]

#: Reader connections opened at most per process (on demand): a long export holds one,
#: while the sender's and the dispatcher's short reads take the others.
MAX_READERS = 4

#: Statement parameters: positional for ``?``, a mapping for ``:name``.
Params = Sequence[Any] | Mapping[str, Any]


class DatabaseUnavailableError(RuntimeError):
    """The database server cannot be reached, or refused the connection (the message says
    why and names the server without its password)."""


class Row(Protocol):
    """A result row: by position (``row[0]``), by column name (``row["id"]``), iterable."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


class Tx:
    """An open unit of work. Repository functions take one; callers never see SQL or rows."""

    __slots__ = ("dialect",)

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed (-1 when not applicable)."""
        raise NotImplementedError

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        """Run one statement once per parameter set."""
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of the result (the statement runs whole: RETURNING, too)."""
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of the result."""
        raise NotImplementedError

    def batches(self, sql: str, size: int) -> AsyncIterator[list[Row]]:
        """The rows of a large result, ``size`` at a time, without holding them all (a
        cursor on the server for PostgreSQL)."""
        raise NotImplementedError

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
