"""``npsbot check``: reach everything the bot will need, and say what will surprise.

Each finding is *fine* (``ok``), *wrong* (the bot will not work as configured: exit code 1)
or a *note*: a default that works as designed but surprises newcomers (quiet hours now,
the contact interval, the relationship cycle). Nothing is written: the database is opened
without migrating, no message is sent, webhook endpoints get a ``HEAD`` request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

import aiohttp
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.core.contact_rules import end_of_quiet_hours, in_quiet_hours
from bot.core.database_url import parse_target
from bot.settings import Settings
from storage import SCHEMA_VERSION, Database, SchemaTooNewError
from storage.migrations import schema_version

WEBHOOK_TIMEOUT_SECONDS = 10


class Verdict(Enum):
    """How a finding reads."""

    OK = "ok"
    WRONG = "WRONG"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    verdict: Verdict
    subject: str
    detail: str

    def line(self) -> str:
        return f"{self.verdict.value:<6} {self.subject}: {self.detail}"


@dataclass
class Report:
    """Every finding, in the order checked; the username ``getMe`` returned."""

    findings: list[Finding] = field(default_factory=list)
    username: str | None = None

    def add(self, verdict: Verdict, subject: str, detail: str) -> None:
        self.findings.append(Finding(verdict, subject, detail))

    @property
    def fine(self) -> bool:
        """Nothing is wrong (notes do not count)."""
        return all(f.verdict is not Verdict.WRONG for f in self.findings)

    def text(self) -> str:
        return "\n".join(f.line() for f in self.findings)


def bot_for(settings: Settings) -> Bot:
    """A PTB Bot for the configured server, without the Application around it."""
    return Bot(
        settings.token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=settings.api_base_file_url,
    )


async def bot_username(settings: Settings) -> str:
    """NPSBOT_BOT_USERNAME, else the username ``getMe`` returns (TelegramError if it fails)."""
    if settings.bot_username:
        return settings.bot_username
    async with bot_for(settings) as bot:
        return bot.username


async def _check_bot_api(settings: Settings, report: Report) -> Bot | None:
    bot = bot_for(settings)
    try:
        await bot.initialize()  # getMe
    except InvalidToken:
        report.add(Verdict.WRONG, "Bot API", "NPSBOT_TOKEN was rejected (getMe)")
        return None
    except TelegramError as exc:
        report.add(Verdict.WRONG, "Bot API", f"{settings.api_base_url} unreachable: {exc.message}")
        return None
    report.username = bot.username
    report.add(Verdict.OK, "Bot API", f"getMe: @{bot.username}")
    if settings.bot_username and settings.bot_username.lower() != bot.username.lower():
        report.add(
            Verdict.WRONG,
            "NPSBOT_BOT_USERNAME",
            f"@{settings.bot_username}, but the token is @{bot.username}'s: deep links break",
        )
    return bot


async def _check_database(settings: Settings, report: Report) -> None:
    target = parse_target(settings.database_path)
    path = target.describe()  # a PostgreSQL URL without its password
    if target.engine == "sqlite" and not await asyncio.to_thread(Path(target.location).exists):
        report.add(Verdict.NOTE, "database", f"{path} does not exist yet: `npsbot run` creates it")
        return
    try:
        db = await Database.open(settings.database_path, migrate=False)
    except SchemaTooNewError as exc:
        report.add(Verdict.WRONG, "database", str(exc))
        return
    except Exception as exc:  # any failure to open is the finding
        report.add(Verdict.WRONG, "database", f"{path} cannot be opened: {exc}")
        return
    try:
        async with db.read() as tx:
            version = await schema_version(tx)
    finally:
        await db.close()
    if version < SCHEMA_VERSION:
        report.add(
            Verdict.NOTE,
            "database",
            f"{path} at schema {version}; `npsbot run` migrates it to {SCHEMA_VERSION}",
        )
    else:
        report.add(Verdict.OK, "database", f"{path} (schema {version})")


async def _check_admin_chats(settings: Settings, bot: Bot | None, report: Report) -> None:
    if not settings.admin_chat_ids:
        report.add(
            Verdict.NOTE, "admin chats", "none (NPSBOT_ADMIN_CHAT_IDS): no digests or alerts"
        )
        return
    if bot is None:
        return  # the Bot API finding already says why
    for chat_id in settings.admin_chat_ids:
        try:
            chat = await bot.get_chat(chat_id)
        except TelegramError as exc:
            report.add(Verdict.WRONG, f"admin chat {chat_id}", f"getChat failed: {exc.message}")
            continue
        name = chat.title or chat.username or chat.first_name or chat.type
        report.add(Verdict.OK, f"admin chat {chat_id}", f"{name} ({chat.type})")


async def _check_receiving(settings: Settings, bot: Bot | None, report: Report) -> None:
    """How updates will arrive, and whether a webhook set with Telegram agrees."""
    if bot is None:
        return  # the Bot API finding already says why
    try:
        info = await bot.get_webhook_info()
    except TelegramError as exc:
        report.add(Verdict.WRONG, "updates", f"getWebhookInfo failed: {exc.message}")
        return
    receiving = settings.receiving
    if not receiving.webhook:
        if info.url:
            report.add(
                Verdict.NOTE,
                "updates",
                "long polling; a webhook is set with Telegram, and `npsbot run` deletes it",
            )
        else:
            report.add(Verdict.OK, "updates", "long polling")
        return
    where = f"{receiving.listen_host}:{receiving.listen_port}{receiving.path}"
    if info.url != receiving.webhook_url:
        report.add(
            Verdict.NOTE,
            "updates",
            f"webhook mode (listening on {where}); `npsbot run` registers "
            f"NPSBOT_TELEGRAM_WEBHOOK_URL with Telegram at start",
        )
    elif info.last_error_message:
        report.add(
            Verdict.WRONG,
            "updates",
            f"webhook set, but Telegram's latest delivery failed: {info.last_error_message} "
            f"({info.pending_update_count} updates wait)",
        )
    else:
        report.add(Verdict.OK, "updates", f"webhook set (listening on {where})")


async def _check_webhooks(settings: Settings, report: Report) -> None:
    timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for endpoint in settings.webhooks.endpoints:
            subject = f"webhook {endpoint.number}"
            try:
                # HEAD changes nothing on any sane receiver; any HTTP answer (even 405)
                # shows the endpoint is reachable.
                async with session.head(endpoint.url, allow_redirects=False) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                report.add(Verdict.WRONG, subject, f"{endpoint.url} unreachable ({detail})")
                continue
            verdict = Verdict.WRONG if status >= 500 else Verdict.OK
            report.add(verdict, subject, f"{endpoint.url} answered HEAD with {status}")


def _surprises(settings: Settings, now: datetime, report: Report) -> None:
    ops = settings.ops
    tz = settings.timezone
    if in_quiet_hours(now, ops.quiet_hours, tz):
        assert ops.quiet_hours is not None
        until = end_of_quiet_hours(now, ops.quiet_hours, tz).astimezone(tz)
        report.add(
            Verdict.NOTE,
            "quiet hours",
            f"on now ({ops.quiet_hours.start:%H:%M}-{ops.quiet_hours.end:%H:%M} {tz.key}): "
            f"surveys wait until {until:%H:%M} (NPSBOT_QUIET_HOURS=off to test now)",
        )
    elif ops.quiet_hours is not None:
        report.add(
            Verdict.OK,
            "quiet hours",
            f"{ops.quiet_hours.start:%H:%M}-{ops.quiet_hours.end:%H:%M} {tz.key}, not now",
        )
    if ops.contact_interval.days > 0:
        report.add(
            Verdict.NOTE,
            "contact interval",
            f"one survey per customer every {ops.contact_interval.days} days: a second test "
            "survey to the same customer is skipped (NPSBOT_CONTACT_INTERVAL_DAYS=0 to test)",
        )
    if ops.relationship_cycle is not None:
        report.add(
            Verdict.NOTE,
            "relationship cycle",
            f"on: every linked customer is surveyed every {ops.relationship_cycle.days} days "
            "without any event (NPSBOT_RELATIONSHIP_CYCLE_DAYS=off to disable)",
        )
    if not ops.api_enabled:
        report.add(
            Verdict.NOTE, "ops API", "off (NPSBOT_API_TOKENS): no events, probes or /metrics"
        )
    else:
        report.add(Verdict.OK, "ops API", f"served on {ops.api_host}:{ops.api_port}")


async def run_check(settings: Settings, now: datetime) -> Report:
    """Every check, in order; never raises for what it finds."""
    report = Report()
    report.add(Verdict.OK, "settings", "read and valid")
    bot = await _check_bot_api(settings, report)
    try:
        await _check_database(settings, report)
        await _check_admin_chats(settings, bot, report)
        await _check_receiving(settings, bot, report)
        await _check_webhooks(settings, report)
    finally:
        if bot is not None:
            await bot.shutdown()
    _surprises(settings, now, report)
    return report


def check(settings: Settings, now: datetime) -> int:
    """Print the report; the exit code: 0 when nothing is wrong, else 1."""
    report = asyncio.run(run_check(settings, now))
    print(report.text())
    print("all fine" if report.fine else "something is wrong: see the WRONG lines")
    return 0 if report.fine else 1
