"""Fault injection: scheduled and random 429 / 5xx answers."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter

from standin import StandIn


async def test_fail_next(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    server.fail_next("sendMessage", 429, retry_after=7)
    server.fail_next("sendmessage", 502)
    server.fail_next("sendMessage", 500)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ann.id, "a")
    assert "Retry in 7 seconds" in str(caught.value)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ann.id, "b")
    with pytest.raises(NetworkError):
        await bot.send_message(ann.id, "c")
    await bot.send_message(ann.id, "d")
    assert [m.text for m in ann.messages] == ["d"]
    assert server.stats.faults == 3 and server.stats.rate_limited == 1
    assert server.stats.calls["sendMessage"] == 4


async def test_fail_after_delivery_duplicates_on_retry(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    server.fail_next("sendMessage", 502, after_delivery=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ann.id, "survey")
    await bot.send_message(ann.id, "survey")  # a naive retry
    assert [m.text for m in ann.messages] == ["survey", "survey"]


async def test_random_faults_are_seeded_and_resettable(server: StandIn, bot: Bot) -> None:
    group = server.add_group("Load")

    async def run() -> list[str]:
        outcomes = []
        for i in range(12):
            try:
                await bot.send_message(group.id, f"m{i}")
                outcomes.append("ok")
            except RetryAfter:
                outcomes.append("429")
            except NetworkError:
                outcomes.append("5xx")
        return outcomes

    server.inject_faults(p_429=0.3, p_5xx=0.3, seed=4)
    first = await run()
    server.inject_faults(p_429=0.3, p_5xx=0.3, seed=4)
    second = await run()
    assert first == second and "ok" in first and len(set(first)) > 1
    server.inject_faults()
    assert await bot.get_me()  # reads are never faulted
    assert await bot.send_message(group.id, "calm again")


async def test_a_delayed_getupdates_confirms_its_offset_only_after_the_delay(
    server: StandIn, bot: Bot
) -> None:
    import asyncio

    ann = server.add_user("Ann")
    await ann.start()
    server.delay("getUpdates", 60)
    before = server.stats.calls.get("getUpdates", 0)
    call = asyncio.create_task(bot.get_updates(offset=10**9, timeout=0))
    await server.wait_for(lambda: server.stats.calls.get("getUpdates", 0) > before)
    assert server.pending_updates == 1  # the call arrived; its offset is not applied yet
    call.cancel()  # the bot dies while waiting: the confirmation never happens
    server.delay("getupdates", 0)
    (redelivered,) = await bot.get_updates(timeout=0)
    assert redelivered.message is not None and redelivered.message.text == "/start"
    with pytest.raises(ValueError, match="unknown method"):
        server.delay("sendTelepathy", 1)
