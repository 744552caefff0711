"""Specification of schema migrations on PostgreSQL (storage.migrations under the advisory
lock, storage.postgres): the same versions as SQLite, applied once however many processes
start together, refused when newer, and every older version upgrading to the fresh schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from storage import SCHEMA_VERSION, Database, DatabaseUnavailableError, SchemaTooNewError
from storage import migrations as migrations_module
from storage.migrations import Migration
from tests.support.cli import run_cli
from tests.support.postgres import PostgresServer, url_for

COLUMNS_SQL = """
    SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name
    FROM information_schema.columns WHERE table_schema = 'public'
    ORDER BY table_name, ordinal_position
"""
INDEXES_SQL = """
    SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
    ORDER BY tablename, indexname
"""


@pytest.fixture
def empty(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (dropped after the test)."""
    name = postgres.create(migrated=False)
    try:
        yield url_for(name)
    finally:
        postgres.drop(name)


def catalog(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The schema's columns (with types and collations) and indexes, as PostgreSQL reports
    them; constraint and index names that derive from a table's first name are normalised."""
    with psycopg.connect(url) as conn:
        columns = [tuple(r) for r in conn.execute(COLUMNS_SQL).fetchall()]
        indexes = [
            (t, n.replace("digests_new", "digests"), d.replace("digests_new", "digests"))
            for t, n, d in conn.execute(INDEXES_SQL).fetchall()
        ]
    return columns, indexes


def version_of(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM npsbot_schema").fetchone()
    assert row is not None
    return int(row[0])


async def test_two_processes_opening_a_new_database_together_migrate_it_once(
    empty: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    counted = [
        Migration(
            sqlite=m.sqlite,
            postgresql=[*m.postgresql, f"SELECT {i + 1}"],
        )
        for i, m in enumerate(migrations_module.MIGRATIONS)
    ]
    original = Migration.statements

    def counting(self: Migration, engine: str) -> list[str]:
        runs.append(counted.index(self) + 1)
        return original(self, engine)

    monkeypatch.setattr(migrations_module, "MIGRATIONS", counted)
    monkeypatch.setattr(Migration, "statements", counting)
    first, second = await asyncio.gather(Database.open(empty), Database.open(empty))
    await first.close()
    await second.close()
    assert sorted(runs) == list(range(1, SCHEMA_VERSION + 1)), "each version ran exactly once"
    assert version_of(empty) == SCHEMA_VERSION


async def test_a_database_from_a_newer_bot_is_refused(empty: str) -> None:
    db = await Database.open(empty)
    await db.close()
    with psycopg.connect(empty) as conn:
        conn.execute(f"UPDATE npsbot_schema SET version = {SCHEMA_VERSION + 3}")
    with pytest.raises(SchemaTooNewError, match=f"version {SCHEMA_VERSION + 3} is newer"):
        await Database.open(empty)
    assert version_of(empty) == SCHEMA_VERSION + 3


async def test_open_without_migrate_leaves_an_empty_database_empty(empty: str) -> None:
    db = await Database.open(empty, migrate=False)
    async with db.read() as tx:
        assert await tx.fetchall(tx.dialect.user_tables_sql) == []
    await db.close()
    with psycopg.connect(empty) as conn:
        assert conn.execute("SELECT to_regclass('npsbot_schema')").fetchone() == (None,)


@pytest.mark.parametrize("start", range(0, SCHEMA_VERSION + 1, 3))
async def test_every_older_version_upgrades_in_place_to_the_fresh_schema(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, start: int
) -> None:
    fresh, old = postgres.create(migrated=False), postgres.create(migrated=False)
    try:
        db = await Database.open(url_for(fresh))
        await db.close()
        with monkeypatch.context() as m:
            m.setattr(migrations_module, "MIGRATIONS", migrations_module.MIGRATIONS[:start])
            m.setattr(migrations_module, "SCHEMA_VERSION", start)
            db = await Database.open(url_for(old))
            if start >= 1:
                async with db.transaction() as tx:
                    await tx.execute(
                        "INSERT INTO customers (external_id, created_at, updated_at) "
                        "VALUES ('kept', 't', 't')"
                    )
            await db.close()
        db = await Database.open(url_for(old))
        async with db.read() as tx:
            kept = [r[0] for r in await tx.fetchall("SELECT external_id FROM customers")]
        await db.close()
        assert catalog(url_for(old)) == catalog(url_for(fresh))
        assert version_of(url_for(old)) == SCHEMA_VERSION
        assert kept == (["kept"] if start >= 1 else [])
    finally:
        postgres.drop(fresh)
        postgres.drop(old)


async def test_a_failing_migration_rolls_back_and_keeps_the_version(
    empty: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await Database.open(empty)
    await db.close()
    broken = Migration(
        sqlite=[],
        postgresql=["CREATE TABLE half_done (x INT)", "THIS IS NOT SQL"],
    )
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, broken])
    monkeypatch.setattr(migrations_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(psycopg.errors.SyntaxError):
        await Database.open(empty)
    assert version_of(empty) == SCHEMA_VERSION
    with psycopg.connect(empty) as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)


def test_every_schema_version_is_written_for_both_engines() -> None:
    for version, migration in enumerate(migrations_module.MIGRATIONS, start=1):
        assert migration.sqlite and migration.postgresql, f"version {version} lacks an engine"


async def test_an_unreachable_server_is_named_without_its_password() -> None:
    with pytest.raises(DatabaseUnavailableError) as info:
        await Database.open("postgresql://bot:hunter2@127.0.0.1:1/nps")
    message = str(info.value)
    assert "postgresql://bot:***@127.0.0.1:1/nps" in message
    assert "hunter2" not in message


def test_npsbot_run_stops_with_one_line_when_the_server_is_unreachable(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NPSBOT_DATABASE", "postgresql://bot:hunter2@127.0.0.1:1/nps")
    assert run_cli("run") == 1
    err = capsys.readouterr().err
    assert "cannot connect to postgresql://bot:***@127.0.0.1:1/nps" in err
    assert "hunter2" not in err and "Traceback" not in err


async def test_two_installations_in_two_schemas_of_one_database_keep_apart(empty: str) -> None:
    with psycopg.connect(empty, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop_a")
        conn.execute("CREATE SCHEMA shop_b")
    a = await Database.open(empty + "?options=-csearch_path%3Dshop_a")
    b = await Database.open(empty + "?options=-csearch_path%3Dshop_b")
    try:
        async with a.transaction() as tx:  # a write of one holds up nothing of the other
            await tx.execute(
                "INSERT INTO customers (external_id, created_at, updated_at) VALUES ('a', 't', 't')"
            )
            async with asyncio.timeout(5), b.transaction() as other:
                await other.execute(
                    "INSERT INTO customers (external_id, created_at, updated_at) "
                    "VALUES ('b', 't', 't')"
                )
        for db, expected in ((a, "a"), (b, "b")):
            async with db.read() as tx:
                assert [r[0] for r in await tx.fetchall("SELECT external_id FROM customers")] == [
                    expected
                ]
    finally:
        await a.close()
        await b.close()
    with psycopg.connect(empty) as conn:
        schemas = conn.execute(
            "SELECT DISTINCT table_schema FROM information_schema.tables "
            "WHERE table_name = 'customers'"
        ).fetchall()
    assert sorted(schemas) == [("shop_a",), ("shop_b",)]
