"""Versioned schema migrations, applied at start-up.

The schema version lives in ``PRAGMA user_version``. Each migration is a list of statements
run in one transaction together with the version bump, so a crash mid-upgrade leaves the old
version intact. A database whose version is newer than this code knows is refused: running
old code on it could silently corrupt data written by the newer version.
"""

from __future__ import annotations

import logging

import aiosqlite

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

log = logging.getLogger(__name__)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot."""


MIGRATIONS: list[list[str]] = [
    v001_initial.STATEMENTS,
    v002_ops.STATEMENTS,
    v003_admin.STATEMENTS,
    v004_webhooks.STATEMENTS,
    v005_questionnaire.STATEMENTS,
    v006_privacy.STATEMENTS,
    v007_links.STATEMENTS,
    v008_themes.STATEMENTS,
    v009_rollups.STATEMENTS,
    v010_digest_cadence.STATEMENTS,
    v011_inbox.STATEMENTS,
    # Add the next version as storage/schema/v00N_<name>.py, appended here, never edited
    # once released: databases in the field have already run the earlier ones.
]

SCHEMA_VERSION = len(MIGRATIONS)


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The version recorded in the database file (0 for a new file)."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def check_not_too_new(conn: aiosqlite.Connection) -> int:
    """The file's schema version; SchemaTooNewError if a newer bot wrote it."""
    current = await schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this bot supports "
            f"({SCHEMA_VERSION}); upgrade the bot or use a backup made by this version"
        )
    return current


async def apply_migrations(conn: aiosqlite.Connection) -> int:
    """Upgrade the schema in place to :data:`SCHEMA_VERSION`; return the resulting version."""
    current = await check_not_too_new(conn)
    for version in range(current + 1, SCHEMA_VERSION + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        log.info("database migrated to schema version %d", version)
    return SCHEMA_VERSION
