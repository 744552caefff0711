"""Dispatch benchmark: queue N surveys, the stand-in enforcing L messages/s and 1/s per chat.

Reports the achieved send rate as a share of L (target >= 0.95), 429s received (target 0),
surveys delivered twice (must be 0) and not delivered (must be 0).

    python -m benchmarks.dispatch --surveys 10000 --limit 200
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import (
    QuestionArrivals,
    bot_env,
    print_table,
    stand_in,
    start_child,
    wait_until,
    write_result,
)
from bot.core.records import SurveyKind
from standin import Limits
from storage import Database, customers, surveys


async def prepare(db_path: Path | str, chat_ids: list[int]) -> None:
    """Linked customers and one queued survey each, written in bulk before the bot starts."""
    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    db = await Database.open(db_path)
    try:
        async with db.transaction() as tx:
            for chat_id in chat_ids:
                await customers.link_chat(tx, f"c{chat_id}", chat_id, "en", now)
                customer = await customers.get_by_chat(tx, chat_id)
                assert customer is not None
                await surveys.create(tx, customer.id, SurveyKind.TRANSACTIONAL, now)
    finally:
        await db.close()


async def run(n: int, limit: float) -> dict[str, Any]:
    """Run the benchmark once; return its figures."""
    limits = Limits(global_per_second=limit, per_chat_burst=4, per_chat_per_second=1.0)
    async with stand_in(limits=limits) as server:
        users = [server.add_user(first_name=f"U{i}") for i in range(n)]
        for user in users:
            user.mark_started()
        seen = QuestionArrivals()
        arrivals = seen.times
        server.on_bot_message(seen)
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            db_path = Path(tmp) / "bench.sqlite3"
            await prepare(db_path, [u.id for u in users])
            env = bot_env(server, db_path, {"NPSBOT_SEND_RATE": str(limit)})
            bot = start_child(["-m", "bot", "run"], env, Path(tmp) / "bot.log")
            try:
                try:
                    await wait_until(
                        lambda: len(arrivals) >= n,
                        timeout=n / limit * 3 + 60,
                        what="all surveys",
                        child=bot,
                    )
                except TimeoutError:
                    print(f"only {len(arrivals)} of {n} arrived; bot log:\n{bot.tail()}")
                    raise
                await asyncio.sleep(1.0)  # let any duplicate show up
                peak = bot.peak_rss_mb()
            finally:
                await bot.stop_async()
    achieved = seen.rate()
    return {
        "surveys": n,
        "limit_per_second": limit,
        "achieved_per_second": round(achieved, 2),
        "achieved_over_limit": round(achieved / limit, 3),
        "http_429": server.stats.rate_limited,
        "delivered_twice": seen.delivered_twice(),
        "not_delivered": seen.not_delivered(u.id for u in users),
        "bot_peak_rss_mb": peak,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--surveys", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=200.0, help="stand-in's messages/s (L)")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.surveys, args.limit))
    print_table(
        f"Dispatch: {args.surveys} surveys, L = {args.limit:g}/s",
        [
            ("achieved rate / L", f"{figures['achieved_over_limit']:.3f}", ">= 0.95"),
            ("achieved rate", f"{figures['achieved_per_second']:.1f}/s", ""),
            ("429s received", str(figures["http_429"]), "0"),
            ("delivered twice", str(figures["delivered_twice"]), "0"),
            ("not delivered", str(figures["not_delivered"]), "0"),
        ],
    )
    print(f"(written to {write_result('dispatch', figures)})")
    return figures


if __name__ == "__main__":
    main()
