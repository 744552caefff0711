"""Answers benchmark: customers press a score, then type a reason; three programs side by side.

The programs, each a process of its own polling the same stand-in (open limits: the figures
are the programs', not Telegram's pacing):

- npsbot (``python -m bot run``) with its database;
- the in-memory bot (:mod:`benchmarks.inmemory_bot`): plain python-telegram-bot, the same
  Bot API calls and texts, no database;
- the bare app (:mod:`benchmarks.bare_app`): answers presses, nothing else.

The two references run twice: on PTB's own transport (httpx; the references the targets
are judged against) and on npsbot's (aiohttp), which tells what npsbot's database costs
apart from what its transport saves. The Bot API calls per conversation are counted on the
stand-in for npsbot and the in-memory bot and shown side by side (they must be the same).

Phases, in one run:

a. **throughput**: every customer's press queued at once, then every reason; npsbot's
   updates handled per second against the bare app's presses answered per second
   (target >= 1.0);
b. **CPU per update** at the same moderate concurrency: the load generator keeps 8
   conversations in flight (press, wait for the follow-up, type the reason, wait for the
   thank-you, next customer), so neither program ever has more than 8 updates in hand; the
   in-memory bot runs PTB's concurrent updates at 8 too. CPU seconds (user + system) of the
   program's process from /proc/<pid>/stat over the phase, per update (target: npsbot
   <= 1.1 x the in-memory bot);
c. **paced latency**: 300 customers press at a steady 50 presses/s, then type their
   reasons at 50/s; press -> follow-up and reason -> thank-you p50/p99/max as the stand-in
   sees them (targets for npsbot: p99 < 50 ms, p50 < 15 ms). A second npsbot process with
   ``NPSBOT_TIMING_LOG=on`` runs the phase again for the breakdown: waiting to be fetched
   (the stand-in's stamps), fetched -> handler, the handler's database lock, body, outbox
   write and commit, waiting to send, and the call.

npsbot runs on SQLite (the default) or, with ``--database postgresql``, on a PostgreSQL
database created for the run and dropped after it (``NPSBOT_BENCH_POSTGRES``, as in
:mod:`benchmarks.scaling`); ``--database both`` runs npsbot on each, one after the other in
the same run, beside the same references (the PostgreSQL figures are the ``pg_`` ones).

    python -m benchmarks.answers                  # the recorded figures
    python -m benchmarks.answers --customers 500 --cpu-customers 200 --paced 100  # smoke
    python -m benchmarks.answers --database both  # SQLite and PostgreSQL side by side
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    bot_env,
    cpu_seconds,
    percentile,
    print_table,
    stand_in,
    start_child,
    wait_until,
    write_result,
)
from benchmarks.dispatch import prepare
from benchmarks.scaling import fresh_database
from standin import BotMessage, Limits, SimUser, StandIn
from standin.botprocess import BotProcess
from standin.state import PendingUpdate

# Measure the programs, not Telegram's limits: the stand-in lets everything through.
OPEN_LIMITS = Limits(
    global_per_second=1e9,
    per_chat_burst=1000,
    per_chat_per_second=1000.0,
    # All presses are queued at once; answers to the last come long after Telegram's 15 s.
    callback_answer_timeout=1e9,
)
REASON = "Friendly courier, quick delivery"
SCORE_BUTTON = 9  # the button for 9: a promoter, whose follow-up asks what they value
WARM_UP = 50  # conversations before anything is measured (imports, caches, connections)


@dataclass
class Stamps:
    """When the stand-in saw each step of one customer's conversation (monotonic s)."""

    pressed: float = 0.0
    followup: float = 0.0
    reasoned: float = 0.0
    thanks: float = 0.0
    answered: float = 0.0  # the press's answerCallbackQuery


