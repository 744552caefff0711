"""The per-day rollups (storage/rollups.py) say exactly what the answers say.

A property test drives random answers (days, survey kinds, event types, attribute
snapshots, drivers), erasures and retention runs through the real storage functions in a
random time zone, then compares every report the rollups serve with the same report counted
from the answers, and the full recount (``differences``) with the stored rows.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.nps import categorize
from bot.core.records import SurveyKind
from bot.usecases.digests import day_boundaries
from bot.usecases.rollups import sync_zone
from storage import Database, answers, customers, privacy, reports, rollups, surveys
from storage.reports import AnswerFilter
from tests.support.cli import run_cli

T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
SPAN_MINUTES = 12 * 24 * 60  # answers over twelve days (a DST change in New York)
ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "Asia/Kathmandu")
EVENTS = (None, "delivery", "support")
VALUES = ("pro", "basic", "", None, 1, True, "(none)", {"nested": 1})

attributes = st.dictionaries(st.sampled_from(("plan", "region", "vip")), st.sampled_from(VALUES))
answer_op = st.tuples(
    st.just("answer"),
    st.integers(0, 3),  # customer
    st.sampled_from(list(SurveyKind)),
    st.sampled_from(EVENTS),
    attributes,
    st.integers(0, 10),
    st.integers(0, SPAN_MINUTES),
    st.one_of(st.none(), st.lists(st.sampled_from(("price", "speed", "staff")), max_size=3)),
    st.booleans(),  # Done pressed
)
erase_op = st.tuples(st.just("erase"), st.integers(0, 3))
retain_op = st.tuples(st.just("retain"), st.integers(0, SPAN_MINUTES))
operations = st.lists(st.one_of(answer_op, answer_op, answer_op, erase_op, retain_op), max_size=40)

FILTERS = (
    AnswerFilter(),
    AnswerFilter(event_type="delivery"),
    AnswerFilter(kind="relationship"),
    AnswerFilter(attribute=("plan", "pro")),
    AnswerFilter(attribute=("vip", "1")),
    AnswerFilter(attribute=("plan", "")),
    AnswerFilter(event_type="support", kind="transactional", attribute=("region", "basic")),
)


async def _apply(db: Database, ops: list[tuple[Any, ...]]) -> None:
    ids: dict[int, int] = {}
    async with db.transaction() as tx:
        for i in range(4):
            ids[i] = (await customers.upsert(tx, f"c{i}", T0)).id
    for op in ops:
        if op[0] == "answer":
            _, who, kind, event, attrs, score, minute, drivers, done = op
            now = T0 + timedelta(minutes=minute)
            async with db.transaction() as tx:
                survey = await surveys.create(
                    tx, ids[who], kind, now, event_type=event, attributes=attrs
                )
                await answers.record_score(tx, survey.id, score, categorize(score).value, now)
                if drivers is not None:
                    await answers.start_drivers(tx, survey.id)
                    await answers.set_drivers(tx, survey.id, drivers[:1], 7)
                    if done:
                        await answers.finish_drivers(tx, survey.id, drivers, 7, now)
                    else:
                        await answers.set_drivers(tx, survey.id, drivers, 7)
        elif op[0] == "erase":
            async with db.transaction() as tx:
                await privacy.erase_customer(tx, ids[op[1]], T0 + timedelta(days=20))
        else:
            await privacy.anonymise_older_than(db, T0 + timedelta(minutes=op[1]))


async def _compare(db: Database, tz: ZoneInfo) -> None:
    first, last = date(2024, 2, 29), date(2024, 3, 14)
    bounds = day_boundaries(first, last, tz)
    weekly = bounds[::7]
    async with db.read() as tx:
        for flt in FILTERS:
            for b in (bounds, weekly, [bounds[0], bounds[-1]]):
                assert await reports.histograms_by_day(
                    tx, b, flt
                ) == await reports.raw_histograms_by_day(tx, b, flt), flt
            for start, end in ((bounds[0], bounds[-1]), (bounds[3], bounds[4])):
                for group, attribute in (
                    ("kind", None),
                    ("event_type", None),
                    ("attribute", "plan"),
                    ("attribute", "vip"),
                ):
                    got = await reports.histograms_by_group(
                        tx, start, end, group, flt, attribute=attribute
                    )
                    raw = await reports.raw_histograms_by_group(
                        tx, start, end, group, flt, attribute=attribute
                    )
                    assert got == raw, (flt, group, attribute)
        for start, end in ((bounds[0], bounds[-1]), (bounds[5], bounds[6])):
            assert await reports.driver_counts(tx, start, end) == await reports.raw_driver_counts(
                tx, start, end
            )
    async with db.transaction() as tx:
        assert await rollups.differences(tx) == (0, [])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow  # property-based over hundreds of random histories: seconds, not ms
@given(zone=st.sampled_from(ZONES), ops=operations)
def test_rollup_figures_equal_the_answers_figures(
    zone: str, ops: list[tuple[Any, ...]], tmp_path: Path
) -> None:
    async def run() -> None:
        db = await Database.open(":memory:")
        try:
            await sync_zone(db, zone, T0)
            await _apply(db, ops)
            await _compare(db, ZoneInfo(zone))
        finally:
            await db.close()

    asyncio.run(run())


async def _seed(db: Database) -> None:
    ops: list[tuple[Any, ...]] = [
        ("answer", 0, SurveyKind.TRANSACTIONAL, "delivery", {"plan": "pro"}, 9, 60, None, False),
        (
            "answer",
            1,
            SurveyKind.TRANSACTIONAL,
            "delivery",
            {"plan": "basic"},
            3,
            1500,
            ["price"],
            True,
        ),
    ]
    await _apply(db, ops)


async def test_reports_read_the_rollups_for_whole_days_and_the_answers_otherwise(
    db: Database,
) -> None:
    await _seed(db)
    whole = [T0, T0 + timedelta(days=2)]
    async with db.transaction() as tx:
        assert await reports.histograms_by_day(tx, whole) == [(0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0)]
        # A rollup row altered behind the bot's back shows in the reports of whole days...
        await tx.conn.execute("UPDATE answer_rollups SET n = 5 WHERE attr_key = '' AND score = 9")
        assert (await reports.histograms_by_day(tx, whole))[0][9] == 5
        # ...not in those of other bounds (counted from the answers)...
        hours = [T0 + timedelta(hours=1), T0 + timedelta(days=2)]
        assert (await reports.histograms_by_day(tx, hours))[0][9] == 1
        # ...and the recount finds it; a rebuild puts it right.
        total, found = await rollups.differences(tx)
        assert total == 1 and (found[0].stored, found[0].actual) == (5, 1)
        await rollups.rebuild(tx, "UTC", T0)
        assert await rollups.differences(tx) == (0, [])
        assert (await reports.histograms_by_day(tx, whole))[0][9] == 1


async def test_a_new_zone_recounts_the_days_at_start_up(db: Database) -> None:
    await _seed(db)  # answers at 01:00 UTC on March 1 and 01:00 UTC on March 2
    assert await sync_zone(db, "America/New_York", T0) is True
    assert await sync_zone(db, "America/New_York", T0) is False
    async with db.read() as tx:
        rows = await rollups.daily_histograms(tx, date(2024, 2, 29), date(2024, 3, 3))
    # 01:00 UTC is the evening before in New York.
    assert sorted(rows) == [date(2024, 2, 29), date(2024, 3, 1)]


def test_cli_rebuild_check_fails_on_a_difference_and_rebuild_repairs_it(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def prepare() -> None:
        db = await Database.open(cli_env)
        try:
            await _seed(db)
            async with db.transaction() as tx:
                await tx.conn.execute("DELETE FROM driver_rollups")
        finally:
            await db.close()

    asyncio.run(prepare())
    assert run_cli("rollups", "rebuild", "--check") == 1
    captured = capsys.readouterr()
    assert "driver_rollups 2024-03-02/detractor/price: stored 0, answers say 1" in captured.err
    assert '"rows_differing": 1' in captured.out
    assert run_cli("rollups", "rebuild", "--check") == 1  # checking changed nothing
    assert run_cli("rollups", "rebuild") == 0
    assert run_cli("rollups", "rebuild", "--check") == 0
    assert '"rows_differing": 0' in capsys.readouterr().out.splitlines()[-1]


async def test_driver_counts_follow_the_report_filter(db: Database) -> None:
    await _seed(db)
    start, end = T0, T0 + timedelta(days=2)
    async with db.read() as tx:
        assert await reports.driver_counts(tx, start, end) == {"detractor": [("price", 1)]}
        delivery = AnswerFilter(event_type="delivery", attribute=("plan", "basic"))
        assert await reports.driver_counts(tx, start, end, delivery) == {
            "detractor": [("price", 1)]
        }
        assert await reports.driver_counts(tx, start, end, AnswerFilter(kind="episode")) == {}
