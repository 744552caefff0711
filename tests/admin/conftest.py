"""Fixtures for the admin side: a bot with an admin group, against the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from standin import SimGroup, SimUser, StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, Harness

#: The ops side's schedules would defer or add surveys at unpredictable moments (quiet
#: hours by the wall clock, contact intervals, relationship cycles): off for these tests.
OPS_QUIET = {
    "NPSBOT_QUIET_HOURS": "off",
    "NPSBOT_CONTACT_INTERVAL_DAYS": "0",
    "NPSBOT_RELATIONSHIP_CYCLE_DAYS": "off",
    "NPSBOT_REMINDER_AFTER_HOURS": "off",
}


@dataclass
class AdminWorld:
    """A running bot with two admin chats: ``group``, and the private chat of ``admin`` (a
    member of the group). The private chat is paced at 1 message/s instead of the group's
    20/min, so tests that need no group use it."""

    h: Harness
    group: SimGroup
    admin: SimUser


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def admin_world(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[AdminWorld]:
    """One stand-in and in-process bot (admin group configured, scheduled digest off) per module."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        admin = server.add_user("Alex", username="alex_admin")
        group = server.add_group("NPS admins", members=[admin])
        tmp: Path = tmp_path_factory.mktemp("admin")
        h = inprocess_bots(
            server,
            tmp,
            {
                **OPS_QUIET,
                "NPSBOT_ADMIN_CHAT_IDS": f"{group.id},{admin.id}",
                "NPSBOT_DIGEST_TIME": "off",
            },
        )
        await h.start_bot()
        await admin.start()  # so the bot may write in the admin's private chat
        await admin.wait_for(lambda: bool(admin.messages), timeout=10)
        try:
            yield AdminWorld(h, group, admin)
        finally:
            await h.bot.stop_async()
