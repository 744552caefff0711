"""Scaling benchmark: dispatch N surveys at L = 1,000/s (Telegram's paid broadcast) with 1, 2
and 4 bot processes on one PostgreSQL database, and 1 process on SQLite as the reference,
in one run.

Every configuration gets a fresh stand-in enforcing L messages/s (1/s per chat), a fresh
database (PostgreSQL: created on the server and dropped afterwards) and its processes in
webhook mode, the mode in which several processes share the work (``--mode polling``: only
the leader polls and sends, a standby is idle and takes no share of the rate). The
customers are linked before the processes start; the surveys are queued in one transaction
once every process runs and the leader paces at its share, so the figures are the steady
state. No update
reaches the bot here (the customers do not answer), so no proxy stands in front of the
processes: each registers the leader's port as its webhook URL.

Per configuration: the achieved rate / L (first to last question), 429s, surveys delivered
twice or not at all, the bot processes' CPU seconds over the dispatch (utime + stime from
/proc/<pid>/stat, summed) and the machine's load over the same window (busy share of all
cores from /proc/stat, the 1-minute load average at its end).

    python -m benchmarks.scaling --surveys 10000 --limit 1000 [--mode polling] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import (
    QuestionArrivals,
    bot_env,
    cpu_seconds,
    print_table,
    stand_in,
    wait_until,
    write_result,
)
from bot.core.records import SurveyKind
from standin import Limits
from standin.botprocess import BotProcess
from storage import Database, customers, surveys

SERVER = os.environ.get("NPSBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
HOOK_SECRET = "bench-webhook-secret"
#: (engine, processes), run in this order.
CONFIGURATIONS: tuple[tuple[str, int], ...] = (
    ("sqlite", 1),
    ("postgresql", 1),
    ("postgresql", 2),
    ("postgresql", 4),
)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def load_average() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def _url(database: str) -> str:
    return SERVER.rsplit("/", 1)[0] + "/" + database


@asynccontextmanager
async def fresh_database(engine: str, scratch: Path, tag: str) -> AsyncIterator[str]:
    """A new, empty database's location; a PostgreSQL one is dropped afterwards."""
    if engine == "sqlite":
        yield str(scratch / f"{tag}.sqlite3")
        return
    name = f"npsbot_bench_scaling_{os.getpid()}_{tag}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url(name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def link_customers(location: str, chat_ids: Sequence[int]) -> list[int]:
    """Linked customers (migrating the database first); their ids."""
    now = datetime.now(UTC)
    db = await Database.open(location)
    ids: list[int] = []
    try:
        async with db.transaction() as tx:
            for chat_id in chat_ids:
                await customers.link_chat(tx, f"c{chat_id}", chat_id, "en", now)
                customer = await customers.get_by_chat(tx, chat_id)
                assert customer is not None
                ids.append(customer.id)
    finally:
        await db.close()
    return ids


async def queue_surveys(location: str, customer_ids: Sequence[int]) -> None:
    """One due survey per customer, in one transaction."""
    now = datetime.now(UTC)
    db = await Database.open(location, migrate=False)
    try:
        async with db.transaction() as tx:
            for customer_id in customer_ids:
                await surveys.create(tx, customer_id, SurveyKind.TRANSACTIONAL, now)
    finally:
        await db.close()


async def logged(bot: BotProcess, text: str, timeout: float = 60) -> None:
    """Wait until ``bot`` logged ``text``."""
    await wait_until(lambda: text in bot.log(), timeout, f"{text!r} in the log", child=bot)


