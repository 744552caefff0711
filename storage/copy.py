"""Copying one database into another (``npsbot migrate-to``): every table, every row, the
same ids, in batches, into an empty target at the same schema version; then the counts.

The source is read in one snapshot and the target written in one transaction: a copy that
fails leaves the target as empty as it was, so it can simply be run again. Tables are
copied parents first (by their foreign keys); identity generators are moved past the copied
ids, so the next row the bot writes gets a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database
from storage.migrations import SCHEMA_VERSION, schema_version
from storage.tx import Tx

#: Rows read and written per round trip.
BATCH = 1000

#: Rows the migrations themselves write (``rollup_state``'s one row): present in every
#: migrated database, replaced by the source's.
_SEEDED = frozenset({"rollup_state"})


class TargetNotEmptyError(RuntimeError):
    """The target database already holds data (or tables of something else)."""


@dataclass(frozen=True, slots=True)
class TableCount:
    """One table's rows in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        """True when every row arrived."""
        return self.source == self.target


async def _count(tx: Tx, table: str) -> int:
    return int(await tx.fetchval(f"SELECT COUNT(*) FROM {table}"))


async def _tables_parents_first(tx: Tx) -> list[str]:
    """The source's tables, each after the tables its foreign keys reference."""
    tables = await _user_tables(tx)
    parents = {
        t: {str(r[0]) for r in await tx.fetchall(tx.dialect.references_sql, (t,))} - {t}
        for t in tables
    }
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise RuntimeError("the tables' foreign keys form a cycle")
        ordered.extend(ready)
    return ordered


async def _user_tables(tx: Tx) -> list[str]:
    return [str(r[0]) for r in await tx.fetchall(tx.dialect.user_tables_sql)]


async def _columns(tx: Tx, table: str) -> list[str]:
    return [str(r[0]) for r in await tx.fetchall(tx.dialect.table_columns_sql, (table,))]


async def check_empty(target: Database) -> None:
    """TargetNotEmptyError unless ``target`` has no tables at all, or has this schema with
    no rows but those the migrations write (what a failed or fresh copy leaves)."""
    async with target.read() as tx:
        tables = await _user_tables(tx)
        if not tables and await schema_version(tx) == 0:
            return
        version = await schema_version(tx)
        if version != SCHEMA_VERSION:
            raise TargetNotEmptyError(
                f"the target is not empty: it has {len(tables)} tables"
                + (f" at schema version {version}" if version else " of something else")
            )
        for table in tables:
            if table not in _SEEDED and await _count(tx, table):
                raise TargetNotEmptyError(f"the target is not empty: {table} has rows")


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableCount]:
    """Copy every row of ``source`` into ``target`` (both migrated to this schema version;
    the target empty, see :func:`check_empty`), ``batch`` rows at a time (default
    :data:`BATCH`), then count both sides per table. ``progress(table, rows_so_far)`` is
    told after each batch."""
    size = batch or BATCH
    async with source.read() as src, target.transaction() as dst:
        tables = await _tables_parents_first(src)
        missing = set(tables) ^ set(await _user_tables(dst))
        if missing:
            raise RuntimeError(f"the schemas differ in tables: {', '.join(sorted(missing))}")
        for table in _SEEDED & set(tables):
            await dst.execute(f"DELETE FROM {table}")
        for table in tables:
            columns = await _columns(src, table)
            if set(columns) != set(await _columns(dst, table)):
                raise RuntimeError(f"the schemas differ in the columns of {table}")
            names = ", ".join(columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
            copied = 0
            async for rows in src.batches(f"SELECT {names} FROM {table}", size):
                await dst.executemany(insert, [tuple(r) for r in rows])
                copied += len(rows)
                if progress is not None:
                    progress(table, copied)
        if dst.dialect.identity_columns_sql is not None:
            for table, column in await dst.fetchall(dst.dialect.identity_columns_sql):
                await dst.fetchval(dst.dialect.restart_identity_sql(table, column))
    counts: list[TableCount] = []
    async with source.read() as src, target.read() as dst:
        for table in tables:
            counts.append(TableCount(table, await _count(src, table), await _count(dst, table)))
    return counts
