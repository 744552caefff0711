"""Specification of schema migrations (storage.migrations, storage.db.Database.open)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import SCHEMA_VERSION, Database, SchemaTooNewError
from storage import migrations as migrations_module
from storage.migrations import Migration

TABLES = {"customers", "surveys", "answers", "outbox", "inbox"}

# A stand-in for the next real migration: adds a column and back-fills it from existing rows.
EXTRA_MIGRATION = Migration(
    sqlite=[
        "ALTER TABLE customers ADD COLUMN nickname TEXT",
        "UPDATE customers SET nickname = 'n-' || external_id",
    ],
    postgresql=[
        "ALTER TABLE customers ADD COLUMN nickname TEXT",
        "UPDATE customers SET nickname = 'n-' || external_id",
    ],
)


def both(*statements: str) -> Migration:
    """A migration written the same for both engines."""
    return Migration(sqlite=list(statements), postgresql=list(statements))


def file_pragma(path: Path, name: str) -> int | str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]  # type: ignore[no-any-return]
    finally:
        conn.close()


def schema_sql(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return [(t, n, " ".join((s or "").split())) for t, n, s in rows]


def table_names(path: Path) -> set[str]:
    return {n for t, n, _ in schema_sql(path) if t == "table"}


def use_migrations(monkeypatch: pytest.MonkeyPatch, migrations: list[Migration]) -> None:
    monkeypatch.setattr(migrations_module, "MIGRATIONS", migrations)
    monkeypatch.setattr(migrations_module, "SCHEMA_VERSION", len(migrations))


async def test_fresh_database_gets_current_schema_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "fresh.db"  # the parent directory is created too
    db = await Database.open(path)
    try:
        async with db.read() as tx:
            assert (await tx.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION  # type: ignore[index]
            assert (await tx.fetchone("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
            assert (await tx.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
    finally:
        await db.close()
    assert len(migrations_module.MIGRATIONS) == SCHEMA_VERSION
    assert table_names(path) >= TABLES
    assert file_pragma(path, "user_version") == SCHEMA_VERSION


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "fk.db")
    try:
        with pytest.raises(Exception, match="FOREIGN KEY"):
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO surveys (customer_id, kind, send_at, created_at) "
                    "VALUES (999, 'relationship', 'x', 'x')"
                )
    finally:
        await db.close()


async def test_reopening_a_current_database_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    db = await Database.open(path)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO customers (external_id, created_at, updated_at) VALUES ('c1', 't', 't')"
        )
    await db.close()
    before = schema_sql(path)

    db = await Database.open(path)
    await db.close()

    assert schema_sql(path) == before
    assert file_pragma(path, "user_version") == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT external_id FROM customers").fetchall() == [("c1",)]
    conn.close()


def make_too_new(path: Path, journal_mode: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.execute("CREATE TABLE future_things (x)")
    conn.execute("INSERT INTO future_things VALUES (1)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()


async def test_database_from_newer_bot_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    make_too_new(path, "wal")  # what a newer bot writes
    before = path.read_bytes()

    with pytest.raises(SchemaTooNewError) as info:
        await Database.open(path)

    message = str(info.value)
    assert f"version {SCHEMA_VERSION + 5} is newer" in message
    assert f"({SCHEMA_VERSION})" in message
    assert path.read_bytes() == before
    assert file_pragma(path, "user_version") == SCHEMA_VERSION + 5
    assert table_names(path) == {"future_things"}


async def test_refused_database_in_rollback_journal_mode_is_left_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newer-delete.db"
    make_too_new(path, "delete")
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError):
        await Database.open(path)
    assert path.read_bytes() == before


async def test_open_without_migrate_leaves_a_new_file_at_version_0(tmp_path: Path) -> None:
    path = tmp_path / "raw.db"
    db = await Database.open(path, migrate=False)
    await db.close()
    assert file_pragma(path, "user_version") == 0
    assert table_names(path) == set()


async def test_migrating_from_version_0_creates_every_table(tmp_path: Path) -> None:
    path = tmp_path / "zero.db"
    sqlite3.connect(path).close()
    assert file_pragma(path, "user_version") == 0
    db = await Database.open(path)
    await db.close()
    assert table_names(path) >= TABLES
    assert file_pragma(path, "user_version") == SCHEMA_VERSION


async def open_at_version(
    path: Path, version: int, monkeypatch: pytest.MonkeyPatch, all_migrations: list[Migration]
) -> None:
    with monkeypatch.context() as m:
        use_migrations(m, all_migrations[:version])
        db = await Database.open(path)
        if version >= 1:
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO customers (external_id, created_at, updated_at) "
                    "VALUES ('kept', 't', 't')"
                )
        await db.close()
    assert file_pragma(path, "user_version") == version


@pytest.mark.parametrize("start", range(len(migrations_module.MIGRATIONS) + 1))
async def test_every_older_version_upgrades_in_place_to_the_fresh_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: int
) -> None:
    all_migrations = [*migrations_module.MIGRATIONS, EXTRA_MIGRATION]
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    with monkeypatch.context() as m:
        use_migrations(m, all_migrations)
        db = await Database.open(fresh)
        await db.close()

    await open_at_version(old, start, monkeypatch, all_migrations)

    use_migrations(monkeypatch, all_migrations)
    db = await Database.open(old)
    await db.close()

    assert file_pragma(old, "user_version") == len(all_migrations)
    assert schema_sql(old) == schema_sql(fresh)
    conn = sqlite3.connect(old)
    rows = conn.execute("SELECT external_id, nickname FROM customers").fetchall()
    conn.close()
    assert rows == ([("kept", "n-kept")] if start >= 1 else [])


async def test_failing_migration_rolls_back_and_keeps_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fail.db"
    db = await Database.open(path)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO customers (external_id, created_at, updated_at) VALUES ('c', 't', 't')"
        )
    await db.close()
    before = schema_sql(path)

    broken = both(
        "CREATE TABLE half_done (x)",
        "UPDATE customers SET external_id = 'changed'",
        "THIS IS NOT SQL",
    )
    use_migrations(monkeypatch, [*migrations_module.MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(path)

    assert file_pragma(path, "user_version") == SCHEMA_VERSION
    assert schema_sql(path) == before
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT external_id FROM customers").fetchall() == [("c",)]
    conn.close()


async def test_failing_first_migration_leaves_a_new_file_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fail0.db"
    use_migrations(monkeypatch, [both("CREATE TABLE a (x)", "CREATE TABLE a (x)")])
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        await Database.open(path)
    assert file_pragma(path, "user_version") == 0
    assert table_names(path) == set()


async def test_processed_update_ids_become_handled_inbox_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.records import InboxOutcome
    from storage import inbox

    path = tmp_path / "v10.db"
    with monkeypatch.context() as m:
        use_migrations(m, migrations_module.MIGRATIONS[:10])
        db = await Database.open(path)
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO processed_updates (update_id, processed_at) "
                "VALUES (7, '2024-05-01T12:00:00.000000Z')"
            )
        await db.close()
    db = await Database.open(path)
    try:
        async with db.transaction() as tx:
            assert await inbox.unhandled(tx) == []
            assert await inbox.claim(tx, 7, 1, datetime.now(UTC)) is False  # still recognised
            rows = await tx.fetchall("SELECT outcome, payload FROM inbox")
            assert [tuple(r) for r in rows] == [(InboxOutcome.HANDLED.value, None)]
    finally:
        await db.close()
    assert "processed_updates" not in table_names(path)
