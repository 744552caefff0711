"""Versioned schema migrations, applied at start-up, on either engine.

The schema version lives in ``PRAGMA user_version`` on SQLite and in the one-row table
``npsbot_schema`` on PostgreSQL. Each version is a module of :mod:`storage.schema` with the
same change for each engine (``STATEMENTS``, ``POSTGRESQL``), run in one transaction
together with the version bump, so a crash mid-upgrade leaves the old version intact; each
step re-reads the version inside its transaction, so a second process that started at the
same time skips what the first one did (on PostgreSQL the whole run also holds an advisory
lock, :data:`storage.dialect.MIGRATION_LOCK`). A database whose version is newer than this
code knows is refused: running old code on it could silently corrupt data written by the
newer version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from storage.schema import (
    v001_initial,
    v002_ops,
    v003_admin,
    v004_webhooks,
    v005_questionnaire,
    v006_privacy,
    v007_links,
    v008_themes,
    v009_rollups,
    v010_digest_cadence,
    v011_inbox,
)

if TYPE_CHECKING:
    from storage.tx import Tx

log = logging.getLogger(__name__)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot."""


@dataclass(frozen=True)
class Migration:
    """One schema version: the same change written for each engine."""

    sqlite: list[str]
    postgresql: list[str]

    @classmethod
    def of(cls, module: ModuleType) -> Migration:
        """The version defined by a :mod:`storage.schema` module."""
        return cls(sqlite=module.STATEMENTS, postgresql=module.POSTGRESQL)

    def statements(self, engine: str) -> list[str]:
        """The statements for ``engine`` (a dialect name)."""
        return self.postgresql if engine == "postgresql" else self.sqlite


MIGRATIONS: list[Migration] = [
    Migration.of(v001_initial),
    Migration.of(v002_ops),
    Migration.of(v003_admin),
    Migration.of(v004_webhooks),
    Migration.of(v005_questionnaire),
    Migration.of(v006_privacy),
    Migration.of(v007_links),
    Migration.of(v008_themes),
    Migration.of(v009_rollups),
    Migration.of(v010_digest_cadence),
    Migration.of(v011_inbox),
    # Add the next version as storage/schema/v0NN_<name>.py (STATEMENTS for SQLite,
    # POSTGRESQL for PostgreSQL), appended here, never edited once released: databases in
    # the field have already run the earlier ones.
]

SCHEMA_VERSION = len(MIGRATIONS)


async def schema_version(tx: Tx) -> int:
    """The version recorded in the database (0 for a new one)."""
    table = tx.dialect.version_table
    if table is None:
        return int(await tx.fetchval("PRAGMA user_version") or 0)
    if await tx.fetchval(f"SELECT to_regclass('{table}') IS NOT NULL") is not True:
        return 0
    return int(await tx.fetchval(f"SELECT version FROM {table}") or 0)


async def _record_version(tx: Tx, version: int) -> None:
    table = tx.dialect.version_table
    if table is None:
        await tx.execute(f"PRAGMA user_version = {int(version)}")
        return
    await tx.execute(f"CREATE TABLE IF NOT EXISTS {table} (version BIGINT NOT NULL)")
    if await tx.execute(f"UPDATE {table} SET version = {int(version)}") == 0:
        await tx.execute(f"INSERT INTO {table} (version) VALUES ({int(version)})")


async def check_not_too_new(tx: Tx) -> int:
    """The database's schema version; SchemaTooNewError if a newer bot wrote it."""
    current = await schema_version(tx)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this bot supports "
            f"({SCHEMA_VERSION}); upgrade the bot or use a backup made by this version"
        )
    return current


async def apply_migrations(tx: Tx, write: Callable[[], AbstractAsyncContextManager[Tx]]) -> int:
    """Upgrade the schema in place to :data:`SCHEMA_VERSION`, each version in its own write
    transaction from ``write``; ``tx`` reads the starting version. Returns the version."""
    current = await check_not_too_new(tx)
    for version in range(current + 1, SCHEMA_VERSION + 1):
        async with write() as step:
            if await check_not_too_new(step) >= version:
                continue  # another process migrated meanwhile
            for statement in MIGRATIONS[version - 1].statements(step.dialect.name):
                await step.execute(statement)
            await _record_version(step, version)
        log.info("database migrated to schema version %d", version)
    return SCHEMA_VERSION