async def run_one(
    engine: str, processes: int, n: int, limit: float, mode: str, scratch: Path
) -> dict[str, Any]:
    """One configuration; its figures."""
    tag = f"{engine}{processes}"
    ports = [free_port() for _ in range(processes)]
    receiving = (
        {
            "NPSBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}/telegram",
            "NPSBOT_TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
        }
        if mode == "webhook"
        else {}
    )
    limits = Limits(global_per_second=limit, per_chat_burst=4, per_chat_per_second=1.0)
    async with stand_in(limits=limits) as server, fresh_database(engine, scratch, tag) as location:
        users = [server.add_user(first_name=f"U{i}") for i in range(n)]
        for user in users:
            user.mark_started()
        seen = QuestionArrivals()
        arrivals = seen.times
        server.on_bot_message(seen)
        customer_ids = await link_customers(location, [u.id for u in users])
        bots = [
            BotProcess(
                bot_env(
                    server,
                    scratch / "unused.sqlite3",
                    {
                        "NPSBOT_DATABASE": location,
                        "NPSBOT_SEND_RATE": str(limit),
                        "NPSBOT_LOG_LEVEL": "INFO",  # to see who leads; nothing per send
                        "NPSBOT_TELEGRAM_WEBHOOK_PORT": str(port),
                        **receiving,
                    },
                ),
                scratch / f"{tag}-bot{i}.log",
            )
            for i, port in enumerate(ports)
        ]
        try:
            bots[0].start()  # the first to start leads
            await logged(bots[0], "this process leads")
            for bot in bots[1:]:
                bot.start()
            for bot in bots[1:]:
                await logged(bot, "standing by")
            if processes > 1 and mode == "webhook":
                # Each process counts the senders every SHARE_SECONDS: the leader's share
                # is settled once it logs the new count.
                await logged(bots[0], f"{processes} process(es) send", 15)
            cpu_before = [cpu_seconds(b.proc.pid) for b in bots if b.proc is not None]
            busy_before, total_before = machine_jiffies()
            self_before = sum(os.times()[:2])
            await queue_surveys(location, customer_ids)
            try:
                await wait_until(
                    lambda: len(arrivals) >= n,
                    # Generous: on a busy machine a slow run is a figure, not a failure.
                    timeout=n / limit * 10 + 120,
                    what="all surveys",
                    child=bots[0],
                )
            except TimeoutError:
                print(f"only {len(arrivals)} of {n} arrived; leader's log:\n{bots[0].tail()}")
                raise
            await asyncio.sleep(1.0)  # let any duplicate show up
            cpu_after = [cpu_seconds(b.proc.pid) for b in bots if b.proc is not None]
            busy_after, total_after = machine_jiffies()
            self_cpu = sum(os.times()[:2]) - self_before
            load = load_average()
            peak = max((b.peak_rss_mb() or 0.0) for b in bots)
        finally:
            await asyncio.gather(*(b.stop_async() for b in bots))
    achieved = seen.rate()
    per_process = [round(a - b, 2) for a, b in zip(cpu_after, cpu_before, strict=True)]
    return {
        "engine": engine,
        "processes": processes,
        "mode": mode,
        "surveys": n,
        "limit_per_second": limit,
        "achieved_per_second": round(achieved, 1),
        "achieved_over_limit": round(achieved / limit, 3),
        "http_429": server.stats.rate_limited,
        "delivered_twice": seen.delivered_twice(),
        "not_delivered": seen.not_delivered(u.id for u in users),
        "bot_cpu_seconds": round(sum(per_process), 2),
        "bot_cpu_seconds_per_process": per_process,
        "bench_process_cpu_seconds": round(self_cpu, 2),
        "machine_busy_share": round(
            (busy_after - busy_before) / max(total_after - total_before, 1), 3
        ),
        "load_average_1m": load,
        "bot_peak_rss_mb": peak,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--surveys", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=1000.0, help="stand-in's messages/s (L)")
    parser.add_argument(
        "--mode",
        choices=("webhook", "polling"),
        default="webhook",
        help="how the processes receive (polling: standbys neither poll nor send)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 surveys: a smoke run")
    args = parser.parse_args(argv)
    n = 1_000 if args.quick else args.surveys
    rows: list[dict[str, Any]] = []
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="npsbench-scaling-") as tmp:
        for engine, processes in CONFIGURATIONS:
            one = run_one(engine, processes, n, args.limit, args.mode, Path(tmp))
            rows.append(asyncio.run(one))
    print_table(
        f"Scaling: {n} surveys, L = {args.limit:g}/s, {args.mode} mode",
        [
            (
                f"{r['engine']} x{r['processes']}",
                f"rate/L {r['achieved_over_limit']:.3f} ({r['achieved_per_second']:.0f}/s), "
                f"429s {r['http_429']}, twice {r['delivered_twice']}, "
                f"lost {r['not_delivered']}, bot CPU {r['bot_cpu_seconds']:.1f} s, "
                f"machine busy {r['machine_busy_share']:.0%}, load {r['load_average_1m']:.2f}",
                ">= 0.95, 0, 0, 0",
            )
            for r in rows
        ],
    )
    figures = {
        "surveys": n,
        "limit_per_second": args.limit,
        "mode": args.mode,
        "load_average_1m_before": load_before,
        "configurations": rows,
    }
    # The recorded configuration writes scaling.json; others a name of their own.
    name = "scaling"
    if args.limit != 1000.0:
        name += f"-L{args.limit:g}"
    if args.mode != "webhook":
        name += f"-{args.mode}"
    print(f"(written to {write_result(name, figures)})")
    return figures


if __name__ == "__main__":
    main()
