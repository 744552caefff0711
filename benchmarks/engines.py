"""SQLite against PostgreSQL, side by side in one run: ``python -m benchmarks.engines``.

The same storage functions on both engines, rounds interleaved (SQLite, PostgreSQL,
PostgreSQL without synchronous commit, then again) so that a busy machine slows all alike:

- **writes**: one small transaction each (an update id claimed, as every Telegram update is);
- **answers**: a score recorded with its rollups, one transaction per answer;
- **digest**: the daily digest's aggregation over the stored answers (the rollups' path).

Reported: the median rate of the rounds for each engine, the ratio PostgreSQL / SQLite, and
this process's CPU seconds per 1,000 operations (from the OS). The PostgreSQL server is
``NPSBOT_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``); a
scratch database is created there and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from benchmarks.common import print_table, write_result
from bot.core.records import SurveyKind
from bot.settings import Settings
from bot.usecases.digests import gather_digest_data
from storage import Database, answers, customers, inbox, surveys

SERVER = os.environ.get("NPSBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
DAY = date(2026, 11, 22)
SETTINGS = Settings.from_env(
    {
        "NPSBOT_TOKEN": "123456:" + "A" * 30,
        "NPSBOT_LINK_SECRET": "s" * 32,
        "NPSBOT_COMPANY_NAME": "Bench",
        "NPSBOT_TIMEZONE": "UTC",
    }
)


def _url(database: str, options: str = "") -> str:
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path="/" + database, query=options))


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


async def _rate(job: Callable[[int], Awaitable[None]], n: int) -> tuple[float, float]:
    """(operations per second, CPU seconds of this process per 1,000 operations)."""
    wall, cpu = time.perf_counter(), _cpu()
    for i in range(n):
        await job(i)
    return n / (time.perf_counter() - wall), (_cpu() - cpu) * 1000 / n


async def _prepare(db: Database, count: int) -> list[int]:
    """``count`` sent surveys, ready to be answered; their ids."""
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    ids = []
    async with db.transaction() as tx:
        for i in range(count):
            customer = await customers.upsert(tx, f"b{i}", now, {"plan": ["pro", "basic"][i % 2]})
            survey = await surveys.create(
                tx, customer.id, SurveyKind.TRANSACTIONAL, now, attributes=customer.attributes
            )
            await surveys.mark_sent(tx, survey.id, 10_000 + i, 1, now)
            ids.append(survey.id)
    return ids


async def run(n: int, rounds: int) -> dict[str, dict[str, float]]:
    name = f"npsbot_bench_{uuid.uuid4().hex[:12]}"
    fast = f"{name}_async"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{fast}"')
    tmp = Path(tempfile.mkdtemp())
    engines = {
        "sqlite": await Database.open(tmp / "bench.sqlite3"),
        "postgresql": await Database.open(_url(name)),
        "postgresql, synchronous_commit=off": await Database.open(
            _url(fast, "options=-csynchronous_commit%3Doff")
        ),
    }
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {
        e: {"writes": [], "answers": [], "digest": []} for e in engines
    }
    try:
        for r in range(rounds):
            for label, db in engines.items():
                base = r * n

                async def claim(i: int, db: Database = db, base: int = base) -> None:
                    async with db.transaction() as tx:
                        await inbox.claim(tx, base + i, None, datetime.now(UTC))

                samples[label]["writes"].append(await _rate(claim, n))
                ids = await _prepare(db, n)
                at = datetime(2026, 11, 22, 12, 30, tzinfo=UTC) - timedelta(days=r)

                async def answer(
                    i: int, db: Database = db, ids: list[int] = ids, at: datetime = at
                ) -> None:
                    async with db.transaction() as tx:
                        await surveys.mark_answered(tx, ids[i], at)
                        await answers.record_score(tx, ids[i], i % 11, "passive", at)

                samples[label]["answers"].append(await _rate(answer, n))

                async def digest(_: int, db: Database = db) -> None:
                    async with db.read() as tx:
                        await gather_digest_data(tx, SETTINGS, DAY)

                samples[label]["digest"].append(await _rate(digest, 20))
    finally:
        for db in engines.values():
            await db.close()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{fast}" WITH (FORCE)')
    figures: dict[str, dict[str, float]] = {}
    for label, measures in samples.items():
        for measure, values in measures.items():
            figures.setdefault(measure, {})[f"{label} per s"] = statistics.median(
                v[0] for v in values
            )
            figures[measure][f"{label} cpu s per 1000"] = statistics.median(v[1] for v in values)
    for row in figures.values():
        row["ratio postgresql/sqlite"] = row["postgresql per s"] / row["sqlite per s"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operations", type=int, default=1000, help="per round and engine")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.operations, args.rounds))
    rows = [
        (f"{measure}: {key}", f"{value:.2f}" if value < 100 else f"{value:.0f}", "-")
        for measure, values in figures.items()
        for key, value in values.items()
    ]
    print_table("SQLite and PostgreSQL, side by side", rows)
    print(f"\nwritten to {write_result('engines', figures)}")


if __name__ == "__main__":
    main()
