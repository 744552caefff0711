"""Fixtures: a stand-in in the test's event loop and a real PTB Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot

from standin import FakeClock, Limits, StandIn

TOKEN = "123456:TEST-token"


@pytest.fixture
def clock() -> FakeClock:
    """A hand-driven clock for rate limits and callback timeouts."""
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[StandIn]:
    """A running stand-in whose limits follow the fake clock."""
    async with StandIn(
        token=TOKEN, limits=Limits(), clock=clock, first_update_id=500_000
    ) as stand_in:
        yield stand_in


@pytest.fixture
async def bot(server: StandIn) -> AsyncIterator[Bot]:
    """A real PTB Bot talking to the stand-in."""
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def http(server: StandIn) -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


def api(server: StandIn, method: str) -> str:
    """URL of a Bot API method on the stand-in."""
    return f"{server.base_url}{TOKEN}/{method}"
