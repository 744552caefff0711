"""Reports benchmark: a year of answers (1,000,000 by default); digest, /nps and chart times.

Generates the database (a seeded generator writing the bot's own schema in bulk, then the
per-day rollups counted by ``storage.rollups.rebuild``, timed), then:

- in this process, times the text part of the daily digest (aggregation + composition) and
  of ``/nps 30d`` and ``/nps 365d`` as the bot runs them, reading the rollups (target
  < 0.1 s each), and the same counted from the answers (the raw queries, for comparison),
  and the chart, each the median of several runs;
- reports the database size per answer;
- runs the real bot process on that database against the stand-in, has an admin ask for
  ``/digest`` and ``/nps 30d``, and reports the bot's peak memory (target < 200 MB).

    python -m benchmarks.reports --answers 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from benchmarks.common import bot_env, print_table, stand_in, start_child, wait_until, write_result
from bot.core.records import to_db_time
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
    """Write ``answers`` answered surveys over the last 365 days (plus some unanswered).

    Benchmark data only: bulk SQL against the bot's schema (created by the bot's own
    migrations), so the figures describe the real tables and indexes.
    """
    rng = random.Random(seed)
    started = time.perf_counter()
    db = await Database.open(db_path)
    now = datetime.now(UTC)
    customers = max(1, answers // 20)
    try:
        async with db.transaction() as tx:
            conn = tx.conn
            stamp = to_db_time(now)
            await conn.executemany(
                "INSERT INTO customers (id, external_id, chat_id, attributes, linked_at, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        i,
                        f"cust-{i}",
                        10_000_000 + i,
                        json.dumps({"plan": rng.choice(PLANS), "region": rng.choice(REGIONS)}),
                        stamp,
                        stamp,
                        stamp,
                    )
                    for i in range(1, customers + 1)
                ),
            )
            total_surveys = int(answers * 1.25)  # 80% response rate

            def surveys() -> Any:
                for sid in range(1, total_surveys + 1):
                    sent = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
                    answered = sid <= answers
                    status = "answered" if answered else rng.choice(("sent", "expired", "failed"))
                    yield (
                        sid,
                        rng.randint(1, customers),
                        "transactional",
                        rng.choice(EVENTS),
                        f"ev-{sid}",
                        status,
                        json.dumps({"plan": rng.choice(PLANS), "region": rng.choice(REGIONS)}),
                        to_db_time(sent),
                        to_db_time(sent),
                        to_db_time(sent),
                        to_db_time(sent + timedelta(minutes=5)) if answered else None,
                        to_db_time(sent + timedelta(days=3)) if status == "expired" else None,
                    )

            await conn.executemany(
                "INSERT INTO surveys (id, customer_id, kind, event_type, event_id, status, "
                "attributes, send_at, created_at, sent_at, answered_at, closed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                surveys(),
            )
            weights = [2, 1, 1, 2, 2, 3, 4, 8, 10, 12, 14]  # skewed positive, like real NPS

            def rows() -> Any:
                async_free = rng  # one generator, deterministic order
                for sid in range(1, answers + 1):
                    score = async_free.choices(range(11), weights)[0]
                    category = _category(score)
                    reason = async_free.choice(REASONS[category]) if sid % 5 < 2 else None
                    scored = now - timedelta(seconds=async_free.uniform(0, 365 * 86400))
                    yield (
                        sid,
                        score,
                        category,
                        reason,
                        to_db_time(scored),
                        to_db_time(scored) if reason else None,
                        to_db_time(scored),
                    )

            await conn.executemany(
                "INSERT INTO answers (survey_id, score, category, reason, scored_at, reason_at, "
                "completed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows(),
            )
        async with db.transaction() as tx:
            await tx.conn.execute("ANALYZE")
    finally:
        await db.close()
    return time.perf_counter() - started


async def build_rollups(db_path: Path) -> float:
    """Count the rollups from the generated answers (what ``npsbot rollups rebuild`` does)."""
    started = time.perf_counter()
    db = await Database.open(db_path, migrate=False)
    try:
        async with db.transaction() as tx:
            await rollups.rebuild(tx, "UTC", datetime.now(UTC))
            await tx.conn.execute("ANALYZE")
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


async def time_in_process(db_path: Path, runs: int) -> dict[str, float]:
    """Median seconds for the digest text, /nps 30d and 365d texts (from the rollups, then
    counted from the answers) and the chart."""
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

    try:
        for _ in range(runs):
            for mode in ("", "raw_"):
                with raw_queries() if mode else contextlib.nullcontext():
                    data = await timed(f"{mode}digest_text_s", digest)
                    for period in ("30d", "365d"):
                        await timed(
                            f"{mode}nps_{period}_text_s",
                            lambda tx, p=period: _nps_work(svc, tx, [p], datetime.now(UTC)),
                        )
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


async def run(answers: int, runs: int, keep: Path | None, with_bot: bool = True) -> dict[str, Any]:
    """Generate, time, measure."""
    with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
        db_path = keep or Path(tmp) / "reports.sqlite3"
        generated_s = rollups_s = 0.0
        if not db_path.exists():
            generated_s = await generate(db_path, answers)
            rollups_s = await build_rollups(db_path)
        size = await asyncio.to_thread(_db_size, db_path)
        timings = await time_in_process(db_path, runs)
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
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep this database file")
    parser.add_argument(
        "--no-bot", action="store_true", help="skip the bot process (peak memory) part"
    )
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.answers, args.runs, args.keep, not args.no_bot))
    print_table(
        f"Reports: {args.answers:,} answers over a year",
        [
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
