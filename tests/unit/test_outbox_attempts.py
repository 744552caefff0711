"""A chat's flush counts each call's attempt before the call is made, and a permanent
failure does not keep the calls after it from being counted and made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram.error import BadRequest

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.sender import Sender
from storage import Database, outbox

NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)


class RecordingBot:
    """Reads, at each call, the attempts the outbox holds for the call's text; refuses
    the text "refused" as Telegram refuses a bad request."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: list[tuple[str, int]] = []

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        async with self.db.read() as tx:
            pending = {i.params["text"]: i.attempts for i in await outbox.pending_for_chat(tx, 1)}
        self.seen.append((api_kwargs["text"], pending[api_kwargs["text"]]))
        if api_kwargs["text"] == "refused":
            raise BadRequest("Bad Request: message is too long")
        return {"message_id": len(self.seen)}


async def test_each_call_is_counted_once_before_it_is_made(db: Database) -> None:
    bot = RecordingBot(db)
    sender = Sender(bot, db, RateLimiter(1000.0, 1000.0), lambda: NOW)  # type: ignore[arg-type]
    async with db.transaction() as tx:
        for text in ("edit", "refused", "follow-up"):
            await outbox.enqueue(tx, 1, "sendMessage", {"chat_id": 1, "text": text}, NOW)
    await sender.flush_chat(1)
    assert bot.seen == [("edit", 1), ("refused", 1), ("follow-up", 1)]
    async with db.read() as tx:
        assert await outbox.pending_for_chat(tx, 1) == []
        assert await outbox.count_pending(tx) == 0
