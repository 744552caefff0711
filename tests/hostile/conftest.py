"""One bot process for the whole fuzzing module: hostile input goes to a real child
process, whose survival (it must not exit) is part of what is tested."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, TOKEN, Harness


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_harness(
    tmp_path_factory: pytest.TempPathFactory, subprocess_bots: HarnessFactory
) -> AsyncIterator[Harness]:
    """One stand-in and bot process for every test of the module."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = subprocess_bots(server, tmp_path_factory.mktemp("bot"), None)
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()
