"""The outbox sweep (bot.adapters.telegram.sender.Sender.flush_all) is never held up by one
chat: another chat's pending call goes out while a chat's backlog is in hand, whether that
chat's flush was running already or the sweep started it. The sweep's calls are bulk (they
let replies pass); a reply scheduled meanwhile makes the rest of the chat's flush a reply."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.sender import Sender
from bot.core.delivery import Urgency
from storage import Database, outbox

NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)


class StuckBot:
    """Chat 1's calls hang until ``release``; every other call succeeds at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.stuck = asyncio.Event()  # a call to chat 1 hangs
        self.sent: list[int] = []
        self.changed = asyncio.Event()

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        if api_kwargs["chat_id"] == 1:
            self.stuck.set()
            await self.release.wait()
        self.sent.append(api_kwargs["chat_id"])
        self.changed.set()
        return {"message_id": len(self.sent)}

    async def until_sent(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.sent) < count:
                self.changed.clear()
                await self.changed.wait()


class RecordingLimiter(RateLimiter):
    """Lets every call through at once, noting each one's urgency."""

    def __init__(self) -> None:
        super().__init__(1000.0, 1000.0)
        self.asked: list[tuple[int, Urgency]] = []

    async def acquire(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        self.asked.append((chat_id, urgency))


async def enqueue(db: Database, chat_id: int, count: int = 1) -> None:
    async with db.transaction() as tx:
        for _ in range(count):
            await outbox.enqueue(tx, chat_id, "sendMessage", {"chat_id": chat_id, "text": "x"}, NOW)


class Work:
    """The sender's background work, kept so a test can wait for all of it to end (the
    flushes read the database, which the fixture closes after the test)."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        return task

    async def settle(self) -> None:
        async with asyncio.timeout(5):
            while not all(task.done() for task in self.tasks):
                await asyncio.gather(*self.tasks)


def sender_for(db: Database, bot: StuckBot, limiter: RateLimiter | None = None) -> Sender:
    limiter = limiter or RateLimiter(1000.0, 1000.0)
    return Sender(bot, db, limiter, lambda: NOW, supervisor=Work())  # type: ignore[arg-type]


async def settle(sender: Sender) -> None:
    assert isinstance(sender.supervisor, Work)
    await sender.supervisor.settle()


async def test_the_sweep_does_not_wait_for_a_chat_being_flushed(db: Database) -> None:
    bot = StuckBot()
    sender = sender_for(db, bot)
    await enqueue(db, 1, 3)
    sender.schedule_flush(1)  # its first call hangs: a backlog being paced
    await enqueue(db, 2)
    async with asyncio.timeout(5):
        await sender.flush_all()
    await bot.until_sent(1)
    assert bot.sent == [2]
    bot.release.set()
    await bot.until_sent(4)
    assert bot.sent == [2, 1, 1, 1]
    await settle(sender)


async def test_the_sweep_is_not_held_by_a_backlog_it_starts_itself(db: Database) -> None:
    # After a restart (or a flush that gave up on a transient error) chat 1's backlog has no
    # flush running: the sweep starts it and goes on; chat 2's retry is not held behind it.
    bot = StuckBot()
    sender = sender_for(db, bot)
    await enqueue(db, 1, 3)
    await enqueue(db, 2)
    async with asyncio.timeout(5):
        await sender.flush_all()  # returns while chat 1's first call still hangs
    await bot.until_sent(1)
    assert bot.sent == [2]
    await enqueue(db, 3)  # a later failure, retried by the next pass
    async with asyncio.timeout(5):
        await sender.flush_all()
    await bot.until_sent(2)
    assert bot.sent == [2, 3]
    bot.release.set()
    await bot.until_sent(5)
    assert bot.sent == [2, 3, 1, 1, 1]
    await settle(sender)


async def test_the_sweeps_calls_are_bulk_until_a_reply_is_scheduled_for_the_chat(
    db: Database,
) -> None:
    bot = StuckBot()
    limiter = RecordingLimiter()
    sender = sender_for(db, bot, limiter)
    await enqueue(db, 1, 2)
    await enqueue(db, 2)
    await sender.flush_all()
    await bot.until_sent(1)  # chat 2's retry
    await asyncio.wait_for(bot.stuck.wait(), 5)  # chat 1's first call hangs
    await enqueue(db, 1)  # the customer in chat 1 pressed a button: a reply
    sender.schedule_flush(1)
    bot.release.set()
    await bot.until_sent(4)
    await settle(sender)
    assert [u for chat, u in limiter.asked if chat == 1] == [
        Urgency.BULK,
        Urgency.REPLY,
        Urgency.REPLY,
    ]
    assert [u for chat, u in limiter.asked if chat == 2] == [Urgency.BULK]


async def test_a_reply_flush_asks_as_a_reply(db: Database) -> None:
    bot = StuckBot()
    bot.release.set()
    limiter = RecordingLimiter()
    sender = sender_for(db, bot, limiter)
    await enqueue(db, 5)
    sender.schedule_flush(5)
    await bot.until_sent(1)
    await settle(sender)
    assert limiter.asked == [(5, Urgency.REPLY)]
