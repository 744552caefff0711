"""The scheduled digest in the real bot process: catch-up at start-up, on time at the
configured moment, and never twice across a restart (recorded in the database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from standin import StandIn
from storage import Database, digests
from tests.admin.conftest import OPS_QUIET
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, TOKEN

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def zone_near_noon(now: datetime) -> ZoneInfo:
    """A fixed-offset zone where it is about noon now, so the test never spans midnight."""
    offset = 12 - now.hour
    if offset > 12:
        offset -= 24
    if offset < -11:
        offset += 24
    # Etc/GMT zones have inverted signs: Etc/GMT-3 is UTC+3.
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    return ZoneInfo(name)


@pytest.mark.timeout(90)
async def test_catch_up_on_time_and_never_twice_across_a_restart(
    subprocess_bots: HarnessFactory, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    tz = zone_near_noon(now)
    today = now.astimezone(tz).date()
    at_local = (now.astimezone(tz) + timedelta(seconds=9)).replace(microsecond=0)
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        admin = server.add_user("Dana")
        h = subprocess_bots(
            server,
            tmp_path,
            {
                **OPS_QUIET,
                "NPSBOT_ADMIN_CHAT_IDS": str(admin.id),
                "NPSBOT_TIMEZONE": tz.key,
                "NPSBOT_DIGEST_TIME": at_local.strftime("%H:%M:%S"),
                # Job runs are logged at DEBUG: the restart check waits for one.
                "NPSBOT_LOG_LEVEL": "DEBUG",
            },
        )
        # The record says the last digest sent was three days ago: the bot was down since.
        db = await Database.open(h.database)
        try:
            async with db.transaction() as tx:
                three_days_ago = today - timedelta(days=3)
                assert await digests.claim(tx, three_days_ago, now)
                await digests.mark_sent(tx, three_days_ago, 1, now)
        finally:
            await db.close()
        await admin.start()

        def photos() -> list[str]:
            return [m.caption or "" for m in admin.messages if m.kind == "photo"]

        def day_in(caption: str) -> date:
            return date.fromisoformat(caption.split(" · ")[1].split("\n")[0])

        await h.start_bot()
        try:
            # Catch-up at start-up: the day before yesterday (its moment passed while down).
            await h.wait_for(lambda: len(photos()) >= 1, 20, "the catch-up digest")
            assert [day_in(c) for c in photos()] == [today - timedelta(days=2)]
            assert datetime.now(UTC) < at_local.astimezone(UTC), "catch-up came too late"
            # On time: yesterday's digest at the configured moment, not before.
            await h.wait_for(lambda: len(photos()) >= 2, 30, "the on-time digest")
            arrived = datetime.now(UTC)
            assert arrived >= at_local.astimezone(UTC)
            assert arrived - at_local.astimezone(UTC) < timedelta(seconds=15)
            assert day_in(photos()[1]) == today - timedelta(days=1)
            await admin.wait_for(
                lambda: sum("NPS digest" in (m.text or "") for m in admin.messages) >= 2, 15
            )
            for message in admin.messages:
                if message.kind == "photo":
                    assert message.file_bytes is not None
                    assert message.file_bytes.startswith(PNG_SIGNATURE)

            # Restart: the start-up check runs again and finds nothing due: never twice.
            await h.bot.stop_async()
            checks = h.bot.log().count("job digest-check ran")
            await h.start_bot()
            await h.wait_for(
                lambda: h.bot.log().count("job digest-check ran") > checks,
                20,
                "the start-up digest check after the restart",
            )
            assert len(photos()) == 2, photos()
        finally:
            await h.bot.stop_async()
        db = await Database.open(h.database, migrate=False)
        try:
            async with db.read() as tx:
                assert await digests.status_of(tx, today - timedelta(days=1)) == "sent"
                assert await digests.status_of(tx, today - timedelta(days=2)) == "sent"
                assert await digests.last_day(tx) == today - timedelta(days=1)
        finally:
            await db.close()
