"""Receiving updates: our own long-polling loop that confirms an update only once handled.

PTB's Updater confirms updates when it queues them, so a crash would lose fetched but
unhandled updates. Here the offset given to ``getUpdates`` (which confirms every update
below it) never passes an update that is still being handled, so a crash means
redelivery, which the handlers tolerate (see :mod:`bot.usecases.unit_of_work`).

Fairness: each chat has its own queue and worker task; a chat's updates are handled in
order, chats in parallel, and the next ``getUpdates`` is made as soon as a batch is queued,
not once it is handled. A chat with a backlog therefore delays only itself. Updates fetched
again because an older one is still in hand are recognised by id and skipped.

Floods: with a :class:`~bot.adapters.telegram.flood.FloodControl`, an update the per-chat
limits keep out of the queue (a collapsed press, a text over the budget) is dealt with at
once and counts as handled, decided on its JSON before it is parsed (parsing is most of a
flood's cost); a queued press still waiting after ``NPSBOT_PRESS_ANSWER_SECONDS`` is
answered "one moment" (Telegram wants an answer within 15 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.adapters.telegram.flood import FloodControl
from bot.adapters.telegram.sender import retry_after_seconds
from bot.adapters.telegram.wiring import FailedUpdates
from bot.usecases.background import wait_for_any

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


def _raw_chat_key(raw: Any) -> int:
    """:func:`_chat_key` read from the update's JSON (for the allowed update kinds)."""
    for path in (
        ("message", "chat", "id"),
        ("edited_message", "chat", "id"),
        ("callback_query", "message", "chat", "id"),
        ("callback_query", "from", "id"),
    ):
        value = raw
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int):
            return value
    return 0


def _chat_key(update: Update) -> int:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class Poller:
    """Fetches updates with ``getUpdates`` and hands each to its chat's worker."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        failures: FailedUpdates,
        timeout: int,
        *,
        clock: Callable[[], datetime] | None = None,
        flood: Callable[[Callable[[Coroutine[Any, Any, None], str], object]], FloodControl]
        | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        # When the Bot API last answered getMe at start-up or a getUpdates (readiness: the
        # Bot API was reached recently, even while no update arrives).
        self.last_answer: datetime | None = None
        self.failures = failures
        self.timeout = timeout
        self.handled = 0
        self._next: int | None = None  # one past the highest update id fetched
        self._in_hand: set[int] = set()  # fetched, not yet handled
        self._done: set[int] = set()  # handled, but not yet below the confirmed offset
        self._queues: dict[int, deque[Update]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._progress = asyncio.Event()
        self._side: set[asyncio.Task[None]] = set()  # presses answered, "slow down" queued
        # Built with the poller's spawn, so what it starts is awaited before the stop.
        self.flood = flood(self._spawn) if flood is not None else None

    @property
    def offset(self) -> int | None:
        """What ``getUpdates`` confirms: everything below the oldest update still in hand."""
        if self._in_hand:
            return min(self._in_hand)
        return self._next

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then finish what is in hand and confirm it."""
        backoff = 1.0
        try:
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
                if not self.admit_raw(batch) and self._in_hand:
                    # Only updates already in hand came back (an old one is still being
                    # handled): wait for progress instead of fetching them again at once.
                    self._progress.clear()
                    await wait_for_any((stop, self._progress), 1.0)
        finally:
            await self.drain()
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

    def admit_raw(self, batch: Sequence[Any]) -> int:
        """Queue the updates of ``batch`` not seen before; how many were new."""
        fresh = [
            raw
            for raw in batch
            if (uid := _update_id(raw)) is not None
            and uid not in self._in_hand
            and uid not in self._done
            and (self._next is None or uid >= (self.offset or 0))
        ]
        for raw in batch:
            uid = _update_id(raw)
            if uid is not None and (self._next is None or uid + 1 > self._next):
                self._next = uid + 1
        for raw in fresh:
            if self.flood is not None and not self._flood_admits(raw):
                continue
            for update in parse_updates([raw], self.app.bot):
                self._admit(update)
        # Ids below the offset are confirmed: Telegram never sends them again.
        floor = self.offset
        if floor is not None:
            self._done = {uid for uid in self._done if uid >= floor}
        return len(fresh)

    async def process(self, batch: Sequence[Update]) -> None:
        """Handle ``batch`` (chats in parallel, each chat's updates in order) and wait for it;
        parsed already, it bypasses the flood limits (they decide on the JSON)."""
        for update in batch:
            if update.update_id not in self._in_hand and update.update_id not in self._done:
                self._admit(update)
        await self.drain()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> object:
        task = asyncio.create_task(work, name=name)
        self._side.add(task)
        task.add_done_callback(self._side_done)
        return task

    def _side_done(self, task: asyncio.Task[None]) -> None:
        self._side.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    def _flood_admits(self, raw: Any) -> bool:
        """Whether the flood limits let ``raw`` (not parsed yet) join its chat's queue; one
        they keep out is dealt with, and confirmed like a handled one."""
        assert self.flood is not None
        chat = _raw_chat_key(raw)
        if self.flood.admit(chat, raw, len(self._queues.get(chat, ()))):
            return True
        self._done.add(raw["update_id"])
        self.handled += 1
        return False

    def _admit(self, update: Update) -> None:
        chat = _chat_key(update)
        self._in_hand.add(update.update_id)
        self._queues.setdefault(chat, deque()).append(update)
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._work(chat), name=f"chat-{chat}")

    async def drain(self) -> None:
        """Wait until every queued update is handled."""
        while self._workers or self._side:
            tasks = [*self._workers.values(), *self._side]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _work(self, chat: int) -> None:
        queue = self._queues[chat]
        try:
            while queue:
                update = queue[0]
                try:
                    await self._handle(update)
                finally:
                    queue.popleft()
                    self._in_hand.discard(update.update_id)
                    self._done.add(update.update_id)
                    self.handled += 1
                    if self.flood is not None:
                        self.flood.done(chat, update)
                    self._progress.set()
        finally:
            del self._workers[chat]
            if not queue:
                del self._queues[chat]
                if self.flood is not None:
                    self.flood.idle(chat)

    async def _handle(self, update: Update) -> None:
        for attempt in range(1, HANDLER_ATTEMPTS + 1):
            self.failures.ids.discard(update.update_id)
            await self.app.process_update(update)
            if update.update_id not in self.failures.ids:
                break
            if attempt == HANDLER_ATTEMPTS:
                log.error("update %s failed %d times; giving up on it", update.update_id, attempt)
            else:
                await asyncio.sleep(0.2 * attempt)
        self.failures.ids.discard(update.update_id)

    async def confirm(self) -> None:
        """Tell the server that everything up to ``offset`` is handled (timeout 0)."""
        offset = self.offset
        if offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=offset, timeout=0, limit=1)
        except TelegramError as exc:
            log.warning(
                "could not confirm the last updates (%s); they will be redelivered "
                "and deduplicated",
                exc.message,
            )
