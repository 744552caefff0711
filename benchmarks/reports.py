"""Reports benchmark: a year of answers (1,000,000 by default); digest, /nps and chart times.

Generates the database (a seeded generator writing the bot's own schema in bulk, then the
per-day rollups counted by ``storage.rollups.rebuild``, timed), then:

- in this process, times the text part of the daily digest (aggregation + composition) and
  of ``/nps 30d`` and ``/nps 365d`` as the bot runs them, reading the rollups (target
  < 0.1 s each) and the chart, each the median of ``--runs`` runs, and the same reports
  counted from the answers (the raw queries, for comparison; ``--raw-runs``, default once:
  they take minutes at 10,000,000 answers);
- reports the database size per answer;
- runs the real bot process on that database against the stand-in, has an admin ask for
  ``/digest`` and ``/nps 30d``, and reports the bot's peak memory (target < 200 MB).

    python -m benchmarks.reports --answers 10000000 --no-bot   # about 15 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from benchmarks.common import bot_env, print_table, stand_in, start_child, wait_until, write_result
from bot.settings import Settings
from storage import Database, rollups

PLANS = ("basic", "pro", "enterprise")
REGIONS = ("north", "south", "east", "west")
EVENTS = ("delivery", "support_ticket", "purchase")
REASONS = {
    "promoter": ["Fast and friendly", "Always on time", "Great support team"],
    "passive": ["Fine, a bit pricey", "OK but tracking is vague"],
    "detractor": ["Parcel arrived damaged", "Nobody answered my ticket", "Two days late"],
}
ADMIN_CHAT = 900_000_001


def _category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


async def generate(db_path: Path, answers: int, seed: int = 1) -> float:
    """Write ``answers`` answered surveys over the last 365 days (plus 25 % unanswered).

    Benchmark data only: the bot's own migrations create the schema, then one bulk
    ``INSERT ... SELECT`` per table and chunk, computed inside SQLite from a counter and a
    seeded integer hash (deterministic, no Python objects per row), with the bulk-load
    pragmas (no journal, no syncs, a large cache) and the secondary indexes dropped during
    the load and created again after it, so the figures describe the real tables and indexes.
    """
    started = time.perf_counter()
    db = await Database.open(db_path)  # the schema, by the bot's migrations
    await db.close()
    await asyncio.to_thread(_bulk_load, db_path, answers, seed)
    return time.perf_counter() - started


_MASK32 = 4294967296
_CHUNK_ROWS = 1_000_000
_YEAR_S = 365 * 86400


def _xorshift(value: str, shift: int) -> str:
    """``value ^ (value >> shift)`` in SQLite (which has no XOR operator)."""
    return f"(({value} | ({value} >> {shift})) - ({value} & ({value} >> {shift})))"


def _hash_sql(counter: str, salt: int) -> str:
    """A 32-bit integer hash of ``counter`` (an integer column) and ``salt``, in SQL; every
    intermediate product stays below 2**63, so SQLite never turns it into a float."""
    a = f"((({counter} + {salt * 7919}) * 2654435761) % {_MASK32})"
    b = f"(({_xorshift(a, 16)} * 73244475) % {_MASK32})"
    return _xorshift(b, 16)


def _pick(expr: str, values: tuple[str, ...]) -> str:
    """SQL choosing one of ``values`` by ``expr % len(values)``."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _db_time_sql(micros: str) -> str:
    """``to_db_time`` of a Unix time in microseconds, in SQL."""
    return (
        f"(strftime('%Y-%m-%dT%H:%M:%S', ({micros}) / 1000000, 'unixepoch') "
        f"|| printf('.%06dZ', ({micros}) % 1000000))"
    )


def attributes(plan: str, region: str) -> str:
    """The survey's or customer's attribute snapshot, as JSON, in SQL."""
    return f"json_object('plan', {plan}, 'region', {region})"


def _score_sql(r: str) -> str:
    weights = [2, 1, 1, 2, 2, 3, 4, 8, 10, 12, 14]  # skewed positive, like real NPS
    whens, bound = [], 0
    for score, weight in enumerate(weights):
        bound += weight
        whens.append(f"WHEN ({r}) % {sum(weights)} < {bound} THEN {score}")
    return "(CASE " + " ".join(whens) + " END)"


