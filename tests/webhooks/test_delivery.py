"""Delivering webhooks to an independent receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.adapters.webhooks.deliverer import WebhookDeliverer, backoff
from bot.adapters.webhooks.signing import SIGNATURE_HEADER
from bot.settings import Endpoint, WebhookSettings
from bot.usecases.webhook_events import emit
from storage import Database, webhooks
from tests.support.clock import Clock

SECRET = "whsec-0123456789abcdef0123456789abcdef"


#: The bot's and the receiver's shared, controllable clock.
CLOCK = Clock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


@dataclass
class Receiver:
    """A receiver that verifies signatures the way the README tells companies to."""

    statuses: list[int] = field(default_factory=list)  # answers to give, then 200
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    seen_ids: set[str] = field(default_factory=set)
    url: str = ""
    clock: Clock = field(default_factory=lambda: CLOCK)
    raw: list[tuple[bytes, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        self.raw.append((body, header))
        # --- the README's verification snippet, verbatim in spirit ---
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        timestamp = int(parts.get("t", "0"))
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        if (
            not hmac.compare_digest(expected.hexdigest(), parts.get("v1", ""))
            or abs(self.clock().timestamp() - timestamp) > 300
        ):
            self.rejected += 1
            return web.Response(status=400)
        event = json.loads(body)
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        if event["id"] not in self.seen_ids:  # replays within the window: processed once
            self.seen_ids.add(event["id"])
            self.received.append(event)
        return web.Response(status=204)


async def serve(rec: Receiver, port: int = 0) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    return runner


@pytest.fixture(autouse=True)
def fresh_clock() -> None:
    CLOCK.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    runner = await serve(rec)
    yield rec
    await runner.cleanup()


def settings_for(url: str, max_age_hours: int = 24) -> WebhookSettings:
    endpoint = Endpoint(
        number=1, url=url, secret=SecretStr(SECRET), events=frozenset({"answer.scored"})
    )
    return WebhookSettings(endpoints=(endpoint,), max_age_hours=max_age_hours, timeout_seconds=2)


async def emit_one(db: Database, settings: WebhookSettings, clock: Clock) -> str:
    async with db.transaction() as tx:
        event_id = await emit(tx, settings, "answer.scored", {"answer": {"score": 3}}, clock())
    assert event_id is not None
    return event_id


async def run(deliverer: WebhookDeliverer, clock: Clock, passes: int = 1) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        deliverer._session = session
        for _ in range(passes):
            await deliverer.run_once()
            clock.now += timedelta(hours=1)


async def state(db: Database) -> list[webhooks.WebhookDelivery]:
    async with db.read() as tx:
        return [d for d in [await webhooks.get(tx, i) for i in range(1, 10)] if d]


async def test_an_event_is_delivered_signed_with_its_id_type_and_data(
    db: Database, receiver: Receiver
) -> None:
    clock, settings = CLOCK, settings_for(receiver.url)
    event_id = await emit_one(db, settings, clock)
    await run(WebhookDeliverer(db, settings, clock), clock)
    assert [e["id"] for e in receiver.received] == [event_id]
    assert receiver.received[0]["type"] == "answer.scored"
    assert receiver.received[0]["data"] == {"answer": {"score": 3}}
    assert (await state(db))[0].delivered_at is not None


async def test_unsubscribed_events_are_not_recorded(db: Database, receiver: Receiver) -> None:
    clock = CLOCK
    async with db.transaction() as tx:
        assert await emit(tx, settings_for(receiver.url), "survey.sent", {}, clock()) is None
    assert await state(db) == []


async def test_5xx_and_429_are_retried_until_delivered(db: Database, receiver: Receiver) -> None:
    clock, settings = CLOCK, settings_for(receiver.url)
    receiver.statuses = [500, 429, 503]
    await emit_one(db, settings, clock)
    await run(WebhookDeliverer(db, settings, clock), clock, passes=4)
    (delivery,) = await state(db)
    assert delivery.delivered_at is not None and delivery.attempts == 4
    assert len(receiver.received) == 1


async def test_a_4xx_is_not_retried(db: Database, receiver: Receiver) -> None:
    clock, settings = CLOCK, settings_for(receiver.url)
    receiver.statuses = [410]
    await emit_one(db, settings, clock)
    await run(WebhookDeliverer(db, settings, clock), clock, passes=3)
    (delivery,) = await state(db)
    assert (delivery.failed_at is not None, delivery.attempts, delivery.last_status) == (
        True,
        1,
        410,
    )
    assert receiver.received == []


async def test_giving_up_after_the_maximum_age(db: Database) -> None:
    clock, settings = CLOCK, settings_for("http://127.0.0.1:9/nobody-listens", max_age_hours=3)
    await emit_one(db, settings, clock)
    await run(WebhookDeliverer(db, settings, clock), clock, passes=5)
    (delivery,) = await state(db)
    assert delivery.failed_at is not None
    assert delivery.attempts == 4  # at 0 h, 1 h, 2 h: retry; at 3 h: too old, failed
    assert "ClientConnector" in (delivery.last_error or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_receiver_down_during_a_restart_gets_the_delivery_afterwards(
    db: Database,
) -> None:
    clock, port = CLOCK, free_port()
    settings = settings_for(f"http://127.0.0.1:{port}/hook")
    await emit_one(db, settings, clock)
    await run(WebhookDeliverer(db, settings, clock), clock)  # receiver down: retry scheduled
    assert (await state(db))[0].delivered_at is None
    # The bot restarts (a new deliverer over the same database) and the receiver is back.
    rec = Receiver()
    runner = await serve(rec, port)
    try:
        await run(WebhookDeliverer(db, settings, clock), clock)
    finally:
        await runner.cleanup()
    assert len(rec.received) == 1 and rec.rejected == 0


async def test_a_replayed_old_delivery_is_rejected_by_the_receiver(
    db: Database, receiver: Receiver
) -> None:
    import aiohttp

    clock, settings = CLOCK, settings_for(receiver.url)
    await emit_one(db, settings, clock)
    await run(WebhookDeliverer(db, settings, clock), clock)  # the clock is now an hour on
    body, header = receiver.raw[0]
    headers = {SIGNATURE_HEADER: header}
    # An attacker replays the captured delivery an hour later: refused.
    async with (
        aiohttp.ClientSession() as session,
        session.post(receiver.url, data=body, headers=headers) as response,
    ):
        assert response.status == 400
    assert receiver.rejected == 1 and len(receiver.received) == 1


def test_backoff_doubles_and_is_bounded() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff(30).total_seconds() == 3600


async def test_a_redirect_is_not_followed_and_fails_the_delivery(
    db: Database, receiver: Receiver
) -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(receiver.url)

    app = web.Application()
    app.router.add_post("/moved", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        clock = CLOCK
        settings = settings_for(f"http://127.0.0.1:{runner.addresses[0][1]}/moved")
        await emit_one(db, settings, clock)
        await run(WebhookDeliverer(db, settings, clock), clock, passes=2)
    finally:
        await runner.cleanup()
    (delivery,) = await state(db)
    assert (delivery.last_status, delivery.attempts) == (307, 1)
    assert delivery.failed_at is not None and delivery.delivered_at is None
    assert receiver.received == []  # the redirect's target never got the event


async def test_only_the_start_of_an_answer_is_read(db: Database) -> None:
    release = asyncio.Event()

    async def never_ending(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        await response.write(b"x" * 65536)
        await release.wait()  # the answer never ends while the bot is delivering
        return response

    app = web.Application()
    app.router.add_post("/hook", never_ending)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        clock = CLOCK
        settings = settings_for(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        await emit_one(db, settings, clock)
        # Reading the whole answer would wait for an end that never comes.
        await asyncio.wait_for(run(WebhookDeliverer(db, settings, clock), clock), 10)
    finally:
        release.set()
        await runner.cleanup()
    (delivery,) = await state(db)
    assert delivery.delivered_at is not None and delivery.last_status == 200


async def test_credentials_in_an_endpoint_url_stay_out_of_errors_and_logs(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock, port = CLOCK, free_port()
    url = f"http://hookuser:pa55word@127.0.0.1:{port}/p4th-s3cret?token=qu3ry-s3cret"
    settings = settings_for(url, max_age_hours=1)
    await emit_one(db, settings, clock)
    with caplog.at_level(logging.INFO, logger="bot.adapters.webhooks.deliverer"):
        await run(WebhookDeliverer(db, settings, clock), clock, passes=2)
    (delivery,) = await state(db)
    assert delivery.failed_at is not None and delivery.last_error
    shown = [delivery.last_error, caplog.text]
    assert f"endpoint 1 (http://127.0.0.1:{port})" in caplog.text
    for secret in ("hookuser", "pa55word", "p4th-s3cret", "qu3ry-s3cret"):
        assert not any(secret in text for text in shown), secret
