"""``npsbot check`` against the Telegram stand-in, and the CLI's words and username fallback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from aiohttp import web

from bot import cli
from bot.composition.check import Verdict, run_check
from bot.settings import Settings
from standin import StandIn
from storage import Database, customers
from tests.e2e.harness import BOT_USERNAME, TOKEN
from tests.ops.test_process import free_port
from tests.support.postgres import PostgresServer, url_for

NIGHT = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # inside the default quiet hours
NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
ADMIN = 5_000_001


@pytest.fixture
async def server() -> AsyncIterator[StandIn]:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as stand_in:
        yield stand_in


@pytest.fixture
async def receiver() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook", lambda request: web.Response(status=204))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    await runner.cleanup()


def env_for(server: StandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "NPSBOT_TOKEN": TOKEN,
        "NPSBOT_API_BASE_URL": server.base_url,
        "NPSBOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        "NPSBOT_LINK_SECRET": "check-link-secret-0123456789abcdef0123",
        "NPSBOT_COMPANY_NAME": "Acme",
        **extra,
    }


def verdicts(report: object) -> dict[str, Verdict]:
    return {f.subject: f.verdict for f in report.findings}  # type: ignore[attr-defined]


async def test_everything_reachable_is_fine_and_the_defaults_are_noted(
    server: StandIn, tmp_path: Path, receiver: str
) -> None:
    server.add_user(user_id=ADMIN)
    db = await Database.open(tmp_path / "bot.sqlite3")
    await db.close()
    env = env_for(
        server,
        tmp_path,
        NPSBOT_ADMIN_CHAT_IDS=str(ADMIN),
        NPSBOT_WEBHOOK_1_URL=receiver,
        NPSBOT_WEBHOOK_1_SECRET="s" * 40,
    )
    report = await run_check(Settings.from_env(env), NIGHT)
    found = verdicts(report)
    assert report.fine, report.text()
    assert report.username == BOT_USERNAME
    for subject in (
        "settings",
        "Bot API",
        "database",
        f"admin chat {ADMIN}",
        "updates",
        "webhook 1",
    ):
        assert found[subject] is Verdict.OK, report.text()
    # The defaults that surprise a newcomer testing at night.
    for subject in ("quiet hours", "contact interval", "relationship cycle", "ops API"):
        assert found[subject] is Verdict.NOTE, report.text()
    assert "surveys wait until 09:00" in report.text()
    assert "answered HEAD with 405" in report.text()  # reachable, though POST-only


async def test_what_is_wrong_is_reported_and_fails_the_check(
    server: StandIn, tmp_path: Path
) -> None:
    env = env_for(
        server,
        tmp_path,
        NPSBOT_ADMIN_CHAT_IDS="-100999",  # a chat the bot is not in
        NPSBOT_WEBHOOK_1_URL=f"http://127.0.0.1:{free_port()}/hook",  # nobody listens
        NPSBOT_WEBHOOK_1_SECRET="s" * 40,
        NPSBOT_QUIET_HOURS="off",
        NPSBOT_CONTACT_INTERVAL_DAYS="0",
        NPSBOT_RELATIONSHIP_CYCLE_DAYS="off",
        NPSBOT_BOT_USERNAME="someone_elses_bot",
    )
    report = await run_check(Settings.from_env(env), NOON)
    found = verdicts(report)
    assert not report.fine
    assert found["admin chat -100999"] is Verdict.WRONG
    assert found["webhook 1"] is Verdict.WRONG
    assert found["NPSBOT_BOT_USERNAME"] is Verdict.WRONG
    assert found["database"] is Verdict.NOTE  # not created yet: run creates it
    for subject in ("quiet hours", "contact interval", "relationship cycle"):
        assert subject not in found
    assert not (tmp_path / "bot.sqlite3").exists()  # the check writes nothing


async def test_a_postgresql_database_is_checked_without_migrating_and_named_without_password(
    server: StandIn, tmp_path: Path, postgres: PostgresServer
) -> None:
    async def database_line(url: str) -> str:
        env = env_for(server, tmp_path, NPSBOT_DATABASE=url)
        report = await run_check(Settings.from_env(env), NOON)
        (line,) = [f for f in report.findings if f.subject == "database"]
        return f"{line.verdict.name} {line.detail}"

    migrated, empty = postgres.acquire(), postgres.create(migrated=False)
    try:
        with_password = url_for(migrated).replace("postgres@", "postgres:secret-pw@")
        line = await database_line(with_password)
        assert line.startswith("OK ") and "(schema " in line, line
        assert "secret-pw" not in line and ":***@" in line
        line = await database_line(url_for(empty))
        assert line.startswith("NOTE ") and "at schema 0" in line, line
        with psycopg.connect(url_for(empty)) as conn:  # the check created nothing
            assert conn.execute("SELECT to_regclass('npsbot_schema')").fetchone() == (None,)
        line = await database_line("postgresql://postgres@127.0.0.1:1/x")
        assert line.startswith("WRONG ") and "cannot be opened" in line, line
    finally:
        postgres.release(migrated)
        postgres.drop(empty)


async def test_a_rejected_token_is_wrong(server: StandIn, tmp_path: Path) -> None:
    env = env_for(server, tmp_path, NPSBOT_TOKEN="999999:" + "x" * 30)
    report = await run_check(Settings.from_env(env), NOON)
    assert verdicts(report)["Bot API"] is Verdict.WRONG and not report.fine


async def test_the_cli_exit_code_and_words(
    server: StandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # cli.main runs its own event loop (asyncio.run), as the console script does: in a
    # thread, so that this loop keeps serving the stand-in.
    for key, value in env_for(server, tmp_path, NPSBOT_ENV_FILE="/dev/null").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as ended:
        await asyncio.to_thread(cli.main, ["check"])
    assert ended.value.code == 0, capsys.readouterr().out
    assert "all fine" in capsys.readouterr().out
    # link: the username comes from getMe when NPSBOT_BOT_USERNAME is unset.
    await asyncio.to_thread(cli.main, ["link", "cust-1"])
    assert capsys.readouterr().out.startswith(f"https://t.me/{BOT_USERNAME}?start=")
    # survey: the same word as the API for a survey waiting to be sent.
    db = await Database.open(tmp_path / "bot.sqlite3")
    async with db.transaction() as tx:
        await customers.upsert(tx, "cust-1", NOON, {})
        await customers.link_chat(tx, "cust-1", 7001, "en", NOON)
    await db.close()
    await asyncio.to_thread(cli.main, ["survey", "cust-1"])
    assert json.loads(capsys.readouterr().out)["status"] == "queued"


async def test_how_updates_arrive_is_reported_with_what_telegram_says_of_the_webhook(
    server: StandIn, tmp_path: Path
) -> None:
    from standin.webhook import Webhook

    webhook = {
        "NPSBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.com/telegram",
        "NPSBOT_TELEGRAM_WEBHOOK_SECRET": "a" * 32,
    }
    polling = Settings.from_env(env_for(server, tmp_path))
    hooked = Settings.from_env(env_for(server, tmp_path, **webhook))

    async def updates(settings: Settings) -> tuple[Verdict, str]:
        report = await run_check(settings, NOON)
        (finding,) = [f for f in report.findings if f.subject == "updates"]
        return finding.verdict, finding.detail

    assert (await updates(polling)) == (Verdict.OK, "long polling")
    verdict, detail = await updates(hooked)
    assert verdict is Verdict.NOTE and "registers" in detail  # not set yet
    server.pusher.set(Webhook("https://bot.example.com/telegram", "a" * 32))
    verdict, detail = await updates(hooked)
    assert verdict is Verdict.OK and "127.0.0.1:8089/telegram" in detail
    assert (await updates(polling))[0] is Verdict.NOTE  # run would delete it
    assert server.pusher.webhook is not None
    server.pusher.webhook.last_error_date = 1_700_000_000
    server.pusher.webhook.last_error_message = "Connection refused"
    verdict, detail = await updates(hooked)
    assert verdict is Verdict.WRONG and "Connection refused" in detail