def _bulk_load(db_path: Path, answers: int, seed: int) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -1000000",  # 1 GB
            "temp_store = MEMORY",
            "locking_mode = EXCLUSIVE",
            "foreign_keys = OFF",
            "secure_delete = OFF",
        ):
            conn.execute(f"PRAGMA {pragma}")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('customers', 'surveys', 'answers')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        now_us = int(datetime.now(UTC).timestamp()) * 1_000_000
        customers = max(1, answers // 20)
        total_surveys = int(answers * 1.25)  # 80 % response rate
        stamp = _db_time_sql(str(now_us))

        def chunks(total: int) -> Iterator[tuple[int, int]]:
            for first in range(1, total + 1, _CHUNK_ROWS):
                yield first, min(total, first + _CHUNK_ROWS - 1)

        # The hashes in MATERIALIZED steps: otherwise SQLite inlines them at every use.
        hashed = (
            "WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?), "
            f"h AS MATERIALIZED (SELECT x, {_hash_sql('x', seed)} AS r1, "
            f"{_hash_sql('x', seed + 1)} AS r2 FROM c) "
        )
        for first, last in chunks(customers):
            plan, region = _pick("r1", PLANS), _pick("r2", REGIONS)
            conn.execute("BEGIN")
            conn.execute(
                hashed + "INSERT INTO customers (id, external_id, chat_id, attributes, "
                "linked_at, created_at, updated_at) "
                f"SELECT x, 'cust-' || x, 10000000 + x, {attributes(plan, region)}, "
                f"{stamp}, {stamp}, {stamp} FROM h",
                (first, last),
            )
            conn.execute("COMMIT")

        def instant(later_s: int) -> str:
            """A survey's sending time (within the last year) plus ``later_s`` seconds."""
            return _db_time_sql(
                f"{now_us} - (r2 % {_YEAR_S} - {later_s}) * 1000000 - (r1 % 1000000)"
            )

        unanswered = _pick("r1 / 5", ("sent", "expired", "failed"))
        for first, last in chunks(total_surveys):
            plan, region = _pick("r2 / 3", PLANS), _pick("r2 / 11", REGIONS)
            conn.execute("BEGIN")
            conn.execute(
                hashed + ", t AS MATERIALIZED (SELECT x, r1, r2, "
                f"{instant(0)} AS sent, {instant(300)} AS answered, "
                f"{instant(3 * 86400)} AS expired, "
                f"CASE WHEN x <= ? THEN 'answered' ELSE {unanswered} END AS status FROM h) "
                "INSERT INTO surveys (id, customer_id, kind, event_type, event_id, status, "
                "attributes, send_at, created_at, sent_at, answered_at, closed_at) "
                f"SELECT x, 1 + r1 % ?, 'transactional', {_pick('r1 / 7', EVENTS)}, "
                f"'ev-' || x, status, {attributes(plan, region)}, sent, sent, sent, "
                "CASE WHEN status = 'answered' THEN answered END, "
                "CASE WHEN status = 'expired' THEN expired END FROM t",
                (first, last, answers, customers),
            )
            conn.execute("COMMIT")
        reasons = " ".join(
            f"WHEN '{category}' THEN {_pick('r / 64', tuple(texts))}"
            for category, texts in REASONS.items()
        )
        for first, last in chunks(answers):
            conn.execute("BEGIN")
            conn.execute(
                f"WITH h AS MATERIALIZED (SELECT s.id, s.answered_at, {_hash_sql('s.id', seed + 2)}"
                " AS r FROM surveys s WHERE s.id BETWEEN ? AND ?), "
                f"g AS MATERIALIZED (SELECT id, answered_at, r, {_score_sql('r')} AS score "
                "FROM h), "
                "k AS MATERIALIZED (SELECT id, answered_at AS scored, r, score, "
                "CASE WHEN score >= 9 THEN 'promoter' WHEN score >= 7 THEN 'passive' "
                "ELSE 'detractor' END AS category FROM g) "
                "INSERT INTO answers (survey_id, score, category, reason, scored_at, reason_at, "
                "completed_at) "
                "SELECT id, score, category, reason, scored, "
                "CASE WHEN reason IS NOT NULL THEN scored END, scored FROM ("
                f"SELECT *, CASE WHEN id % 5 < 2 THEN (CASE category {reasons} END) END "
                "AS reason FROM k)",
                (first, last),
            )
            conn.execute("COMMIT")
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA locking_mode = NORMAL")
        conn.execute("PRAGMA journal_mode = WAL")  # as the bot runs it
    finally:
        conn.close()


async def build_rollups(db_path: Path) -> float:
    """Count the rollups from the generated answers (what ``npsbot rollups rebuild`` does)."""
    started = time.perf_counter()
    db = await Database.open(db_path, migrate=False)
    try:
        async with db.transaction() as tx:
            await rollups.rebuild(tx, "UTC", datetime.now(UTC))
            await tx.execute("ANALYZE")
    finally:
        await db.close()
    return time.perf_counter() - started


@contextlib.contextmanager
def raw_queries() -> Iterator[None]:
    """Reports count from the answers, as before the rollups (for the comparison only)."""
    original = rollups.whole_days
    rollups.whole_days = lambda bounds, tz: None
    try:
        yield
    finally:
        rollups.whole_days = original


def _settings(db_path: Path) -> Any:
    return Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456789:BENCH-token-for-the-local-stand-in-only",
            "NPSBOT_LINK_SECRET": "bench-link-secret-0123456789abcdef0123456789",
            "NPSBOT_COMPANY_NAME": "Bench Co",
            "NPSBOT_DATABASE": str(db_path),
            "NPSBOT_DIGEST_ATTRIBUTE": "plan",
        }
    )


