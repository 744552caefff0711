"""Fixtures: a stand-in and the real bot process against it.

``harness`` is per test (for restarts and kills); ``shared_harness`` is one bot for a whole
module, for tests that only need fresh customers (much faster).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

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
            await h.bot.stop_async()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    """One stand-in and bot for every test of a module."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = Harness(server, tmp_path_factory.mktemp("bot"))
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()