@dataclass
class Observer:
    """Watches one stand-in: questions asked, follow-ups, thank-yous, answers, deliveries."""

    server: StandIn
    question: dict[int, BotMessage] = field(default_factory=dict)
    stamps: dict[int, Stamps] = field(default_factory=dict)
    # update id -> (chat, created, delivered): how long each waited to be fetched.
    deliveries: dict[int, tuple[int, float, float]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    _waiters: dict[tuple[int, str], asyncio.Future[None]] = field(default_factory=dict)
    _queries: dict[str, int] = field(default_factory=dict)  # callback query id -> chat

    def __post_init__(self) -> None:
        self.server.on_bot_message(self._message)
        self.server.on_update_delivered(self._delivered)
        self.server.on_call(self._call)

    def _message(self, chat_id: int, message: BotMessage) -> None:
        stamps = self.stamps.setdefault(chat_id, Stamps())
        if message.reply_markup:
            self.question[chat_id] = message
        elif not stamps.followup:
            stamps.followup = time.monotonic()
            self._wake(chat_id, "followup")
        else:
            stamps.thanks = time.monotonic()
            self._wake(chat_id, "thanks")

    def _delivered(self, update: PendingUpdate) -> None:
        body = update.body.get("callback_query") or update.body.get("message") or {}
        chat = (body.get("message") or body).get("chat", {}).get("id", 0)
        assert update.delivered is not None
        self.deliveries[update.update_id] = (chat, update.created, update.delivered)

    def _call(self, method: str, params: dict[str, Any], at: float) -> None:
        self.calls[method] += 1
        if method == "answerCallbackQuery":
            chat = self._queries.get(str(params.get("callback_query_id")))
            if chat is not None:
                self.stamps[chat].answered = at

    def _wake(self, chat_id: int, step: str) -> None:
        waiter = self._waiters.pop((chat_id, step), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, chat_id: int, step: str, timeout: float = 60.0) -> None:
        """Until the chat's ``step`` (followup or thanks) has arrived."""
        stamps = self.stamps.setdefault(chat_id, Stamps())
        if getattr(stamps, step):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[(chat_id, step)] = waiter
        await asyncio.wait_for(waiter, timeout)

    async def press(self, user: SimUser) -> None:
        """Press the score button of the user's question."""
        message = self.question[user.id]
        self.stamps.setdefault(user.id, Stamps()).pressed = time.monotonic()
        query_id = await user.press_raw(message.message_id, message.button_data[SCORE_BUTTON])
        self._queries[query_id] = user.id

    async def reason(self, user: SimUser) -> None:
        """Type the reason."""
        self.stamps[user.id].reasoned = time.monotonic()
        await user.send_text(REASON)

    def count(self, users: Sequence[SimUser], step: str) -> int:
        """How many of ``users`` have reached ``step``."""
        return sum(1 for u in users if getattr(self.stamps.get(u.id, Stamps()), step))


def split(users: Sequence[SimUser], sizes: Sequence[int]) -> Iterator[list[SimUser]]:
    """Consecutive groups of ``users`` of the given sizes."""
    start = 0
    for size in sizes:
        yield list(users[start : start + size])
        start += size


async def closed_loop(obs: Observer, users: Sequence[SimUser], in_flight: int) -> None:
    """``in_flight`` conversations at a time, each press -> follow-up -> reason -> thanks."""
    pending = iter(users)

    async def lane() -> None:
        for user in pending:
            await obs.press(user)
            await obs.wait(user.id, "followup")
            await obs.reason(user)
            await obs.wait(user.id, "thanks")

    await asyncio.gather(*(lane() for _ in range(in_flight)))
    await wait_until(lambda: obs.count(users, "answered") >= len(users), 60, "press answers")


async def paced(
    obs: Observer, users: Sequence[SimUser], rate: float, act: Callable[[SimUser], Any]
) -> None:
    """``act`` for each user at a steady ``rate`` per second (open loop: never waits for
    the program, so its stalls show as latency, not as a slower pace)."""
    start = time.monotonic()
    for index, user in enumerate(users):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await act(user)


def latency(
    obs: Observer, users: Sequence[SimUser], start: str, end: str, prefix: str
) -> dict[str, float]:
    """p50/p99/max in ms of ``end - start`` over ``users``."""
    values = [getattr(obs.stamps[u.id], end) - getattr(obs.stamps[u.id], start) for u in users]
    return {
        f"{prefix}_p50_ms": round(percentile(values, 50) * 1000, 1),
        f"{prefix}_p99_ms": round(percentile(values, 99) * 1000, 1),
        f"{prefix}_max_ms": round(max(values) * 1000, 1),
    }


async def paced_phase(
    obs: Observer, users: Sequence[SimUser], rate: float, child: BotProcess, prefix: str
) -> dict[str, float]:
    """Presses at ``rate``, then reasons at ``rate``; both latencies."""
    n = len(users)
    await paced(obs, users, rate, obs.press)
    await wait_until(lambda: obs.count(users, "followup") >= n, 60, "follow-ups", child)
    await wait_until(lambda: obs.count(users, "answered") >= n, 60, "press answers", child)
    await paced(obs, users, rate, obs.reason)
    await wait_until(lambda: obs.count(users, "thanks") >= n, 60, "thank-yous", child)
    return {
        **latency(obs, users, "pressed", "followup", f"{prefix}_press"),
        **latency(obs, users, "reasoned", "thanks", f"{prefix}_reason"),
    }


async def cpu_phase(
    obs: Observer, users: Sequence[SimUser], in_flight: int, child: BotProcess, prefix: str
) -> dict[str, float]:
    """CPU seconds of ``child`` per update over a closed loop of ``in_flight``."""
    assert child.proc is not None
    before = cpu_seconds(child.proc.pid)
    started = time.monotonic()
    await closed_loop(obs, users, in_flight)
    elapsed = time.monotonic() - started
    used = cpu_seconds(child.proc.pid) - before
    updates = 2 * len(users)
    return {
        f"{prefix}_cpu_ms_per_update": round(used / updates * 1000, 3),
        f"{prefix}_cpu_s": round(used, 2),
        f"{prefix}_cpu_updates_per_s": round(updates / elapsed, 1),
    }


def calls_per_conversation(obs: Observer, conversations: int) -> dict[str, float]:
    """Bot API calls per conversation by method (getUpdates and the set-up excluded)."""
    return {
        method: round(count / conversations, 3)
        for method, count in sorted(obs.calls.items())
        if method in ("answerCallbackQuery", "editMessageText", "sendMessage")
    }


# --- the programs -------------------------------------------------------------------------


async def run_npsbot(
    n_throughput: int,
    n_cpu: int,
    n_paced: int,
    rate: float,
    in_flight: int,
    engine: str = "sqlite",
) -> dict[str, Any]:
    """npsbot on ``engine``: warm-up, CPU at ``in_flight``, paced latency, then throughput."""
    async with stand_in(limits=OPEN_LIMITS) as server:
        sizes = [WARM_UP, n_cpu, n_paced, n_throughput]
        users = [server.add_user(first_name=f"U{i}") for i in range(sum(sizes))]
        for user in users:
            user.mark_started()
        warm, cpu, pace, bulk = split(users, sizes)
        obs = Observer(server)
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            async with fresh_database(engine, Path(tmp), "answers") as location:
                await prepare(location, [u.id for u in users])
                env = bot_env(
                    server,
                    Path(tmp) / "unused.sqlite3",
                    {"NPSBOT_SEND_RATE": "100000", "NPSBOT_DATABASE": location},
                )
                bot = start_child(["-m", "bot", "run"], env, Path(tmp) / "bot.log")
                try:
                    n = len(users)
                    await wait_until(lambda: len(obs.question) >= n, n / 100 + 120, "surveys", bot)
                    await closed_loop(obs, warm, in_flight)
                    obs.calls.clear()
                    figures: dict[str, Any] = await cpu_phase(obs, cpu, in_flight, bot, "bot")
                    figures["bot_calls_per_conversation"] = calls_per_conversation(obs, len(cpu))
                    figures.update(await paced_phase(obs, pace, rate, bot, "bot"))
                    figures.update(await throughput(obs, bulk, bot))
                    figures["bot_peak_rss_mb"] = bot.peak_rss_mb()
                except Exception:
                    print(bot.tail())
                    raise
                finally:
                    await bot.stop_async()
        figures["http_429"] = server.stats.rate_limited
        return figures


async def throughput(obs: Observer, users: Sequence[SimUser], child: BotProcess) -> dict[str, Any]:
    """Every press at once, then every reason; updates handled per second."""
    n = len(users)
    start = time.monotonic()
    for user in users:
        await obs.press(user)
    await wait_until(lambda: obs.count(users, "followup") >= n, n / 20 + 120, "follow-ups", child)
    press_phase = time.monotonic() - start
    start = time.monotonic()
    for user in users:
        await obs.reason(user)
    await wait_until(lambda: obs.count(users, "thanks") >= n, n / 20 + 120, "thank-yous", child)
    reason_phase = time.monotonic() - start
    return {
        "customers": n,
        "press_phase_s": round(press_phase, 2),
        "reason_phase_s": round(reason_phase, 2),
        "bot_updates_per_s": round(2 * n / (press_phase + reason_phase), 1),
    }


async def run_npsbot_timed(
    n_paced: int, rate: float, in_flight: int, engine: str = "sqlite"
) -> dict[str, Any]:
    """npsbot with its timing log: the paced phase again, broken down by stage."""
    async with stand_in(limits=OPEN_LIMITS) as server:
        users = [server.add_user(first_name=f"U{i}") for i in range(WARM_UP + n_paced)]
        for user in users:
            user.mark_started()
        warm, pace = split(users, [WARM_UP, n_paced])
        obs = Observer(server)
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            async with fresh_database(engine, Path(tmp), "timed") as location:
                await prepare(location, [u.id for u in users])
                env = bot_env(
                    server,
                    Path(tmp) / "unused.sqlite3",
                    {
                        "NPSBOT_SEND_RATE": "100000",
                        "NPSBOT_TIMING_LOG": "on",
                        "NPSBOT_DATABASE": location,
                    },
                )
                bot = start_child(["-m", "bot", "run"], env, Path(tmp) / "bot.log")
                try:
                    n = len(users)
                    await wait_until(lambda: len(obs.question) >= n, n / 100 + 120, "surveys", bot)
                    await closed_loop(obs, warm, in_flight)
                    figures: dict[str, Any] = await paced_phase(obs, pace, rate, bot, "timed")
                except Exception:
                    print(bot.tail())
                    raise
                finally:
                    await bot.stop_async()
                figures["breakdown"] = breakdown(obs, pace, bot.log())
        return figures


async def run_inmemory(
    n_cpu: int, n_paced: int, rate: float, in_flight: int, transport: str = "ptb"
) -> dict[str, Any]:
    """The in-memory bot: warm-up, CPU at ``in_flight``, paced latency. ``transport``:
    PTB's own (the reference, prefix ``mem``) or npsbot's aiohttp one (``memaio``)."""
    prefix = "mem" if transport == "ptb" else "memaio"
    async with stand_in(limits=OPEN_LIMITS) as server:
        sizes = [WARM_UP, n_cpu, n_paced]
        users = [server.add_user(first_name=f"U{i}") for i in range(sum(sizes))]
        for user in users:
            user.mark_started()
        warm, cpu, pace = split(users, sizes)
        obs = Observer(server)
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            chats = Path(tmp) / "chats.txt"
            chats.write_text("\n".join(str(u.id) for u in users), encoding="utf-8")
            env = bot_env(
                server,
                Path(tmp) / "unused.sqlite3",
                {
                    "BENCH_CHATS": str(chats),
                    "BENCH_CONCURRENCY": str(in_flight),
                    "BENCH_TRANSPORT": transport,
                },
            )
            child = start_child(["-m", "benchmarks.inmemory_bot"], env, Path(tmp) / "mem.log")
            try:
                n = len(users)
                await wait_until(lambda: len(obs.question) >= n, n / 100 + 120, "questions", child)
                await closed_loop(obs, warm, in_flight)
                obs.calls.clear()
                figures: dict[str, Any] = await cpu_phase(obs, cpu, in_flight, child, prefix)
                figures[f"{prefix}_calls_per_conversation"] = calls_per_conversation(obs, len(cpu))
                figures.update(await paced_phase(obs, pace, rate, child, prefix))
            except Exception:
                print(child.tail())
                raise
            finally:
                await child.stop_async()
        return figures


def answered_count(server: StandIn) -> int:
    """Callback queries the stand-in has seen answered."""
    return sum(len(v) for v in server.world.callback_answers.values())


async def run_bare(n: int, transport: str = "ptb") -> dict[str, Any]:
    """The bare PTB app: N presses, each only answered (``transport`` as for
    :func:`run_inmemory`; prefix ``bare`` or ``bareaio``)."""
    prefix = "bare" if transport == "ptb" else "bareaio"
    async with stand_in(limits=OPEN_LIMITS) as server:
        users = [server.add_user(first_name=f"U{i}") for i in range(n)]
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            env = bot_env(server, Path(tmp) / "unused.sqlite3", {"BENCH_TRANSPORT": transport})
            app = start_child(["-m", "benchmarks.bare_app"], env, Path(tmp) / "bare.log")
            try:
                await wait_until(
                    lambda: server.stats.calls.get("getUpdates", 0) > 0, 60, "polling", app
                )
                start = time.monotonic()
                for user in users:
                    await user.press_raw(1, "nps:1:9")
                await wait_until(lambda: answered_count(server) >= n, n / 20 + 120, "answers", app)
                elapsed = time.monotonic() - start
            finally:
                await app.stop_async()
        return {f"{prefix}_presses_per_s": round(n / elapsed, 1)}


# --- the breakdown --------------------------------------------------------------------------

_UPDATE = re.compile(
    r"update (?P<id>\d+) chat (?P<chat>-?\d+) (?P<kind>\S+): start (?P<start>[\d.]+) "
    r"lock (?P<lock>[\d.]+) body (?P<body>[\d.]+) commit (?P<commit>[\d.]+)"
)
_CALL = re.compile(
    r"outbox (?P<id>\d+) chat (?P<chat>-?\d+) (?P<method>\w+): "
    r"start (?P<start>[\d.]+) call (?P<call>[\d.]+)"
)

STAGES = (
    ("fetch", "waiting to be fetched (stand-in: created -> returned by getUpdates)"),
    ("to_handler", "fetched -> handler starts (transfer, parsing, the chat's queue)"),
    ("lock", "waiting for the database's write lock"),
    ("body", "the handler's body (reads, decisions, writes)"),
    ("commit", "outbox write and COMMIT"),
    ("to_send", "committed -> the reply's Bot API call starts (earlier calls included)"),
    ("call", "the reply's call -> the stand-in has the message"),
)


def breakdown(obs: Observer, users: Sequence[SimUser], log: str) -> dict[str, dict[str, float]]:
    """p50/p99/max per stage of press -> follow-up and reason -> thank-you, from the
    stand-in's stamps and npsbot's timing log, joined by chat (one step in flight each)."""
    chats = {u.id for u in users}
    handled: dict[tuple[int, str], dict[str, float]] = {}
    for match in _UPDATE.finditer(log):
        chat = int(match["chat"])
        step = "press" if match["kind"].startswith("press") else "reason"
        if chat in chats:
            handled[(chat, step)] = {
                k: float(match[k]) for k in ("start", "lock", "body", "commit")
            }
    sends: dict[int, list[float]] = {}
    for match in _CALL.finditer(log):
        if int(match["chat"]) in chats and match["method"] == "sendMessage":
            sends.setdefault(int(match["chat"]), []).append(float(match["start"]))
    fetched = {(chat, created): delivered for chat, created, delivered in obs.deliveries.values()}
    by_chat_created: dict[int, list[tuple[float, float]]] = {}
    for (chat, created), delivered in fetched.items():
        by_chat_created.setdefault(chat, []).append((created, delivered))
    result: dict[str, dict[str, float]] = {}
    for step, end, index in (("press", "followup", 0), ("reason", "thanks", 1)):
        stages: dict[str, list[float]] = {name: [] for name, _ in STAGES}
        for chat in chats:
            stamps = obs.stamps[chat]
            timing = handled.get((chat, step))
            created_delivered = sorted(by_chat_created.get(chat, []))
            chat_sends = sorted(sends.get(chat, []))
            if timing is None or len(created_delivered) <= index or len(chat_sends) <= index:
                continue
            created, delivered = created_delivered[index]
            start_ms = timing["start"]
            committed = start_ms + (timing["lock"] + timing["body"] + timing["commit"]) / 1000
            call_start = chat_sends[index]
            stages["fetch"].append(delivered - created)
            stages["to_handler"].append(start_ms - delivered)
            stages["lock"].append(timing["lock"] / 1000)
            stages["body"].append(timing["body"] / 1000)
            stages["commit"].append(timing["commit"] / 1000)
            stages["to_send"].append(call_start - committed)
            stages["call"].append(getattr(stamps, end) - call_start)
        for name, values in stages.items():
            if values:
                result[f"{step}:{name}"] = {
                    "p50_ms": round(percentile(values, 50) * 1000, 2),
                    "p99_ms": round(percentile(values, 99) * 1000, 2),
                    "max_ms": round(max(values) * 1000, 2),
                }
    return result


# --- the report -----------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    """a / b, rounded for the table."""
    return round(a / b, 3) if b else float("nan")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point: the three programs, side by side in one run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=5_000, help="throughput phase")
    parser.add_argument("--cpu-customers", type=int, default=1_000, help="CPU phase")
    parser.add_argument("--in-flight", type=int, default=8, help="CPU phase's concurrency")
    parser.add_argument("--paced", type=int, default=300, help="paced phase's customers")
    parser.add_argument("--rate", type=float, default=50.0, help="paced phase's presses/s")
    parser.add_argument("--no-timed", action="store_true", help="skip the breakdown run")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        default="sqlite",
        help="npsbot's engine (both: each in turn, in this run)",
    )
    args = parser.parse_args(argv)
    engines = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    load_before = os.getloadavg()[0]
    bare = asyncio.run(run_bare(args.customers))
    bareaio = asyncio.run(run_bare(args.customers, "aiohttp"))
    mem = asyncio.run(run_inmemory(args.cpu_customers, args.paced, args.rate, args.in_flight))
    memaio = asyncio.run(
        run_inmemory(args.cpu_customers, args.paced, args.rate, args.in_flight, "aiohttp")
    )
    runs: dict[str, dict[str, Any]] = {}
    for engine in engines:
        one = asyncio.run(
            run_npsbot(
                args.customers, args.cpu_customers, args.paced, args.rate, args.in_flight, engine
            )
        )
        if not args.no_timed:
            one.update(asyncio.run(run_npsbot_timed(args.paced, args.rate, args.in_flight, engine)))
        runs[engine] = one
    first = runs[engines[0]]
    timed_keys = ("breakdown", *(k for k in first if k.startswith("timed_")))
    timed = {k: first[k] for k in timed_keys if k in first}
    bot = {k: v for k, v in first.items() if k not in timed}
    # A second engine's figures carry the prefix pg (npsbot) and pgtimed (its breakdown run).
    others: dict[str, Any] = {}
    for engine in engines[1:]:
        for key, value in runs[engine].items():
            if key.startswith("bot_"):
                others["pg_" + key[4:]] = value
            elif key.startswith("timed_"):
                others["pgtimed_" + key[6:]] = value
            else:
                others[f"pg_{key}"] = value
    figures: dict[str, Any] = {
        **bare,
        **bareaio,
        **mem,
        **memaio,
        **bot,
        **timed,
        **others,
        "database": engines[0],
        "in_flight": args.in_flight,
        # Other work on the machine: wall-time figures (latency, rates) move with it.
        "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    if others:
        figures["pg_over_sqlite_updates_per_s"] = ratio(
            others["pg_updates_per_s"], bot["bot_updates_per_s"]
        )
        figures["pg_over_sqlite_cpu_per_update"] = ratio(
            others["pg_cpu_ms_per_update"], bot["bot_cpu_ms_per_update"]
        )
    figures["bot_over_bare"] = ratio(bot["bot_updates_per_s"], bare["bare_presses_per_s"])
    figures["bot_over_bareaio"] = ratio(bot["bot_updates_per_s"], bareaio["bareaio_presses_per_s"])
    figures["cpu_bot_over_mem"] = ratio(bot["bot_cpu_ms_per_update"], mem["mem_cpu_ms_per_update"])
    figures["cpu_bot_over_memaio"] = ratio(
        bot["bot_cpu_ms_per_update"], memaio["memaio_cpu_ms_per_update"]
    )
    same_calls = bot["bot_calls_per_conversation"] == mem["mem_calls_per_conversation"]
    figures["same_calls"] = same_calls
    calls = ", ".join(f"{k} {v:g}" for k, v in bot["bot_calls_per_conversation"].items())
    print_table(
        f"Answers: throughput ({args.customers} customers, press then reason, all at once)",
        [
            ("bare PTB app, presses/s", f"{bare['bare_presses_per_s']:.0f}", "reference"),
            (
                "bare app on npsbot's transport, presses/s",
                f"{bareaio['bareaio_presses_per_s']:.0f}",
                "",
            ),
            ("npsbot, updates handled/s", f"{bot['bot_updates_per_s']:.0f}", ""),
            ("npsbot / bare", f"{figures['bot_over_bare']:.2f}", ">= 1.0"),
            ("npsbot / bare on the same transport", f"{figures['bot_over_bareaio']:.2f}", ""),
            ("npsbot peak memory", f"{bot['bot_peak_rss_mb'] or 0:.0f} MB", "< 200 MB"),
            *(
                [
                    (
                        "npsbot on PostgreSQL, updates handled/s",
                        f"{others['pg_updates_per_s']:.0f}",
                        "",
                    ),
                    (
                        "PostgreSQL / SQLite",
                        f"{figures['pg_over_sqlite_updates_per_s']:.2f}",
                        "",
                    ),
                ]
                if others
                else []
            ),
        ],
    )
    print_table(
        f"Answers: CPU per update, {args.in_flight} conversations in flight "
        f"({args.cpu_customers} customers)",
        [
            ("in-memory PTB bot", f"{mem['mem_cpu_ms_per_update']:.2f} ms", "reference"),
            (
                "in-memory bot on npsbot's transport",
                f"{memaio['memaio_cpu_ms_per_update']:.2f} ms",
                "",
            ),
            (f"npsbot ({engines[0]})", f"{bot['bot_cpu_ms_per_update']:.2f} ms", ""),
            *(
                [("npsbot on PostgreSQL", f"{others['pg_cpu_ms_per_update']:.2f} ms", "")]
                if others
                else []
            ),
            ("npsbot / in-memory", f"{figures['cpu_bot_over_mem']:.2f}", "<= 1.1"),
            (
                "npsbot / in-memory on the same transport",
                f"{figures['cpu_bot_over_memaio']:.2f}",
                "",
            ),
            ("calls per conversation", calls, "same" if same_calls else "DIFFERENT"),
        ],
    )
    rows = []
    for step, label in (("press", "press -> follow-up"), ("reason", "reason -> thank-you")):
        for who, prefix in (
            ("in-memory", "mem"),
            ("in-memory, npsbot's transport", "memaio"),
            ("npsbot", "bot"),
            ("npsbot timed", "timed"),
            ("npsbot on PostgreSQL", "pg"),
            ("npsbot on PostgreSQL timed", "pgtimed"),
        ):
            key = f"{prefix}_{step}"
            if f"{key}_p50_ms" not in figures:
                continue
            rows.append(
                (
                    f"{label}, {who}",
                    f"{figures[f'{key}_p50_ms']:.1f} / {figures[f'{key}_p99_ms']:.1f} / "
                    f"{figures[f'{key}_max_ms']:.0f} ms",
                    "p50 < 15, p99 < 50" if prefix == "bot" else "",
                )
            )
    print_table(
        f"Answers: paced latency, {args.paced} customers at {args.rate:g}/s (p50 / p99 / max)",
        rows,
    )
    for label, found_breakdown in (
        (engines[0], timed.get("breakdown")),
        ("postgresql", others.get("pg_breakdown")),
    ):
        if not found_breakdown:
            continue
        stage_rows = []
        for step in ("press", "reason"):
            for name, meaning in STAGES:
                found = found_breakdown.get(f"{step}:{name}")
                if found:
                    stage_rows.append(
                        (
                            f"{step}: {name}",
                            f"{found['p50_ms']:.2f} / {found['p99_ms']:.2f} / "
                            f"{found['max_ms']:.1f} ms",
                            meaning,
                        )
                    )
        print_table(f"npsbot's paced latency by stage on {label} (p50 / p99 / max)", stage_rows)
    before, after = figures["load_1min_before_after"]
    print(f"machine load (1-minute average) before / after: {before:.2f} / {after:.2f}")
    name = "answers" if args.database == "sqlite" else f"answers-{args.database}"
    print(f"(written to {write_result(name, figures)})")
    return figures


if __name__ == "__main__":
    main()
