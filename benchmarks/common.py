"""Shared plumbing: the stand-in in this process, the real bot as a child process, results."""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import resource
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.records import Answer
from standin import BotMessage, StandIn
from standin.botprocess import BotProcess, offline_env
from storage import Database, answers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TOKEN = "123456789:BENCH-token-for-the-local-stand-in-only"
SECRET = "bench-link-secret-0123456789abcdef0123456789"
BOT_USERNAME = "nps_bench_bot"


def bot_env(
    server: StandIn, db_path: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for the bot process: the stand-in, a scratch database, quiet logs."""
    quiet = {
        "NPSBOT_POLL_TIMEOUT": "1",
        "NPSBOT_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    return offline_env(
        server,
        db_path,
        link_secret=SECRET,
        company="Bench Co",
        bot_username=BOT_USERNAME,
        extra={**quiet, **(extra or {})},
    )


def start_child(args: Sequence[str], env: Mapping[str, str], log_path: Path) -> BotProcess:
    """Start ``python <args>`` with output to ``log_path``."""
    child = BotProcess(env, log_path, args=args, cwd=ROOT)
    child.start()
    return child


async def wait_until(cond: Any, timeout: float, what: str, child: BotProcess | None = None) -> None:
    """Poll ``cond`` every 20 ms; fail with the child's log tail if it never holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if child is not None and child.exited:
            raise RuntimeError(f"child exited while waiting for {what}:\n{child.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def stand_in(**kwargs: Any) -> AsyncIterator[StandIn]:
    """A stand-in on 127.0.0.1 for the benchmark's lifetime."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, **kwargs) as server:
        yield server


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process ``pid`` has used so far, from the kernel's
    /proc/<pid>/stat (fields 14 and 15, in clock ticks)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of the children of ``pid`` that it has waited for (an
    export's worker process, once reaped), from /proc/<pid>/stat (fields 16 and 17)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cutime, cstime = int(fields[13]), int(fields[14])
    return (cutime + cstime) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (values need not be sorted)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    # The smallest value with at least pct % of the values at or below it (p99 of 100
    # values is the 99th, not the largest).
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered) - 1e-9) - 1))
    return ordered[rank]


def print_table(title: str, rows: Sequence[tuple[str, str, str]]) -> None:
    """A three-column table: measure, value, target."""
    widths = [max(len(r[i]) for r in [("measure", "value", "target"), *rows]) for i in range(3)]
    print(f"\n{title}\n" + "-" * len(title))
    for row in [("measure", "value", "target"), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))


def write_result(name: str, figures: Mapping[str, Any]) -> Path:
    """Write figures as JSON under benchmarks/results/ with the machine's description."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "figures": dict(figures),
    }
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


async def stored_answers(
    location: str | Path, survey_ids: Iterable[int]
) -> dict[int, Answer | None]:
    """Each survey's answer as the bot stored it (None where there is none)."""
    db = await Database.open(location, migrate=False)
    try:
        async with db.read() as tx:
            return {sid: await answers.get_for_survey(tx, sid) for sid in survey_ids}
    finally:
        await db.close()


class QuestionArrivals:
    """Counts survey questions (messages with buttons) as the stand-in delivers them: when
    each arrived, and how many each chat got."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.per_chat: dict[int, int] = {}

    def __call__(self, chat_id: int, message: BotMessage) -> None:
        if message.reply_markup:
            self.times.append(time.monotonic())
            self.per_chat[chat_id] = self.per_chat.get(chat_id, 0) + 1

    def rate(self) -> float:
        """Questions per second between the first arrival and the last."""
        span = self.times[-1] - self.times[0] if len(self.times) > 1 else float("nan")
        return (len(self.times) - 1) / span if span else float("nan")

    def delivered_twice(self) -> int:
        """Chats that got more than one question."""
        return sum(1 for count in self.per_chat.values() if count > 1)

    def not_delivered(self, chat_ids: Iterable[int]) -> int:
        """Chats of ``chat_ids`` that got no question."""
        return sum(1 for chat in chat_ids if self.per_chat.get(chat, 0) == 0)
