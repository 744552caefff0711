"""Fixtures: a stand-in per test and the real bot process against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standin import StandIn
from tests.e2e.harness import BOT_USERNAME, TOKEN, Harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A running stand-in and bot; the bot is stopped (SIGTERM) afterwards."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = Harness(server, tmp_path)
        await h.start_bot()
        try:
            yield h
        finally:
            h.bot.stop()
