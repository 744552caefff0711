"""Specification of ``npsbot migrate-to postgresql://...`` (bot.cli, storage.copy): a SQLite
installation moves into an empty PostgreSQL database whole, ids and all, the counts are
printed per table, and anything but an empty target is refused untouched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.core.records import SurveyKind
from storage import Database, copy, customers, privacy, surveys, themes
from storage.postgres import PgTx
from tests.privacy.conftest import T0, dump, person, seed
from tests.storage.test_same_figures_on_both_engines import store_answers
from tests.support.cli import run_cli
from tests.support.postgres import PostgresServer, url_for


@pytest.fixture
def target(postgres: PostgresServer) -> Iterator[str]:
    """The URL of an empty PostgreSQL database (dropped after the test)."""
    name = postgres.create(migrated=False)
    try:
        yield url_for(name)
    finally:
        postgres.drop(name)


def fill(path: Path) -> None:
    """A SQLite installation with rows in every table."""

    async def run() -> None:
        db = await Database.open(path)
        try:
            await seed(db, person("anna", 910001))
            await seed(db, person("bert", 910002), now=T0 + timedelta(days=1), score=9)
            await store_answers(db)
            async with db.transaction() as tx:
                first = int(await tx.fetchval("SELECT MIN(id) FROM customers"))
                await customers.record_link_use(tx, first, "k1", T0)
                await customers.record_link_refusal(tx, first, "used", T0)
                await privacy.record_run(tx, "retention", "job", T0, T0, {"answer_texts": 2})
                await themes.save_model(tx, {"terms": ["late", "晚"]}, 12, T0)
                await themes.register(tx, "e1", "late parcels", ["late", "parcel"], 3, T0)
                survey_id = int(await tx.fetchval("SELECT MIN(survey_id) FROM answers"))
                picked = [themes.Assignment("late", themes.EMERGING, 0.25)]
                await themes.assign(tx, survey_id, picked, T0)
        finally:
            await db.close()

    asyncio.run(run())


def everything(location: str | Path) -> dict[str, list[dict[str, Any]]]:
    async def run() -> dict[str, list[dict[str, Any]]]:
        db = await Database.open(location)
        try:
            return await dump(db)
        finally:
            await db.close()

    return asyncio.run(run())


def test_migrate_to_copies_every_row_with_its_ids_and_prints_the_counts(
    cli_env: Path, target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(cli_env)
    monkeypatch.setattr(copy, "BATCH", 7)  # many batches per table
    assert run_cli("migrate-to", target) == 0
    out = capsys.readouterr()
    before, after = everything(cli_env), everything(target)
    assert set(before) == set(after)
    for table, rows in before.items():
        assert rows, f"the fixture leaves {table} empty: it proves nothing there"
        key = sorted(rows[0])
        assert sorted(after[table], key=lambda r: [str(r[k]) for k in key]) == sorted(
            rows, key=lambda r: [str(r[k]) for k in key]
        ), table
        assert f"{len(rows)} in SQLite" in out.out and table in out.out
    assert out.out.strip().splitlines()[-1].startswith(f"copied {len(before)} tables")
    assert "answers: 7 rows" in out.err and "answers: 14 rows" in out.err  # batch by batch

    # The bot goes on on the copy: new rows get new ids after the copied ones.
    async def write_more() -> tuple[int, int]:
        db = await Database.open(target)
        try:
            async with db.transaction() as tx:
                customer = await customers.upsert(tx, "new-after-move", T0)
                survey = await surveys.create(tx, customer.id, SurveyKind.RELATIONSHIP, T0)
            return customer.id, survey.id
        finally:
            await db.close()

    customer_id, survey_id = asyncio.run(write_more())
    assert customer_id == max(r["id"] for r in before["customers"]) + 1
    assert survey_id == max(r["id"] for r in before["surveys"]) + 1


def test_migrate_to_refuses_a_target_with_tables_of_something_else(
    cli_env: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(cli_env)
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INT)")
    assert run_cli("migrate-to", target) == 1
    assert "not empty" in capsys.readouterr().err
    with psycopg.connect(target) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == [("invoices",)]  # nothing was created beside it


def test_migrate_to_refuses_a_bot_database_that_holds_data(
    cli_env: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(cli_env)
    assert run_cli("migrate-to", target) == 0
    capsys.readouterr()
    assert run_cli("migrate-to", target) == 1  # a second run finds the first one's rows
    assert "the target is not empty" in capsys.readouterr().err
    assert len(everything(target)["customers"]) == len(everything(cli_env)["customers"])


def test_a_copy_that_fails_leaves_the_target_empty_and_can_run_again(
    cli_env: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(cli_env)
    real = PgTx.executemany

    async def failing(self: PgTx, sql: str, seq: Any) -> None:
        if "INSERT INTO answers" in sql:
            raise RuntimeError("the connection broke")
        await real(self, sql, seq)

    with monkeypatch.context() as m:
        m.setattr(PgTx, "executemany", failing)
        with pytest.raises(RuntimeError, match="the connection broke"):
            run_cli("migrate-to", target)
    assert all(not rows for t, rows in everything(target).items() if t != "rollup_state")
    assert run_cli("migrate-to", target) == 0
    assert len(everything(target)["answers"]) == len(everything(cli_env)["answers"])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///other.db", "give a postgresql:// URL"),
        ("mysql://db/nps", "unknown database scheme"),
    ],
)
def test_migrate_to_takes_only_a_postgresql_url(
    cli_env: Path, url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("migrate-to", url) == 2
    assert message in capsys.readouterr().err
