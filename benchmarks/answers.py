"""Answers benchmark: N customers press a score, then type a reason, as fast as updates flow.

Reports the bot's updates handled per second next to a bare python-telegram-bot app that
only answers the press (the framework's ceiling; target: the bot >= 0.8 of it), and the
latency from a press to the follow-up question (p50/p99; all presses are queued at once,
so this is latency under saturation).

    python -m benchmarks.answers --customers 20000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    bot_env,
    percentile,
    print_table,
    stand_in,
    start_child,
    wait_until,
    write_result,
)
from benchmarks.dispatch import prepare
from standin import BotMessage, Limits

# Measure the bot, not Telegram's limits: the stand-in lets everything through.
OPEN_LIMITS = Limits(
    global_per_second=1e9,
    per_chat_burst=1000,
    per_chat_per_second=1000.0,
    # All presses are queued at once; answers to the last come long after Telegram's 15 s.
    callback_answer_timeout=1e9,
)


def answered_count(server: Any) -> int:
    """Callback queries the stand-in has seen answered."""
    return sum(len(v) for v in server.world.callback_answers.values())


async def run_bot(n: int) -> dict[str, Any]:
    """The real bot: dispatch N surveys (not measured), then presses, then reasons."""
    async with stand_in(limits=OPEN_LIMITS) as server:
        users = [server.add_user(first_name=f"U{i}") for i in range(n)]
        for user in users:
            user.mark_started()
        question: dict[int, BotMessage] = {}
        followup_at: dict[int, float] = {}
        thanks_at: dict[int, float] = {}

        def observe(chat_id: int, message: BotMessage) -> None:
            if message.reply_markup:
                question[chat_id] = message
            elif chat_id not in followup_at:
                followup_at[chat_id] = time.monotonic()
            else:
                thanks_at[chat_id] = time.monotonic()

        server.on_bot_message(observe)
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            db_path = Path(tmp) / "bench.sqlite3"
            await prepare(db_path, [u.id for u in users])
            env = bot_env(server, db_path, {"NPSBOT_SEND_RATE": "100000"})
            bot = start_child(["-m", "bot", "run"], env, Path(tmp) / "bot.log")
            try:
                await wait_until(lambda: len(question) >= n, n / 100 + 120, "surveys", bot)
                pressed_at: dict[int, float] = {}
                start = time.monotonic()
                for user in users:
                    message = question[user.id]
                    pressed_at[user.id] = time.monotonic()
                    await user.press_raw(message.message_id, message.button_data[9])
                await wait_until(lambda: len(followup_at) >= n, n / 20 + 120, "follow-ups", bot)
                press_phase = time.monotonic() - start
                start = time.monotonic()
                for user in users:
                    await user.send_text("Friendly courier, quick delivery")
                await wait_until(lambda: len(thanks_at) >= n, n / 20 + 120, "thank-yous", bot)
                reason_phase = time.monotonic() - start
                peak = bot.peak_rss_mb()
            except Exception:
                print(bot.tail())
                raise
            finally:
                await bot.stop_async()
        latencies = [followup_at[c] - pressed_at[c] for c in pressed_at]
        return {
            "customers": n,
            "press_phase_s": round(press_phase, 2),
            "reason_phase_s": round(reason_phase, 2),
            "bot_updates_per_s": round(2 * n / (press_phase + reason_phase), 1),
            "bot_presses_per_s": round(n / press_phase, 1),
            "press_to_followup_p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "press_to_followup_p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "bot_peak_rss_mb": peak,
            "http_429": server.stats.rate_limited,
        }


async def run_bare(n: int) -> dict[str, Any]:
    """The bare PTB app: N presses, each only answered."""
    async with stand_in(limits=OPEN_LIMITS) as server:
        users = [server.add_user(first_name=f"U{i}") for i in range(n)]
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            env = bot_env(server, Path(tmp) / "unused.sqlite3")
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
        return {"bare_presses_per_s": round(n / elapsed, 1), "bare_elapsed_s": round(elapsed, 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point: the bare app and the bot, side by side in one run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args(argv)
    bare = asyncio.run(run_bare(args.customers))
    bot = asyncio.run(run_bot(args.customers))
    figures = {**bare, **bot}
    figures["bot_over_bare"] = round(bot["bot_updates_per_s"] / bare["bare_presses_per_s"], 3)
    print_table(
        f"Answers: {args.customers} customers (press, then a reason)",
        [
            ("bare PTB app, presses/s", f"{bare['bare_presses_per_s']:.0f}", "ceiling"),
            ("bot, updates handled/s", f"{bot['bot_updates_per_s']:.0f}", ""),
            ("bot / bare", f"{figures['bot_over_bare']:.2f}", ">= 0.8"),
            ("press → follow-up p50", f"{bot['press_to_followup_p50_ms']:.0f} ms", ""),
            ("press → follow-up p99", f"{bot['press_to_followup_p99_ms']:.0f} ms", ""),
            ("bot peak memory", f"{bot['bot_peak_rss_mb'] or 0:.0f} MB", "< 200 MB"),
        ],
    )
    print(f"(written to {write_result('answers', figures)})")
    return figures


if __name__ == "__main__":
    main()
