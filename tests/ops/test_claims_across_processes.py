"""Two processes on one PostgreSQL database claim the same work: each due survey is sent by
one of them, once, and each webhook delivery is posted by one of them, once.

"Two processes" are two :class:`Database` handles and two leases on one database, each with
its own dispatcher (or deliverer), run at the same time over the same due rows: the worst
case, as if both looked at the same batch (neither is counted as a sender, so neither
leaves part of the batch to the other).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from telegram import Bot

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.sender import Sender
from bot.adapters.webhooks.deliverer import WebhookDeliverer
from bot.core.callback_data import SCORE
from bot.core.delivery import CallResult, Urgency
from bot.core.records import SurveyKind, SurveyStatus
from bot.settings import Endpoint, WebhookSettings
from bot.usecases.dispatching import Dispatcher
from bot.usecases.webhook_events import emit
from standin import StandIn
from storage import Database, customers, surveys, webhooks
from storage.lease import Lease, open_lease
from tests.ops.conftest import COMPANY, TOKEN, rules_for
from tests.support.clock import Clock
from tests.support.postgres import PostgresServer, url_for

CUSTOMERS = 60
WEBHOOK_SECRET = "whsec-0123456789abcdef0123456789abcdef"


@pytest.fixture
async def pg_pair(postgres: PostgresServer) -> AsyncIterator[tuple[Database, Database]]:
    """Two handles on one fresh PostgreSQL database, as two processes hold them."""
    name = postgres.acquire()
    first = await Database.open(url_for(name))
    second = await Database.open(url_for(name), migrate=False)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()
        postgres.release(name)


class RecordingSender(Sender):
    """A sender that notes which survey each question it sends is for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions: list[int] = []

    async def call(
        self,
        chat_id: int,
        method: str,
        params: dict[str, Any],
        *,
        urgency: Urgency = Urgency.REPLY,
    ) -> CallResult:
        button = params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        press = SCORE.parse(button)
        assert press is not None
        self.questions.append(press.survey_id)
        # Give the other process time to look at the same survey meanwhile.
        await asyncio.sleep(0)
        return await super().call(chat_id, method, params, urgency=urgency)


async def test_two_dispatchers_over_the_same_due_surveys_send_each_once(
    server: StandIn, pg_pair: tuple[Database, Database], clock: Clock[datetime]
) -> None:
    first_db, second_db = pg_pair
    users = [server.add_user() for _ in range(CUSTOMERS)]
    for user in users:
        user.mark_started()
    async with first_db.transaction() as tx:
        for i, user in enumerate(users):
            customer = await customers.upsert(tx, f"c{i}", clock(), {})
            await customers.link_chat(tx, f"c{i}", user.id, "en", clock())
            await surveys.create(tx, customer.id, SurveyKind.TRANSACTIONAL, clock())
    leases: list[Lease] = []
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
        try:
            dispatchers: list[Dispatcher] = []
            senders: list[RecordingSender] = []
            for db in (first_db, second_db):
                lease = await open_lease(db.target.engine, db.target.location)
                leases.append(lease)
                sender = RecordingSender(
                    bot, db, RateLimiter(1000.0, 100.0), clock, backoff_base=0.01, lease=lease
                )
                senders.append(sender)
                dispatchers.append(
                    Dispatcher(db, sender, COMPANY, clock, rules=rules_for(), lease=lease)
                )
            for _ in range(10):
                looked = await asyncio.gather(*(d.run_once() for d in dispatchers))
                if not any(looked):
                    break
        finally:
            for lease in leases:
                await lease.close()
    first, second = (set(s.questions) for s in senders)
    assert first and second  # both took part
    assert not first & second  # never the same survey
    assert all(n == 1 for n in Counter([*senders[0].questions, *senders[1].questions]).values())
    assert len(first | second) == CUSTOMERS
    assert [len(u.messages) for u in users] == [1] * CUSTOMERS
    async with first_db.read() as tx:
        counts = await surveys.count_by_status(tx)
    assert counts[SurveyStatus.SENT] == CUSTOMERS


class CountingReceiver:
    """An endpoint that counts each event id it is sent, slow enough that two deliverers'
    passes overlap."""

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts[body["id"]] += 1
        await asyncio.sleep(0.01)
        return web.Response(status=204)


async def test_two_deliverers_over_the_same_due_deliveries_post_each_once(
    pg_pair: tuple[Database, Database], clock: Clock[datetime]
) -> None:
    first_db, second_db = pg_pair
    receiver = CountingReceiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    endpoint = Endpoint(
        number=1,
        url=receiver.url,
        secret=SecretStr(WEBHOOK_SECRET),
        events=frozenset({"answer.scored"}),
    )
    settings = WebhookSettings(endpoints=(endpoint,), timeout_seconds=5)
    try:
        async with first_db.transaction() as tx:
            for _ in range(120):
                await emit(tx, settings, "answer.scored", {"answer": {"score": 3}}, clock())
        deliverers = [WebhookDeliverer(db, settings, clock) for db in (first_db, second_db)]
        async with aiohttp.ClientSession() as session:
            for deliverer in deliverers:
                deliverer._session = session
            for _ in range(10):
                done = await asyncio.gather(*(d.run_once() for d in deliverers))
                if not any(done):
                    break
                clock.now += timedelta(seconds=1)
        async with first_db.read() as tx:
            left = await webhooks.count_pending(tx)
    finally:
        await runner.cleanup()
    assert left == 0
    assert len(receiver.posts) == 120
    assert set(receiver.posts.values()) == {1}
