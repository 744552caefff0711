"""What repository functions see of a database: a :class:`Tx` (one unit of work) and its
rows, on either engine; and :func:`parse_target`, which reads ``NPSBOT_DATABASE``.

``Tx`` offers ``execute`` (the row count), ``fetchone``, ``fetchall``, ``fetchval`` and
``executemany``; rows read by position and by column name; ``tx.dialect`` gives the few
fragments the engines spell differently (:mod:`storage.dialect`). The same repository
functions serve SQLite (:mod:`storage.sqlite`) and PostgreSQL (:mod:`storage.postgres`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from storage.dialect import Dialect

#: Reader connections opened at most per process (on demand): a long export holds one,
#: while the sender's and the dispatcher's short reads take the others.
MAX_READERS = 4

#: Statement parameters: positional for ``?``, a mapping for ``:name``.
Params = Sequence[Any] | Mapping[str, Any]


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

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


@dataclass(frozen=True, slots=True)
class Target:
    """Where the data lives: a SQLite file (or ``:memory:``) or a PostgreSQL URL."""

    engine: str  # "sqlite" or "postgresql"
    location: str  # the file path, or the libpq connection URL

    def describe(self) -> str:
        """For logs and messages: the path, or the URL without its password."""
        if self.engine == "sqlite":
            return self.location
        return _without_password(self.location)


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def parse_target(value: str | Path) -> Target:
    """``NPSBOT_DATABASE``: a file path, ``sqlite:///path`` (``sqlite:////abs/path`` for an
    absolute one, as SQLAlchemy writes it) or ``postgresql://...`` / ``postgres://...``.
    ValueError names what is wrong."""
    text = str(value).strip()
    if not text:
        raise ValueError("empty: give a file path, sqlite:///path or postgresql://...")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return Target("sqlite", text)
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"{text!r}: write sqlite:///relative/path or sqlite:////abs/path")
        return Target("sqlite", rest[1:])
    if scheme in {"postgresql", "postgres"}:
        if not rest or rest.startswith("?"):
            raise ValueError(f"{_without_password(text)!r}: no host or database after ://")
        return Target("postgresql", text)
    raise ValueError(
        f"unknown database scheme {scheme!r}: give a file path, sqlite:///path or postgresql://..."
    )
