"""Rate limits with a hand-driven clock: per chat, per group, global; 429 shapes."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot
from telegram.error import RetryAfter

from standin import FakeClock, Limits, StandIn
from standin.limits import RateLimiter, RollingWindow, TokenBucket
from tests.standin.conftest import api


def seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22.2+ warns that this becomes a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def test_token_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(capacity=2, rate=0.5, clock=clock)
    bucket.take()
    bucket.take()
    assert bucket.wait_time() == pytest.approx(2.0)
    clock.advance(1.0)
    assert bucket.wait_time() == pytest.approx(1.0)
    clock.advance(10.0)  # capped at capacity
    bucket.take()
    bucket.take()
    assert bucket.wait_time() > 0


def test_rolling_window() -> None:
    clock = FakeClock()
    window = RollingWindow(limit=2, window=60.0, clock=clock)
    window.take()
    clock.advance(10)
    window.take()
    assert window.wait_time() == pytest.approx(50.0)
    clock.advance(50)
    assert window.wait_time() == 0.0


def test_rejected_sends_consume_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(per_chat_burst=1, per_chat_per_second=1.0), clock)
    assert limiter.check(1, is_group=False) == 0
    for _ in range(10):
        assert limiter.check(1, is_group=False) == 1
    clock.advance(1.0)
    assert limiter.check(1, is_group=False) == 0


async def test_per_chat_burst_then_429(server: StandIn, bot: Bot, clock: FakeClock) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    for i in range(4):
        await bot.send_message(ann.id, f"m{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ann.id, "too fast")
    assert seconds(caught.value) == 1
    clock.advance(1.0)
    await bot.send_message(ann.id, "after waiting")
    assert [m.text for m in ann.messages][-1] == "after waiting"
    assert server.stats.rate_limited == 1 and server.stats.deliveries[ann.id] == 5


async def test_429_body_shape(
    server: StandIn, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    for _ in range(4):
        async with http.post(
            api(server, "sendMessage"), data={"chat_id": str(ann.id), "text": "x"}
        ) as response:
            assert response.status == 200
    async with http.post(
        api(server, "sendMessage"), data={"chat_id": str(ann.id), "text": "x"}
    ) as response:
        assert response.status == 429
        assert json.loads(await response.text()) == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }


async def test_group_limit_is_per_minute(server: StandIn, bot: Bot, clock: FakeClock) -> None:
    group = server.add_group("Admins")
    for i in range(20):
        await bot.send_message(group.id, f"alert {i}")
        clock.advance(1.0)  # stay under the global and burst limits
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "alert 20")
    assert seconds(caught.value) == 40  # the first alert leaves the window at t0+60
    clock.advance(40)
    await bot.send_message(group.id, "alert 20")
    assert len(group.messages) == 21


async def test_global_limit(server: StandIn, bot: Bot, clock: FakeClock) -> None:
    users = [server.add_user(f"U{i}") for i in range(31)]
    for user in users:
        await user.start()
    for user in users[:30]:
        await bot.send_message(user.id, "survey")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[30].id, "survey")
    clock.advance(0.05)  # 1.5 tokens refilled at 30/s
    await bot.send_message(users[30].id, "survey")
    assert server.stats.total_deliveries == 31


async def test_custom_limits_apply(clock: FakeClock) -> None:
    limits = Limits(global_per_second=1000.0, per_chat_burst=1, per_chat_per_second=0.5)
    async with StandIn(limits=limits, clock=clock) as server:
        ann = server.add_user("Ann")
        await ann.start()
        async with Bot(server.token, base_url=server.base_url) as bot:
            await bot.send_message(ann.id, "one")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(ann.id, "two")
            assert seconds(caught.value) == 2


async def test_callback_answers_and_reads_are_not_limited(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    sent = await bot.send_message(ann.id, "Rate", reply_markup=None)
    assert sent.message_id == 2
    for _ in range(50):
        await bot.get_me()
    assert server.stats.rate_limited == 0