async def time_in_process(db_path: Path, runs: int, raw_runs: int = 1) -> dict[str, float]:
    """Median seconds for the digest text, /nps 30d and 365d texts (from the rollups over
    ``runs`` runs, and counted from the answers over ``raw_runs``) and the chart."""
    from bot.adapters.telegram.handlers.admin import _nps_work
    from bot.reports.chart import render_chart
    from bot.reports.digest import chart_labels, compose_digest
    from bot.usecases.digests import gather_digest_data

    settings = _settings(db_path)
    day = datetime.now(settings.timezone).date() - timedelta(days=1)
    labels = chart_labels(settings.company_name, day)
    db = await Database.open(db_path, migrate=False)
    svc = cast(Any, SimpleNamespace(settings=settings, catalog=None))
    times: dict[str, list[float]] = {}

    async def timed(name: str, work: Any) -> Any:
        start = time.perf_counter()
        async with db.read() as tx:
            result = await work(tx)
        times.setdefault(name, []).append(time.perf_counter() - start)
        return result

    async def digest(tx: Any) -> Any:
        data = await gather_digest_data(tx, settings, day)
        compose_digest(data)
        return data

    async def reports(mode: str) -> Any:
        data = await timed(f"{mode}digest_text_s", digest)
        for period in ("30d", "365d"):
            await timed(
                f"{mode}nps_{period}_text_s",
                lambda tx, p=period: _nps_work(svc, tx, [p], datetime.now(UTC)),
            )
        return data

    try:
        # The raw queries grow with the answers (minutes at 10,000,000): fewer runs.
        with raw_queries():
            for _ in range(raw_runs):
                await reports("raw_")
        for _ in range(runs):
            data = await reports("")
            start = time.perf_counter()
            render_chart(data.trend, data.histogram, labels, settings.admin.cutoffs)
            times.setdefault("chart", []).append(time.perf_counter() - start)
    finally:
        await db.close()
    chart = times.pop("chart")
    figures = {name: round(statistics.median(values), 4) for name, values in times.items()}
    figures["chart_s"] = round(statistics.median(chart[1:] or chart), 4)
    figures["chart_first_s"] = round(chart[0], 4)
    return figures


