"""Fixtures: a stand-in and the real bot against it.

Every harness is built by one of the two factories of tests/conftest.py (``inprocess_bots``,
``subprocess_bots``); the one a test asks for, directly or through a fixture, is its tier.

``shared_harness`` is one in-process bot for a whole module, for tests that only need fresh
customers; ``harness`` is a child process per test (for restarts and kills). Moving a module
between the two is a change of fixture, not of test code. PTB's HTTP client is bound to the
event loop it started in, so a module-scoped harness runs in the module's loop
(``loop_scope="module"``), as must the module's tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, Harness


@pytest.fixture
async def harness(tmp_path: Path, subprocess_bots: HarnessFactory) -> AsyncIterator[Harness]:
    """A running stand-in and bot process; the bot is stopped (SIGTERM) afterwards."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = subprocess_bots(server, tmp_path, None)
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_harness(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[Harness]:
    """One stand-in and in-process bot for every test of a module (on each engine, as every
    harness: tests/conftest.py)."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        h = inprocess_bots(server, tmp_path_factory.mktemp("bot"), None)
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()
