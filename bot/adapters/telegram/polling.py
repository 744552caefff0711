"""Receiving updates: our own long-polling loop that confirms an update only once handled.

PTB's Updater confirms updates when it queues them, so a crash would lose fetched but
unhandled updates. Here the offset moves past a batch only after every update in it was
handled (or failed repeatedly and was logged), so a crash means redelivery, which the
handlers tolerate (see :mod:`bot.usecases.unit_of_work`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.adapters.telegram.sender import retry_after_seconds
from bot.adapters.telegram.wiring import FailedUpdates

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
HANDLER_ATTEMPTS = 3


def _update_id(raw: Any) -> int | None:
    if isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
        return int(raw["update_id"])
    return None


def parse_updates(batch: Sequence[Any], bot: Bot) -> list[Update]:
    """Updates that parse; a malformed one is logged and skipped, never retried forever."""
    updates = []
    for raw in batch:
        try:
            update = Update.de_json(raw, bot)
        except Exception:  # PTB raises KeyError/TypeError/ValueError on shapes it rejects
            log.warning("skipping malformed update %s", _update_id(raw), exc_info=True)
            continue
        if update is not None:
            updates.append(update)
    return updates


def _chat_key(update: Update) -> int:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class Poller:
    """Fetches updates with ``getUpdates`` and hands them to the application."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        failures: FailedUpdates,
        timeout: int,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        # When the Bot API last answered getMe at start-up or a getUpdates (readiness: the
        # Bot API was reached recently, even while no update arrives).
        self.last_answer: datetime | None = None
        self.failures = failures
        self.timeout = timeout
        self.offset: int | None = None
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then confirm what was handled."""
        backoff = 1.0
        while not stop.is_set():
            fetch = asyncio.ensure_future(self._fetch())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if fetch not in done:
                fetch.cancel()
                break
            stopper.cancel()
            try:
                batch = fetch.result()
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except Conflict:
                log.error("another process is polling this bot (409 Conflict); retrying in 5 s")
                await asyncio.sleep(5)
                continue
            except InvalidToken:
                log.error("the Bot API server rejected the token; stopping")
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if self.clock is not None:
                self.last_answer = self.clock()
            if batch:
                await self.process(parse_updates(batch, self.app.bot))
                self.offset = max(int(raw["update_id"]) for raw in batch) + 1
        await self.confirm()

    async def _fetch(self) -> list[Any]:
        # Raw JSON, parsed one update at a time (parse_updates): with PTB's get_updates one
        # malformed update fails the whole batch, and it would be fetched again forever.
        raw = await self.app.bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": self.offset,
                "timeout": self.timeout,
                "limit": 100,
                "allowed_updates": ALLOWED_UPDATES,
            },
            read_timeout=self.timeout + 10,
        )
        if not isinstance(raw, list) or not all(_update_id(u) is not None for u in raw):
            raise NetworkError("getUpdates returned something other than a list of updates")
        return raw

    async def process(self, batch: Sequence[Update]) -> None:
        """Handle a batch: chats in parallel, each chat's updates in order."""
        by_chat: dict[int, list[Update]] = {}
        for update in batch:
            by_chat.setdefault(_chat_key(update), []).append(update)
        await asyncio.gather(*(self._process_chat(updates) for updates in by_chat.values()))

    async def _process_chat(self, updates: list[Update]) -> None:
        for update in updates:
            for attempt in range(1, HANDLER_ATTEMPTS + 1):
                self.failures.ids.discard(update.update_id)
                await self.app.process_update(update)
                if update.update_id not in self.failures.ids:
                    break
                if attempt == HANDLER_ATTEMPTS:
                    log.error(
                        "update %s failed %d times; giving up on it", update.update_id, attempt
                    )
                else:
                    await asyncio.sleep(0.2 * attempt)
            self.failures.ids.discard(update.update_id)
            self.handled += 1

    async def confirm(self) -> None:
        """Tell the server that everything up to ``offset`` is handled (timeout 0)."""
        if self.offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)
        except TelegramError as exc:
            log.warning(
                "could not confirm the last updates (%s); they will be redelivered "
                "and deduplicated",
                exc.message,
            )