async def bot_peak_memory(db_path: Path) -> dict[str, Any]:
    """The real bot answering /digest and /nps 30d from an admin on the big database."""
    async with stand_in() as server:
        admin = server.add_user(first_name="Admin", user_id=ADMIN_CHAT)
        admin.mark_started()
        env = bot_env(
            server,
            db_path,
            {
                "NPSBOT_ADMIN_CHAT_IDS": str(ADMIN_CHAT),
                "NPSBOT_DIGEST_TIME": "off",
                "NPSBOT_RELATIONSHIP_CYCLE_DAYS": "off",
                "NPSBOT_DIGEST_ATTRIBUTE": "plan",
            },
        )
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            bot = start_child(["-m", "bot", "run"], env, Path(tmp) / "bot.log")
            try:
                await wait_until(
                    lambda: server.stats.calls.get("getUpdates", 0) > 0, 120, "polling", bot
                )
                started = time.perf_counter()
                await admin.send_text("/digest")
                await wait_until(
                    lambda: any(m.kind == "photo" for m in admin.messages), 120, "digest", bot
                )
                digest_s = time.perf_counter() - started
                count = len(admin.messages)
                await admin.send_text("/nps 30d")
                await wait_until(lambda: len(admin.messages) > count + 1, 60, "/nps", bot)
                await asyncio.sleep(1.0)
                peak = bot.peak_rss_mb()
            except Exception:
                print(bot.tail())
                raise
            finally:
                await bot.stop_async()
    return {"bot_peak_rss_mb": round(peak or 0.0, 1), "bot_digest_roundtrip_s": round(digest_s, 2)}


def _db_size(path: Path) -> int:
    """Bytes on disk: the database file and its write-ahead log."""
    wal = Path(str(path) + "-wal")
    return os.path.getsize(path) + (os.path.getsize(wal) if wal.exists() else 0)


async def run(
    answers: int, runs: int, keep: Path | None, with_bot: bool = True, raw_runs: int = 1
) -> dict[str, Any]:
    """Generate, time, measure."""
    with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
        db_path = keep or Path(tmp) / "reports.sqlite3"
        generated_s = rollups_s = 0.0
        if not db_path.exists():
            generated_s = await generate(db_path, answers)
            rollups_s = await build_rollups(db_path)
        size = await asyncio.to_thread(_db_size, db_path)
        timings = await time_in_process(db_path, runs, raw_runs)
        memory = await bot_peak_memory(db_path) if with_bot else {}
    return {
        "answers": answers,
        "generate_s": round(generated_s, 1),
        "rollups_rebuild_s": round(rollups_s, 1),
        "db_bytes_per_answer": round(size / answers, 1),
        **timings,
        **memory,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--raw-runs", type=int, default=1, help="runs of the raw queries (slow on big data)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep this database file")
    parser.add_argument(
        "--no-bot", action="store_true", help="skip the bot process (peak memory) part"
    )
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.answers, args.runs, args.keep, not args.no_bot, args.raw_runs))
    print_table(
        f"Reports: {args.answers:,} answers over a year",
        [
            ("generation", f"{figures['generate_s']:.1f} s", ""),
            ("rollups rebuild", f"{figures['rollups_rebuild_s']:.1f} s", ""),
            ("digest text (aggregate + compose)", f"{figures['digest_text_s']:.3f} s", "< 0.1 s"),
            ("/nps 30d text", f"{figures['nps_30d_text_s']:.3f} s", "< 0.1 s"),
            ("/nps 365d text", f"{figures['nps_365d_text_s']:.3f} s", "< 0.1 s"),
            ("digest text, raw queries", f"{figures['raw_digest_text_s']:.3f} s", ""),
            ("/nps 30d text, raw queries", f"{figures['raw_nps_30d_text_s']:.3f} s", ""),
            ("/nps 365d text, raw queries", f"{figures['raw_nps_365d_text_s']:.3f} s", ""),
            ("chart", f"{figures['chart_s']:.3f} s", ""),
            ("database size per answer", f"{figures['db_bytes_per_answer']:.0f} B", ""),
            *(
                [
                    (
                        "bot peak memory (/digest, /nps)",
                        f"{figures['bot_peak_rss_mb']:.0f} MB",
                        "< 200 MB",
                    )
                ]
                if "bot_peak_rss_mb" in figures
                else []
            ),
        ],
    )
    print(f"(written to {write_result('reports', figures)})")
    return figures


if __name__ == "__main__":
    main()
