"""The outbox sweep (bot.adapters.telegram.sender.Sender.flush_all) is never held up by one
chat's running flush: another chat's pending call goes out while it runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.sender import Sender
from storage import Database, outbox

NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)


class StuckBot:
    """Chat 1's calls hang until ``release``; every other call succeeds at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[int] = []
        self.all_sent = asyncio.Event()

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        if api_kwargs["chat_id"] == 1:
            await self.release.wait()
        self.sent.append(api_kwargs["chat_id"])
        if len(self.sent) == 4:
            self.all_sent.set()
        return {"message_id": len(self.sent)}


async def test_the_sweep_does_not_wait_for_a_chat_being_flushed(db: Database) -> None:
    bot = StuckBot()
    sender = Sender(bot, db, RateLimiter(1000.0, 1000.0), lambda: NOW)  # type: ignore[arg-type]
    async with db.transaction() as tx:
        for _ in range(3):
            await outbox.enqueue(tx, 1, "sendMessage", {"chat_id": 1, "text": "x"}, NOW)
    sender.schedule_flush(1)  # its first call hangs: a backlog being paced
    async with db.transaction() as tx:
        await outbox.enqueue(tx, 2, "sendMessage", {"chat_id": 2, "text": "retry me"}, NOW)
    async with asyncio.timeout(5):
        await sender.flush_all()
    assert bot.sent == [2]
    bot.release.set()
    async with asyncio.timeout(5):
        await bot.all_sent.wait()
    assert bot.sent == [2, 1, 1, 1]
