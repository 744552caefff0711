"""The reports benchmark's bulk generator writes data the bot reads as its own: every
index back, WAL mode, times in the storage format, the rollups agreeing with the answers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.reports import build_rollups, generate
from bot.core.records import from_db_time_req
from storage import Database, rollups


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
    return {r[0] for r in rows}


async def test_generated_answers_are_consistent_with_the_schema_and_rollups(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.sqlite3"
    await (await Database.open(empty)).close()
    path = tmp_path / "bench.sqlite3"
    await generate(path, 2_000)
    await build_rollups(path)
    assert _indexes(path) == _indexes(empty)  # dropped for the load, all created again
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 2_000
        assert conn.execute("SELECT COUNT(*) FROM surveys").fetchone()[0] == 2_500
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 100
        joined = conn.execute(
            "SELECT COUNT(*) FROM answers a JOIN surveys s ON s.id = a.survey_id "
            "WHERE s.status = 'answered' AND s.answered_at = a.scored_at"
        ).fetchone()[0]
        assert joined == 2_000
        scores = dict(conn.execute("SELECT score, COUNT(*) FROM answers GROUP BY score"))
        first, last = conn.execute("SELECT MIN(scored_at), MAX(scored_at) FROM answers").fetchone()
        bad = conn.execute(
            "SELECT COUNT(*) FROM answers WHERE category <> CASE WHEN score >= 9 THEN "
            "'promoter' WHEN score >= 7 THEN 'passive' ELSE 'detractor' END"
        ).fetchone()[0]
        plans = {
            r[0] for r in conn.execute("SELECT json_extract(attributes, '$.plan') FROM surveys")
        }
    assert bad == 0
    assert set(scores) == set(range(11)) and scores[10] > scores[1]  # skewed positive
    assert plans == {"basic", "pro", "enterprise"}
    now = datetime.now(UTC)
    assert now - timedelta(days=366) < from_db_time_req(first) < from_db_time_req(last) < now
    db = await Database.open(path, migrate=False)
    try:
        async with db.transaction() as tx:  # the check counts into temporary tables
            differing, _ = await rollups.differences(tx)
    finally:
        await db.close()
    assert differing == 0
