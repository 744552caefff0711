"""The reports' figures do not depend on the engine: the same answers stored in SQLite and in
PostgreSQL give the same rollup rows, the same digest, the same /nps figures (from the
rollups and from the answers, filtered by attribute values of every JSON kind) and the
same export."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.nps import categorize
from bot.core.periods import Period
from bot.core.records import SurveyKind
from bot.reports.digest import compose_digest
from bot.settings import Settings
from bot.usecases.digests import gather_digest_data, gather_nps_report
from storage import Database, answers, customers, reports, rollups, surveys
from storage.reports import AnswerFilter
from tests.support.postgres import PostgresServer, url_for

TZ = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 22)
SETTINGS = Settings.from_env(
    {
        "NPSBOT_TOKEN": "123456:" + "A" * 30,
        "NPSBOT_LINK_SECRET": "s" * 32,
        "NPSBOT_COMPANY_NAME": "Acme",
        "NPSBOT_TIMEZONE": "Europe/Berlin",
        "NPSBOT_DIGEST_ATTRIBUTE": "ratio",
    }
)
#: Attribute values of every JSON kind, the ones whose text differs between a naive
#: rendering and SQLite's (floats, exponents, booleans) and non-ASCII text.
VALUES: dict[str, list[Any]] = {
    "plan": ["pro", "basic", "高级", "Ünïcode plan"],
    "seats": [1, 3, 250, -7],
    "ratio": [0.1 + 0.2, 2.0, 1e-05, 123.456, 1e15, 0.5],
    "vip": [True, False],
    "region": [None, "eu"],
    "dotted.key": ["x", "y"],
}
DRIVERS = ["price", "speed", "staff", "价格"]
FILTERS = [
    AnswerFilter(),
    AnswerFilter(attribute=("plan", "高级")),
    AnswerFilter(attribute=("ratio", "0.3")),
    AnswerFilter(attribute=("ratio", "1.0e-05")),
    AnswerFilter(attribute=("ratio", "1.0e+15")),
    AnswerFilter(attribute=("vip", "1")),
    AnswerFilter(attribute=("seats", "250")),
    AnswerFilter(attribute=("dotted.key", "x")),
    AnswerFilter(event_type="delivery", kind="transactional"),
    AnswerFilter(event_type=""),
]


def when(day_offset: int, minute: int) -> datetime:
    local = datetime(DAY.year, DAY.month, DAY.day, tzinfo=TZ) + timedelta(days=day_offset)
    return (local + timedelta(minutes=minute)).astimezone(UTC)


async def store_answers(db: Database) -> None:
    """About 240 answers over 40 local days, the same on every call."""
    rng = random.Random(13)
    cutoffs = SETTINGS.admin.cutoffs
    async with db.transaction() as tx:
        for i in range(240):
            at = when(-rng.randrange(40), rng.randrange(24 * 60))
            attrs = {k: rng.choice(v) for k, v in VALUES.items() if rng.random() < 0.8}
            customer = await customers.upsert(tx, f"c{i}", at, attrs)
            survey = await surveys.create(
                tx,
                customer.id,
                rng.choice(list(SurveyKind)),
                at,
                event_type=rng.choice(["delivery", "support", None]),
                attributes=attrs,
            )
            await surveys.mark_sent(tx, survey.id, 9000 + i, 1, at)
            await surveys.mark_answered(tx, survey.id, at)
            score = rng.randrange(11)
            category = categorize(score, cutoffs).value
            await answers.record_score(tx, survey.id, score, category, at)
            if rng.random() < 0.5:
                await answers.start_drivers(tx, survey.id)
                picked = rng.sample(DRIVERS, rng.randrange(3))
                await answers.finish_drivers(tx, survey.id, picked, 5, at)
            if rng.random() < 0.6:
                await answers.record_reason(tx, survey.id, f"reason {i} ✓", 7, at)


@dataclass
class Figures:
    """Everything the comparison reads from one engine."""

    answer_rollups: list[tuple[Any, ...]]
    driver_rollups: list[tuple[Any, ...]]
    digest_text: str
    digest: Any
    nps: list[Any]
    raw_groups: list[Any]
    export: list[Any]


async def figures(db: Database) -> Figures:
    await store_answers(db)
    async with db.transaction() as tx:  # count the rollups by Berlin days, as configured
        assert await rollups.ensure_zone(tx, "Europe/Berlin", when(0, 0))
    month = Period(DAY - timedelta(days=29), DAY)
    before = Period(DAY - timedelta(days=59), DAY - timedelta(days=30))
    start, end = month.utc_bounds(TZ)
    async with db.read() as tx:
        digest = await gather_digest_data(tx, SETTINGS, DAY)
        nps = [await gather_nps_report(tx, SETTINGS, None, month, before, f) for f in FILTERS]
        raw_groups = [
            await reports.raw_histograms_by_group(tx, start, end, "attribute", f, attribute=a)
            for f in FILTERS[:3]
            for a in VALUES
        ]
        raw_groups += [await reports.raw_driver_counts(tx, start, end, f) for f in FILTERS]
        return Figures(
            answer_rollups=sorted(
                tuple(r) for r in await tx.fetchall("SELECT * FROM answer_rollups")
            ),
            driver_rollups=sorted(
                tuple(r) for r in await tx.fetchall("SELECT * FROM driver_rollups")
            ),
            digest_text=compose_digest(digest).text,
            digest=digest,
            nps=nps,
            raw_groups=raw_groups,
            export=await reports.export_records(tx, start, end, AnswerFilter(), 10_000),
        )


@pytest.fixture
async def engines(
    tmp_path: Path, postgres: PostgresServer
) -> AsyncIterator[tuple[Database, Database]]:
    name = postgres.create()
    lite = await Database.open(tmp_path / "same.sqlite3")
    pg = await Database.open(url_for(name))
    try:
        yield lite, pg
    finally:
        await lite.close()
        await pg.close()
        postgres.drop(name)


async def test_reports_give_identical_figures_on_sqlite_and_postgresql(
    engines: tuple[Database, Database],
) -> None:
    lite, pg = engines
    on_sqlite, on_postgresql = await figures(lite), await figures(pg)
    for db in engines:  # each engine's rollups agree with its own answers
        async with db.transaction() as tx:
            assert await rollups.differences(tx) == (0, [])
    assert on_sqlite.answer_rollups == on_postgresql.answer_rollups
    assert on_sqlite.driver_rollups == on_postgresql.driver_rollups
    assert on_sqlite.digest_text == on_postgresql.digest_text
    assert on_sqlite.digest == on_postgresql.digest
    assert on_sqlite.nps == on_postgresql.nps
    assert on_sqlite.raw_groups == on_postgresql.raw_groups
    assert on_sqlite.export == on_postgresql.export
    # The data exercise what they are meant to: attribute values of every kind counted.
    values = {(r[0], r[2]) for r in on_sqlite.answer_rollups}
    for expected in [
        ("ratio", "0.3"),
        ("ratio", "1.0e-05"),
        ("ratio", "1.0e+15"),
        ("ratio", "2.0"),
        ("vip", "1"),
        ("vip", "0"),
        ("seats", "-7"),
        ("plan", "高级"),
        ("dotted.key", "x"),
    ]:
        assert expected in values, expected
    assert ("region", "None") not in values and not any(v is None for _, v in values)
    assert all(f.current.n for f in on_sqlite.nps[1:8]), "each attribute filter selects answers"
