"""What happens in what order: the stand-in starts, the bot starts against it, the customers
act all at once, an admin asks for the digest and the export, the bot is stopped with
SIGTERM, and the report is printed from the bot's database."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from pathlib import Path

from standin.botprocess import BotProcess, offline_env
from standin.demo.company import ADMIN_GROUP_TITLE, BOT_USERNAME, COMPANY, QUESTIONNAIRE
from standin.demo.customers import plan_customers
from standin.demo.errors import DemoError
from standin.demo.outcomes import check_outcomes, read_outcomes
from standin.demo.report import print_failure, report
from standin.demo.simulated import run_customers
from standin.server import StandIn
from standin.users import SimGroup, SimUser
from storage import Database, themes

BOT_START_TIMEOUT = 30.0  # seconds until the bot must be polling the stand-in
STOP_TIMEOUT = 15.0  # seconds the bot gets to shut down after SIGTERM
THEMES_TIMEOUT = 30.0  # seconds for the themes job to theme every comment
DIGEST_TIMEOUT = 60.0  # seconds for the digest to reach the (paced) admin group


def fake_token() -> str:
    """A random token of BotFather's shape (digits, colon, 35 URL-safe characters)."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


def bot_environment(server: StandIn, db_path: Path, secret: str, admin_chat: int) -> dict[str, str]:
    """The bot's settings: all from the environment, none from a ``.env`` file."""
    return offline_env(
        server,
        db_path,
        link_secret=secret,
        company=COMPANY,
        bot_username=BOT_USERNAME,
        extra={
            "NPSBOT_ADMIN_CHAT_IDS": str(admin_chat),
            # The scheduled digest is off; the demo asks for it with /digest at the end.
            "NPSBOT_DIGEST_TIME": "off",
            "NPSBOT_DIGEST_ATTRIBUTE": "plan",
            "NPSBOT_QUESTIONNAIRE": str(QUESTIONNAIRE),
            # Comments are themed beside the conversation; the demo's run is short.
            "NPSBOT_THEMES_INTERVAL_SECONDS": "2",
        },
    )


async def wait_themed(db_path: Path, bot: BotProcess, timeout: float) -> None:  # noqa: ASYNC109
    """Return once the bot's themes job has themed every comment (the digest shows them)."""
    deadline = asyncio.get_running_loop().time() + timeout
    db = await Database.open(db_path, migrate=False)
    try:
        while True:
            async with db.read() as tx:
                if not await themes.pending_comments(tx, 1):
                    return
            if bot.exited:
                raise DemoError("the bot exited while theming the comments")
            if asyncio.get_running_loop().time() > deadline:
                raise DemoError(f"the comments were not themed within {timeout:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await db.close()


async def wait_polling(bot: BotProcess, server: StandIn, timeout: float) -> None:  # noqa: ASYNC109
    """Return once the bot polls the stand-in; DemoError if it exits or never does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while server.stats.calls.get("getUpdates", 0) == 0:
        if bot.exited:
            assert bot.proc is not None
            raise DemoError(f"the bot exited during start-up (code {bot.proc.returncode})")
        if asyncio.get_running_loop().time() > deadline:
            raise DemoError(f"the bot did not start polling within {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def request_digest(admins: SimGroup, admin: SimUser) -> list[str]:
    """An admin sends /digest in the admin group; wait for the chart and the text.

    The group is paced at 19 messages a minute and detractor alerts may be queued ahead of
    the digest, hence the generous timeout. Returns the problems (empty on success).
    """
    mark = admins.last_message_id
    await admins.send_text(admin, "/digest")
    try:
        photo = await admins.wait_for_message(
            lambda m: m.kind == "photo", timeout=DIGEST_TIMEOUT, since=mark
        )
        await admins.wait_for_message(
            lambda m: (m.text or "").startswith("NPS digest"), timeout=DIGEST_TIMEOUT, since=mark
        )
    except TimeoutError as exc:
        return [f"the digest did not reach the admin group: {exc}"]
    if not (photo.file_bytes or b"").startswith(b"\x89PNG\r\n\x1a\n"):
        return ["the digest's chart is not a PNG image"]
    return []


async def request_export(admins: SimGroup, admin: SimUser) -> list[str]:
    """An admin sends /export in the admin group; wait for the CSV document."""
    mark = admins.last_message_id
    await admins.send_text(admin, "/export")
    try:
        document = await admins.wait_for_message(
            lambda m: m.kind == "document", timeout=DIGEST_TIMEOUT, since=mark
        )
    except TimeoutError as exc:
        return [f"the export did not reach the admin group: {exc}"]
    text = (document.file_bytes or b"").decode("utf-8", "replace")
    header = next(csv.reader(io.StringIO(text, newline="")), [])  # text cells are quoted
    if "drivers" not in header:
        return [f"the export has no drivers column: {header!r}"]
    return []


async def demo_in(tmp: Path, count: int, seed: int) -> bool:
    """Run the demo with its files in ``tmp``; print the report or the failure."""
    people = plan_customers(count, seed)
    secret = secrets.token_urlsafe(32)
    db_path = tmp / "npsbot.sqlite3"
    loop = asyncio.get_running_loop()
    async with StandIn(token=fake_token(), bot_username=BOT_USERNAME) as server:
        admin = server.add_user("Alex", username="alex_acme_cx")
        admins = server.add_group(ADMIN_GROUP_TITLE, members=[admin])
        bot = BotProcess(bot_environment(server, db_path, secret, admins.id), tmp / "bot.log")
        print(
            f"NPS bot demo: {count} simulated customers of {COMPANY} (seed {seed}), "
            f"local Telegram stand-in at {server.base_url.removesuffix('/bot')}"
        )
        started = loop.time()
        problems: list[str] = []
        try:
            bot.start()
            await wait_polling(bot, server, BOT_START_TIMEOUT)
            print(f"Bot running (pid {bot.proc.pid if bot.proc else '?'}); customers at work…")
            db = await Database.open(db_path, migrate=False)
            try:
                problems = await run_customers(people, server, db, secret)
            finally:
                await db.close()
            if not problems:
                await wait_themed(db_path, bot, THEMES_TIMEOUT)
                print("Customers done; an admin asks for the digest with /digest…")
                problems = await request_digest(admins, admin)
            if not problems:
                print("…and the CSV export with /export…")
                problems = await request_export(admins, admin)
        except DemoError as exc:
            problems.append(str(exc))
        finally:
            was_running = bot.proc is not None and not bot.exited
            code = await bot.stop_async(STOP_TIMEOUT)
            if was_running and code != 0:
                problems.append(f"the bot exited with code {code} after SIGTERM")
            elif not was_running and bot.proc is not None and not problems:
                problems.append(f"the bot exited on its own (code {code})")
        seconds = loop.time() - started
        if problems:
            print_failure(problems, bot, tmp)
            return False
        outcomes, by_status = await read_outcomes(db_path, people)
        problems = check_outcomes(outcomes)
        print(report(people, outcomes, by_status, server, admins, seconds))
        if problems:
            print_failure(
                ["the database disagrees with what the customers did:", *problems], bot, tmp
            )
            return False
    print("\nDemo finished: the bot was stopped with SIGTERM and shut down cleanly.")
    return True
