"""Fixtures of the ops tests: a dispatcher that sends through a real PTB Bot to the
in-process Telegram stand-in, on the shared fake clock and database (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.sender import Sender
from bot.core.contact_rules import ContactRules
from bot.core.linking import make_payload
from bot.usecases.dispatching import Dispatcher
from standin import Limits, SimUser, StandIn
from storage import Database, customers
from tests.support.clock import Clock

TOKEN = "123456:TEST-ops-token"
SECRET = "ops-test-link-secret-0123456789abcdef012345"
COMPANY = "Acme Delivery"
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
async def server() -> AsyncIterator[StandIn]:
    """The Telegram stand-in, with rates high enough that tests are not slowed down."""
    async with StandIn(
        token=TOKEN, limits=Limits(global_per_second=1000.0, per_chat_burst=4)
    ) as stand_in:
        yield stand_in


@dataclass
class Rig:
    """Everything needed to drive sends in-process."""

    server: StandIn
    db: Database
    clock: Clock[datetime]
    rules: ContactRules
    sender: Sender
    dispatcher: Dispatcher

    async def link(self, customer_id: str, **attributes: object) -> SimUser:
        """A stand-in user who pressed Start, linked to ``customer_id`` in the database."""
        user = self.server.add_user()
        await user.start(make_payload(SECRET, customer_id))  # Telegram now lets the bot write
        async with self.db.transaction() as tx:
            await customers.upsert(tx, customer_id, self.clock(), attributes)
            await customers.link_chat(tx, customer_id, user.id, "en", self.clock())
        return user

    async def drain(self, rounds: int = 20) -> None:
        """Run dispatcher passes until nothing due is left."""
        for _ in range(rounds):
            if await self.dispatcher.run_once() == 0:
                return
        raise AssertionError("the dispatcher kept finding due surveys")


def rules_for(**overrides: object) -> ContactRules:
    """Contact rules with quiet hours off unless given (tests opt in to each rule)."""
    values: dict[str, object] = {"default_tz": UTC_ZONE, "quiet_hours": None}
    values.update(overrides)
    return ContactRules(**values)  # type: ignore[arg-type]


@pytest.fixture
async def rig(server: StandIn, db: Database, clock: Clock[datetime]) -> AsyncIterator[Rig]:
    """A Sender and Dispatcher on the fake clock, sending to the stand-in."""
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
        sender = Sender(bot, db, RateLimiter(500.0, 100.0), clock, backoff_base=0.01)
        rules = rules_for()
        dispatcher = Dispatcher(db, sender, COMPANY, clock, rules=rules)
        yield Rig(server, db, clock, rules, sender, dispatcher)
