"""Flood benchmark: one chat floods the real bot while other customers answer their survey.

The stand-in enforces Telegram's real limits (30 messages/s, about 1/s per chat, presses
answered within 15 s). One customer sends P forged button presses (score presses naming
other customers' surveys) and T plain texts as fast as the stand-in takes them; meanwhile N
other customers, starting at seeded random moments over ``--spread`` seconds, press a score
and then type a reason. The same customers answer once more in a calm run without the
flood, side by side in one invocation.

Reports the others' press-to-follow-up latency (p50/p99/max; target p99 < 1 s), how long
their presses took to reach the bot (the getUpdates window the flood holds), the messages
the flooding chat received (target <= 50), answers lost or altered (target 0: each
customer's score and reason as stored), presses left unanswered, 429s received, and the
bot's CPU seconds (from /proc).

    python -m benchmarks.flood            # 100 customers, 2,000 presses, 500 texts
    python -m benchmarks.flood --quick
    BENCH_PROFILE=/tmp/bot.prof python -m benchmarks.flood   # the bot under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
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
    stored_answers,
    wait_until,
    write_result,
)
from benchmarks.dispatch import prepare
from standin import BotMessage, Limits, SimUser
from storage import Database, outbox

REASON = "Courier {i} was friendly and on time"


@dataclass
class Chat:
    """What one customer's chat received, timestamped as it arrived at the stand-in."""

    messages: list[tuple[float, BotMessage]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def next_plain(self, since: int, timeout: float) -> float:
        """When the first message after ``since`` without a keyboard arrived."""
        async with asyncio.timeout(timeout):
            while True:
                for at, message in self.messages:
                    if message.message_id > since and not message.reply_markup:
                        return at
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Customer:
    """One calm customer's answer and what it took."""

    user: SimUser
    survey_id: int
    question: BotMessage
    score: int
    start: float
    pressed: float = float("nan")
    press_seen: float = float("nan")
    followup: float = float("nan")
    typed: float = float("nan")
    thanks: float = float("nan")
    query_id: str = ""
    reason_id: int = 0
    error: str | None = None


def bot_command() -> list[str]:
    """``-m bot run``, under cProfile writing to ``$BENCH_PROFILE`` when that is set."""
    profile = os.environ.get("BENCH_PROFILE")
    return [*(["-m", "cProfile", "-o", profile] if profile else []), "-m", "bot", "run"]


def ms(values: list[float], pct: float) -> float:
    """A percentile in milliseconds."""
    return round(percentile(values, pct) * 1000, 1)


def survey_of(question: BotMessage) -> int:
    """The survey id in the question's score buttons (``nps:<id>:<score>``)."""
    return int(question.button_data[0].split(":")[1])


async def answer(customer: Customer, chat: Chat, t0: float, timeout: float) -> None:
    """Press the score at the customer's moment, wait for the follow-up, type the reason,
    wait for the thank-you."""
    await asyncio.sleep(max(0.0, t0 + customer.start - time.monotonic()))
    user = customer.user
    try:
        mark = user.last_message_id
        customer.pressed = time.monotonic()
        customer.query_id = await user.press(
            customer.question, data=f"nps:{customer.survey_id}:{customer.score}"
        )
        customer.followup = await chat.next_plain(mark, timeout)
        mark = user.last_message_id
        customer.typed = time.monotonic()
        customer.reason_id = await user.send_text(REASON.format(i=user.id))
        customer.thanks = await chat.next_plain(mark, timeout)
    except TimeoutError:
        customer.error = "no reply within the timeout"


async def flood(
    user: SimUser, question: BotMessage, targets: list[int], presses: int, texts: int
) -> None:
    """Forged presses on the flooder's own question naming others' surveys, a text every
    ``presses // texts`` presses; yields to the loop every 50 updates (the bot keeps
    fetching meanwhile)."""
    every = max(1, presses // max(texts, 1))
    sent_texts = 0
    for i in range(presses):
        await user.press_raw(question.message_id, f"nps:{targets[i % len(targets)]}:{i % 11}")
        if texts and i % every == 0 and sent_texts < texts:
            await user.send_text(f"spam {i}")
            sent_texts += 1
        if i % 50 == 49:
            await asyncio.sleep(0)
    while sent_texts < texts:
        await user.send_text(f"spam tail {sent_texts}")
        sent_texts += 1


async def outbox_empty(db_path: Path) -> bool:
    """No reply is waiting to be sent (a second connection; WAL allows it beside the bot)."""
    db = await Database.open(db_path, migrate=False)
    try:
        async with db.read() as tx:
            return await outbox.count_pending(tx) == 0
    finally:
        await db.close()


async def run(n: int, presses: int, texts: int, spread: float, seed: int) -> dict[str, Any]:
    """One run of the real bot: N customers answer while (if presses or texts) one floods."""
    rng = random.Random(seed)
    async with stand_in(limits=Limits()) as server:  # Telegram's limits
        flooder = server.add_user(first_name="Flood")
        users = [server.add_user(first_name=f"U{i}") for i in range(n)]
        chats: dict[int, Chat] = {u.id: Chat() for u in [flooder, *users]}
        seen: dict[str, float] = {}  # callback query id / "chat:message" -> first delivery

        def observe(chat_id: int, message: BotMessage) -> None:
            chat = chats.get(chat_id)
            if chat is not None:
                chat.messages.append((time.monotonic(), message))
                chat.changed.set()

        def delivered(batch: list[dict[str, Any]]) -> None:
            now = time.monotonic()
            for body in batch:
                query = body.get("callback_query")
                if query is not None:
                    seen.setdefault(query["id"], now)

        server.on_bot_message(observe)
        server.on_delivery(delivered)
        for user in [flooder, *users]:
            user.mark_started()
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            db_path = Path(tmp) / "bench.sqlite3"
            await prepare(db_path, [u.id for u in [flooder, *users]])
            bot = start_child(bot_command(), bot_env(server, db_path), Path(tmp) / "bot.log")
            try:
                await wait_until(
                    lambda: all(u.messages for u in [flooder, *users]), n / 10 + 60, "surveys", bot
                )
                questions = {u.id: u.messages[0] for u in [flooder, *users]}
                customers = [
                    Customer(
                        user,
                        survey_of(questions[user.id]),
                        questions[user.id],
                        score=rng.randrange(11),
                        start=rng.uniform(0.0, spread),
                    )
                    for user in users
                ]
                flood_mark = flooder.last_message_id
                assert bot.proc is not None
                cpu_before = cpu_seconds(bot.proc.pid)
                t0 = time.monotonic()
                flooding = asyncio.create_task(
                    flood(
                        flooder,
                        questions[flooder.id],
                        [c.survey_id for c in customers],
                        presses,
                        texts,
                    )
                )
                await asyncio.gather(
                    *(answer(c, chats[c.user.id], t0, timeout=120.0) for c in customers)
                )
                await flooding
                answered_s = time.monotonic() - t0
                # The flooding chat's replies trickle out at 1/s: count them once all are sent.
                for _ in range(240):  # at most 2 minutes
                    if await outbox_empty(db_path):
                        break
                    await asyncio.sleep(0.5)
                cpu_used = cpu_seconds(bot.proc.pid) - cpu_before
                settled_s = time.monotonic() - t0
            except Exception:
                print(bot.tail())
                raise
            finally:
                await bot.stop_async()
            stored = await stored_answers(db_path, [c.survey_id for c in customers])
    for c in customers:
        c.press_seen = seen.get(c.query_id, float("nan"))
    lost = [
        c
        for c in customers
        if (a := stored[c.survey_id]) is None
        or a.score != c.score
        or a.reason != REASON.format(i=c.user.id)
    ]
    done = [c for c in customers if c.error is None]
    latencies = [c.followup - c.pressed for c in done]
    to_bot = [c.press_seen - c.pressed for c in customers if c.press_seen == c.press_seen]
    in_bot = [c.followup - c.press_seen for c in done if c.press_seen == c.press_seen]
    reasons = [c.thanks - c.typed for c in done]
    flood_messages = [m for _, m in chats[flooder.id].messages if m.message_id > flood_mark]
    return {
        "customers": n,
        "flood_presses": presses,
        "flood_texts": texts,
        "spread_s": spread,
        "press_to_followup_p50_ms": ms(latencies, 50),
        "press_to_followup_p99_ms": ms(latencies, 99),
        "press_to_followup_max_ms": ms(latencies, 100),
        "press_to_bot_p50_ms": ms(to_bot, 50),
        "press_to_bot_p99_ms": ms(to_bot, 99),
        "press_to_bot_max_ms": ms(to_bot, 100),
        "bot_to_followup_p50_ms": ms(in_bot, 50),
        "bot_to_followup_p99_ms": ms(in_bot, 99),
        "reason_to_thanks_p99_ms": ms(reasons, 99),
        "customers_without_reply": n - len(done),
        "answers_lost_or_altered": len(lost),
        "presses_unanswered": sum(
            1
            for c in customers
            if not any(a.query_id == c.query_id for a in c.user.callback_answers)
        ),
        "flooder_messages": len(flood_messages),
        "flooder_slow_downs": sum(
            1 for m in flood_messages if "slow down" in (m.text or "").lower()
        ),
        "http_429": server.stats.rate_limited,
        "answered_s": round(answered_s, 2),
        "settled_s": round(settled_s, 2),
        "bot_cpu_s": round(cpu_used, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point: the calm run and the flood run, side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--presses", type=int, default=2_000)
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument(
        "--spread", type=float, default=30.0, help="seconds over which customers start"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="20 customers, 400 presses, 100 texts")
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.presses, args.texts, args.spread = 20, 400, 100, 4.0
    calm = asyncio.run(run(args.customers, 0, 0, args.spread, args.seed))
    flooded = asyncio.run(run(args.customers, args.presses, args.texts, args.spread, args.seed))
    figures = {"calm": calm, "flood": flooded}
    f, c = flooded, calm
    print_table(
        f"Flood: {args.customers} customers answer while one chat sends "
        f"{args.presses} presses and {args.texts} texts (Telegram's limits)",
        [
            (
                "press → follow-up p50, calm / flood",
                f"{c['press_to_followup_p50_ms']:.0f} / {f['press_to_followup_p50_ms']:.0f} ms",
                "",
            ),
            (
                "press → follow-up p99, calm / flood",
                f"{c['press_to_followup_p99_ms']:.0f} / {f['press_to_followup_p99_ms']:.0f} ms",
                "< 1000 ms",
            ),
            (
                "press → follow-up max, calm / flood",
                f"{c['press_to_followup_max_ms']:.0f} / {f['press_to_followup_max_ms']:.0f} ms",
                "",
            ),
            (
                "press → bot sees it p99, calm / flood",
                f"{c['press_to_bot_p99_ms']:.0f} / {f['press_to_bot_p99_ms']:.0f} ms",
                "",
            ),
            (
                "bot sees it → follow-up p99, calm / flood",
                f"{c['bot_to_followup_p99_ms']:.0f} / {f['bot_to_followup_p99_ms']:.0f} ms",
                "",
            ),
            (
                "reason → thanks p99, calm / flood",
                f"{c['reason_to_thanks_p99_ms']:.0f} / {f['reason_to_thanks_p99_ms']:.0f} ms",
                "",
            ),
            ("messages the flooding chat received", str(f["flooder_messages"]), "<= 50"),
            (
                "answers lost or altered",
                f"{c['answers_lost_or_altered']} / {f['answers_lost_or_altered']}",
                "0",
            ),
            (
                "customers without a reply",
                f"{c['customers_without_reply']} / {f['customers_without_reply']}",
                "0",
            ),
            ("presses unanswered", f"{c['presses_unanswered']} / {f['presses_unanswered']}", "0"),
            ("429s received", f"{c['http_429']} / {f['http_429']}", "0"),
            ("bot CPU seconds, calm / flood", f"{c['bot_cpu_s']:.1f} / {f['bot_cpu_s']:.1f}", ""),
        ],
    )
    print(f"(written to {write_result('flood', figures)})")
    return figures


if __name__ == "__main__":
    main()
