"""Fixtures for the admin side: a bot with an admin group, against the stand-in."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
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
    """A running bot with its admin chats: the private chat of ``admin`` and, when there is
    one, ``group`` (he is a member). The private chat is paced at 1 message/s instead of the
    group's 20/min, so tests that need no group use it."""

    h: Harness
    group: SimGroup | None
    admin: SimUser


@contextlib.asynccontextmanager
async def admin_bot(
    factory: HarnessFactory,
    tmp: Path,
    env: Mapping[str, str],
    *,
    group: bool = False,
) -> AsyncIterator[AdminWorld]:
    """A stand-in and a bot whose admin is the user Alex (and, with ``group``, the group
    "NPS admins" he is in), the ops side's schedules quiet and the scheduled digest off;
    ``env`` adds settings. Alex has started the bot, so it may write to him."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        admin = server.add_user("Alex", username="alex_admin")
        admins = server.add_group("NPS admins", members=[admin]) if group else None
        chats = f"{admins.id},{admin.id}" if admins is not None else str(admin.id)
        settings = {
            **OPS_QUIET,
            "NPSBOT_ADMIN_CHAT_IDS": chats,
            "NPSBOT_DIGEST_TIME": "off",
            **env,
        }
        h = factory(server, tmp, settings)
        await h.start_bot()
        await admin.start()
        await admin.wait_for(lambda: bool(admin.messages), timeout=10)
        try:
            yield AdminWorld(h, admins, admin)
        finally:
            await h.bot.stop_async()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def admin_world(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[AdminWorld]:
    """One stand-in and in-process bot (admin group configured, scheduled digest off) per module."""
    async with admin_bot(inprocess_bots, tmp_path_factory.mktemp("admin"), {}, group=True) as world:
        yield world
