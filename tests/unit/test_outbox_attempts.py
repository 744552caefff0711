"""A chat's flush counts each call's attempt before the call is made, a permanent failure
does not keep the calls after it from being counted and made, and a call another process
made (or gave up on) meanwhile is skipped, never made twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
        # Run after the call with this text: another process's work on the outbox meanwhile.
        self.meanwhile: dict[str, Callable[[], Awaitable[None]]] = {}

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        async with self.db.read() as tx:
            pending = {i.params["text"]: i.attempts for i in await outbox.pending_for_chat(tx, 1)}
        self.seen.append((api_kwargs["text"], pending[api_kwargs["text"]]))
        elsewhere = self.meanwhile.get(api_kwargs["text"])
        if elsewhere is not None:
            await elsewhere()
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


async def test_a_call_made_elsewhere_during_the_previous_call_is_skipped_not_made_again(
    db: Database,
) -> None:
    bot = RecordingBot(db)
    sender = Sender(bot, db, RateLimiter(1000.0, 1000.0), lambda: NOW)  # type: ignore[arg-type]
    ids: dict[str, int] = {}
    async with db.transaction() as tx:
        for text in ("edit", "follow-up", "thanks", "later"):
            ids[text] = await outbox.enqueue(
                tx, 1, "sendMessage", {"chat_id": 1, "text": text}, NOW
            )

    async def other_process_makes(text: str) -> None:
        # What another process's flush records once Telegram took the call.
        async with db.transaction() as tx:
            assert await outbox.mark_started(tx, ids[text], NOW)
            await outbox.mark_done(tx, ids[text], NOW)

    async def other_process_gives_up(text: str) -> None:
        async with db.transaction() as tx:
            await outbox.mark_failed(tx, ids[text], "refused", NOW)

    bot.meanwhile["edit"] = lambda: other_process_makes("follow-up")
    bot.meanwhile["thanks"] = lambda: other_process_gives_up("later")
    await sender.flush_chat(1)
    # Neither the call made elsewhere nor the one given up on is made (or counted) here.
    assert bot.seen == [("edit", 1), ("thanks", 1)]
    async with db.read() as tx:
        assert await outbox.count_pending(tx) == 0
