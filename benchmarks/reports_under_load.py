"""Reports under load: customers' answer latency while an admin exports a year of answers.

The real bot process (SQLite) runs against the stand-in with open limits on a database
pre-filled with a year of answers (1,000,000 by default; benchmarks.reports' generator).
Fresh customers, each with a survey question already delivered, press a score at a steady
pace (``--rate`` presses per second) and then type a reason, in alternating phases in one
run: calm, export, calm, export (``--phases``). During an export phase the admin sends
``/export 366d`` through the stand-in, waits for the CSV and asks again until the phase's
customers have all pressed, so the customers answer beside a running export all along.
A warm-up group answers first (not measured), and each phase starts once the bot is idle.
Comment themes are off: the generated year would be a backlog of 400,000 comments never
themed, minutes of work a live bot (theming as comments come) never has.

Reports press -> follow-up latency (p50/p99/max) per kind of phase and the p99 ratio
export / calm (only presses made while an export was in flight count as "export"), each
export's duration, rows and bytes and whether it completed, answers lost or altered (each
customer's score and reason read back from the database; none expected), the bot's CPU
seconds per phase (from /proc), and the machine's load average before and after (other
work on the machine shows there).

The bot caps ``/export`` at ``MAX_EXPORT_ROWS`` (100,000) rows: a year of 1,000,000 answers
exports its oldest 100,000, after reading 100,001 rows in the period's order.

Before and after, side by side: ``--modes`` runs the whole sequence of phases once per way
of building the export, each with a fresh bot on a fresh copy of the same year, one after
the other in one invocation: ``inline`` (``NPSBOT_EXPORT_PROCESS=off``: read, rows and file
in the bot's process, as before) and ``process`` (the default: a child process). The bot's
CPU per phase counts the bot's process only; its children's (the export's worker, once
reaped) are reported beside it.

    python -m benchmarks.reports_under_load                 # 1,000,000 answers
    python -m benchmarks.reports_under_load --quick         # 100,000 answers, short phases
    python -m benchmarks.reports_under_load --keep /tmp/year.sqlite3   # reuse the year
    python -m benchmarks.reports_under_load --modes process # the child process only
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.answers import OPEN_LIMITS
from benchmarks.common import (
    bot_env,
    children_cpu_seconds,
    cpu_seconds,
    print_table,
    stand_in,
    start_child,
    stored_answers,
    wait_until,
    write_result,
)
from benchmarks.dispatch import prepare
from benchmarks.flood import REASON, Chat, Customer, answer, ms, survey_of
from benchmarks.reports import ADMIN_CHAT, build_rollups, generate
from bot.usecases.exporting import MAX_EXPORT_ROWS
from standin import BotMessage, SimUser
from standin.botprocess import BotProcess

EXPORT_COMMAND = "/export 366d"  # the longest period /export accepts: the whole year
#: How each mode builds the export: NPSBOT_EXPORT_PROCESS.
MODES = {"inline": "off", "process": "on"}


@dataclass
class Export:
    """One /export the admin asked for and what came back."""

    started: float
    finished: float = float("nan")
    document: bool = False
    rows: int = 0
    bytes: int = 0
    reply: str = ""

    @property
    def seconds(self) -> float:
        return self.finished - self.started


async def database(answers_count: int, year: Path, into: Path) -> dict[str, float]:
    """The year of answers at ``year`` (generated there when missing), copied to ``into``
    for a run, since a run adds customers to it."""
    figures = {"generate_s": 0.0, "rollups_rebuild_s": 0.0}
    if not await asyncio.to_thread(year.exists):
        figures["generate_s"] = round(await generate(year, answers_count), 1)
        figures["rollups_rebuild_s"] = round(await build_rollups(year), 1)
    await asyncio.to_thread(_copy_database, year, into)
    return figures


def _copy_database(source: Path, target: Path) -> None:
    """The database file and its write-ahead log, if any."""
    for suffix in ("", "-wal"):
        if Path(str(source) + suffix).exists():
            shutil.copyfile(Path(str(source) + suffix), Path(str(target) + suffix))


def is_export_reply(message: BotMessage) -> bool:
    """The answer to /export: the file, or a text about the export (nothing to export, the
    usage line); not a detractor alert, which the admin chat also receives meanwhile."""
    return message.kind == "document" or "export" in (message.text or "").lower()


async def export_reply(chat: Chat, since: int, timeout: float) -> tuple[float, BotMessage]:
    """The first answer to /export after message id ``since`` and when it arrived."""
    async with asyncio.timeout(timeout):
        while True:
            for at, message in chat.messages:
                if message.message_id > since and is_export_reply(message):
                    return at, message
            chat.changed.clear()
            await chat.changed.wait()


async def keep_exporting(
    admin: SimUser, chat: Chat, stop: asyncio.Event, done: list[Export], timeout: float
) -> None:
    """Ask for the export, wait for it, ask again, until ``stop`` (the export in flight then
    still finishes and is counted)."""
    while not stop.is_set():
        mark = admin.last_message_id
        export = Export(started=time.monotonic())
        done.append(export)
        await admin.send_text(EXPORT_COMMAND)
        try:
            export.finished, reply = await export_reply(chat, mark, timeout)
        except TimeoutError:
            export.reply = "no reply within the timeout"
            return
        export.document = reply.kind == "document"
        export.bytes = len(reply.file_bytes or b"")
        export.reply = (reply.caption or reply.text or "")[:120]
        if export.document:
            # The caption's count ("100,000 answers · ..."): parsing the file here would
            # take CPU from the stand-in, which shares this process.
            export.rows = int(export.reply.split(" ", 1)[0].replace(",", ""))


def customer(user: SimUser, start: float) -> Customer:
    """A customer who presses a score (fixed by the user id) ``start`` seconds into a phase."""
    question = user.messages[0]
    return Customer(user, survey_of(question), question, score=(user.id * 7) % 11, start=start)


def bot_cpu(bot: BotProcess) -> float:
    """CPU seconds the running bot process has used so far."""
    assert bot.proc is not None, "the bot is running"
    return cpu_seconds(bot.proc.pid)


def children_cpu(bot: BotProcess) -> float:
    """CPU seconds of the bot's children it has reaped so far (the export's workers)."""
    assert bot.proc is not None, "the bot is running"
    return children_cpu_seconds(bot.proc.pid)


async def settle(bot: BotProcess, idle_cpu_s: float = 0.05, most_s: float = 60.0) -> None:
    """Wait until the bot uses less than ``idle_cpu_s`` of CPU in half a second (at most
    ``most_s``): each phase then starts from an idle bot."""
    deadline = time.monotonic() + most_s
    before = bot_cpu(bot)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = bot_cpu(bot)
        if now - before < idle_cpu_s:
            return
        before = now


def exporting_at(moment: float, exports: list[Export]) -> bool:
    """Whether an export was in flight at ``moment``."""
    return any(e.started <= moment <= e.finished for e in exports)


def latency_figures(customers: list[Customer]) -> dict[str, Any]:
    """Press -> follow-up and reason -> thanks percentiles of the customers who got replies."""
    done = [c for c in customers if c.error is None]
    latencies = [c.followup - c.pressed for c in done]
    return {
        "presses": len(customers),
        "press_to_followup_p50_ms": ms(latencies, 50),
        "press_to_followup_p99_ms": ms(latencies, 99),
        "press_to_followup_max_ms": ms(latencies, 100),
        "reason_to_thanks_p99_ms": ms([c.thanks - c.typed for c in done], 99),
        "customers_without_reply": len(customers) - len(done),
    }


async def run(
    answers_count: int,
    per_phase: int,
    rate: float,
    phases: list[str],
    keep: Path | None,
    modes: list[str],
    rounds: int = 1,
) -> dict[str, Any]:
    """The year (generated once), then the phases with a fresh bot for each mode, the modes
    taking turns ``rounds`` times (other work on the machine then weighs on each alike)."""
    with tempfile.TemporaryDirectory(prefix="npsbench-year-") as tmp:
        year = keep or Path(tmp) / "year.sqlite3"
        prepared = await database(answers_count, year, Path(tmp) / "unused.sqlite3")
        runs = [
            await run_mode(answers_count, per_phase, rate, phases, year, mode)
            for _ in range(rounds)
            for mode in modes
        ]
    return {"runs": runs, **prepared}


async def run_mode(
    answers_count: int, per_phase: int, rate: float, phases: list[str], year: Path, mode: str
) -> dict[str, Any]:
    """Copy the year, prepare the customers, then the phases in order, in one bot process
    that builds exports the ``mode`` way."""
    load_before = os.getloadavg()
    timeout = 120.0
    async with stand_in(limits=OPEN_LIMITS) as server:
        admin = server.add_user(first_name="Admin", user_id=ADMIN_CHAT)
        warm = max(10, per_phase // 4)
        everyone = [
            server.add_user(first_name=f"U{i}") for i in range(per_phase * len(phases) + warm)
        ]
        warmers, users = everyone[:warm], everyone[warm:]
        chats: dict[int, Chat] = {u.id: Chat() for u in [admin, *everyone]}

        def observe(chat_id: int, message: BotMessage) -> None:
            chat = chats.get(chat_id)
            if chat is not None:
                chat.messages.append((time.monotonic(), message))
                chat.changed.set()

        server.on_bot_message(observe)
        for user in [admin, *everyone]:
            user.mark_started()
        with tempfile.TemporaryDirectory(prefix="npsbench-") as tmp:
            db_path = Path(tmp) / "year.sqlite3"
            await database(answers_count, year, db_path)
            await prepare(db_path, [u.id for u in everyone])
            env = bot_env(
                server,
                db_path,
                {
                    "NPSBOT_ADMIN_CHAT_IDS": str(ADMIN_CHAT),
                    "NPSBOT_SEND_RATE": "100000",
                    "NPSBOT_DIGEST_TIME": "off",
                    "NPSBOT_RELATIONSHIP_CYCLE_DAYS": "off",
                    # A generated year is a backlog of comments never themed: theming it
                    # keeps the bot busy for minutes (a one-off a live bot never has).
                    "NPSBOT_THEMES": "off",
                    "NPSBOT_EXPORT_PROCESS": MODES[mode],
                },
            )
            bot = start_child(["-m", "bot", "run"], env, Path(tmp) / "bot.log")
            results: list[dict[str, Any]] = []
            customers: list[Customer] = []
            exports: list[Export] = []
            try:
                await wait_until(
                    lambda: all(u.messages for u in everyone),
                    len(everyone) / 50 + 120,
                    "surveys",
                    bot,
                )
                # Not measured: the first answers warm the bot's code paths and caches, then
                # the bot settles (its start-up work on the year done) before the phases.
                t0 = time.monotonic()
                await asyncio.gather(
                    *(
                        answer(customer(user, i / rate), chats[user.id], t0, timeout)
                        for i, user in enumerate(warmers)
                    )
                )
                await settle(bot)
                for index, kind in enumerate(phases):
                    group = [
                        customer(user, i / rate)
                        for i, user in enumerate(users[index * per_phase : (index + 1) * per_phase])
                    ]
                    customers.extend(group)
                    phase_exports: list[Export] = []
                    stop = asyncio.Event()
                    await settle(bot)
                    cpu_before, children_before = bot_cpu(bot), children_cpu(bot)
                    t0 = time.monotonic()
                    admin_task = (
                        asyncio.create_task(
                            keep_exporting(admin, chats[admin.id], stop, phase_exports, timeout)
                        )
                        if kind == "export"
                        else None
                    )
                    pressing = [
                        asyncio.create_task(answer(c, chats[c.user.id], t0, timeout)) for c in group
                    ]
                    # The export keeps running until the last customer of the phase pressed.
                    await asyncio.sleep(max(0.0, t0 + (per_phase - 1) / rate - time.monotonic()))
                    stop.set()
                    await asyncio.gather(*pressing)
                    if admin_task is not None:
                        await admin_task
                    exports.extend(phase_exports)
                    results.append(
                        {
                            "phase": kind,
                            "seconds": round(time.monotonic() - t0, 2),
                            "bot_cpu_s": round(bot_cpu(bot) - cpu_before, 2),
                            "children_cpu_s": round(children_cpu(bot) - children_before, 2),
                            "exports": len(phase_exports),
                            **latency_figures(group),
                        }
                    )
            except Exception:
                print(bot.tail())
                raise
            finally:
                await bot.stop_async()
            stored = await stored_answers(db_path, [c.survey_id for c in customers])
    lost = [
        c
        for c in customers
        if (a := stored[c.survey_id]) is None
        or a.score != c.score
        or a.reason != REASON.format(i=c.user.id)
    ]
    phase_of = {c.survey_id: phases[i // per_phase] for i, c in enumerate(customers)}
    calm_group = [c for c in customers if phase_of[c.survey_id] == "calm"]
    export_group = [c for c in customers if phase_of[c.survey_id] == "export"]
    # Only presses made while an export was in flight count as answering beside one.
    beside = [c for c in export_group if exporting_at(c.pressed, exports)]
    calm, loaded = latency_figures(calm_group), latency_figures(beside)
    finished = [e for e in exports if e.finished == e.finished]
    export_phases = [p for p in results if p["phase"] == "export"]
    return {
        "mode": mode,
        "answers": answers_count,
        "presses_per_s": rate,
        "customers_per_phase": per_phase,
        "phases": results,
        "calm": calm,
        "export": loaded,
        "p99_ratio_export_over_calm": (
            round(loaded["press_to_followup_p99_ms"] / calm["press_to_followup_p99_ms"], 2)
            if calm_group and beside
            else None
        ),
        "export_phase_customers_without_reply": latency_figures(export_group)[
            "customers_without_reply"
        ],
        "exports": len(exports),
        "exports_completed": sum(1 for e in exports if e.document),
        "export_s": [round(e.seconds, 2) for e in finished],
        "export_rows": [e.rows for e in exports],
        "export_bytes": [e.bytes for e in exports],
        "export_replies": sorted({e.reply for e in exports}),
        "export_row_cap": MAX_EXPORT_ROWS,
        "answers_lost_or_altered": len(lost),
        "export_phases_s": round(sum(p["seconds"] for p in export_phases), 2),
        "export_phases_bot_cpu_s": round(sum(p["bot_cpu_s"] for p in export_phases), 2),
        "export_phases_children_cpu_s": round(
            sum(p["children_cpu_s"] for p in export_phases), 2
        ),
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in os.getloadavg()],
    }


def _mode_rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """One mode's measures, as table rows."""
    c, e = figures["calm"], figures["export"]
    durations = figures["export_s"]
    return [
        (
            "press → follow-up p50, calm / export",
            f"{c['press_to_followup_p50_ms']:.0f} / {e['press_to_followup_p50_ms']:.0f} ms",
            "",
        ),
        (
            "press → follow-up p99, calm / export",
            f"{c['press_to_followup_p99_ms']:.0f} / {e['press_to_followup_p99_ms']:.0f} ms",
            "export < 1000 ms",
        ),
        (
            "press → follow-up max, calm / export",
            f"{c['press_to_followup_max_ms']:.0f} / {e['press_to_followup_max_ms']:.0f} ms",
            "",
        ),
        ("p99 ratio export / calm", str(figures["p99_ratio_export_over_calm"]), "2-3"),
        ("presses counted, calm / export", f"{c['presses']} / {e['presses']}", ""),
        (
            "exports completed / asked",
            f"{figures['exports_completed']} / {figures['exports']}",
            "all",
        ),
        (
            "export duration min / max",
            f"{min(durations):.1f} / {max(durations):.1f} s" if durations else "-",
            "",
        ),
        (
            "export rows (cap) / bytes",
            f"{max(figures['export_rows'], default=0):,} ({MAX_EXPORT_ROWS:,}) / "
            f"{max(figures['export_bytes'], default=0):,}",
            "",
        ),
        ("answers lost or altered", str(figures["answers_lost_or_altered"]), "0"),
        (
            "customers without a reply, calm / export phases",
            f"{c['customers_without_reply']} / {figures['export_phase_customers_without_reply']}",
            "0",
        ),
        (
            "bot process CPU s per phase",
            " / ".join(f"{p['bot_cpu_s']:.1f}" for p in figures["phases"]),
            "",
        ),
        (
            "its children's CPU s per phase (export workers)",
            " / ".join(f"{p['children_cpu_s']:.1f}" for p in figures["phases"]),
            "",
        ),
        (
            "export phases: seconds / bot CPU s / children CPU s",
            f"{figures['export_phases_s']:.1f} / {figures['export_phases_bot_cpu_s']:.1f} / "
            f"{figures['export_phases_children_cpu_s']:.1f}",
            "",
        ),
        (
            "load average (1 min) before / after",
            f"{figures['load_before'][0]:.2f} / {figures['load_after'][0]:.2f}",
            "",
        ),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point: calm and export phases interleaved, once per mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=20.0, help="presses per second")
    parser.add_argument("--per-phase", type=int, default=400, help="customers per phase")
    parser.add_argument(
        "--phases", default="calm,export,calm,export", help="comma-separated calm/export"
    )
    parser.add_argument(
        "--modes",
        default="inline,process",
        help="comma-separated: inline (the export in the bot's process), process (a child)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="times the modes take turns")
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep the year here")
    parser.add_argument(
        "--quick", action="store_true", help="100,000 answers, 100 customers per phase"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.answers, args.per_phase = 100_000, 100
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not set(phases) <= {"calm", "export"}:
        parser.error("--phases takes calm and export only")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or not set(modes) <= set(MODES):
        parser.error("--modes takes inline and process only")
    figures = asyncio.run(
        run(args.answers, args.per_phase, args.rate, phases, args.keep, modes, args.rounds)
    )
    for number, by_mode in enumerate(figures["runs"], 1):
        print_table(
            f"Reports under load, run {number} ({by_mode['mode']}): {args.answers:,} answers; "
            f"customers press at {args.rate:g}/s while an admin runs {EXPORT_COMMAND} "
            f"({' / '.join(phases)})",
            _mode_rows(by_mode),
        )
    print(f"(written to {write_result('reports_under_load', figures)})")
    return figures


if __name__ == "__main__":
    main()
