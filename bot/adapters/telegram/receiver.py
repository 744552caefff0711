"""Receiving updates, whichever way they come (long polling or a webhook): store them, then
hand each chat's updates to its worker.

1. A batch (a ``getUpdates`` answer, or a webhook request) is written to the inbox
   (:mod:`storage.inbox`) in ONE transaction, new ids only: a redelivered id is dropped
   here. The flood limits (:class:`~bot.adapters.telegram.flood.FloodControl`) decide as
   each new update arrives, on its JSON (:mod:`~bot.adapters.telegram.raw`); one they keep
   out of its chat's queue is stored already handled with its outcome, its "slow down"
   reply written in the same transaction, and is never parsed. The others are parsed once
   the transaction has committed; one PTB cannot parse is marked malformed a moment later.
2. Only once :meth:`Receiver.receive` has returned may the caller acknowledge the batch
   (the next ``getUpdates`` offset, the webhook's 200): a crash after that loses nothing.
3. Each chat has a queue and a worker task: a chat's updates are handled in order, chats in
   parallel, so a chat's backlog delays only itself. The handler's unit of work marks the
   update handled in its own transaction (:func:`bot.usecases.unit_of_work.run_unit`); one
   that ran no unit (a refusal, an invalid press, an update no handler takes) or whose
   handler gave up is marked a moment later, several in one transaction.
4. At start, the updates stored but not handled (after a crash, or queued at a stop) are
   queued first, oldest first; at a stop each chat finishes the update in hand and the rest
   wait in the inbox for the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application

from bot.adapters.telegram.flood import OUTCOMES, FloodControl
from bot.adapters.telegram.raw import chat_key, update_id_of
from bot.adapters.telegram.wiring import FailedUpdates
from bot.core.flood import Verdict
from bot.core.records import InboxOutcome, InboxUpdate
from bot.usecases.unit_of_work import Receipt, current_receipt
from storage import Database, inbox

log = logging.getLogger(__name__)

#: The update types the bot asks for (getUpdates, setWebhook).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
HANDLER_ATTEMPTS = 3
#: Updates waiting in memory (every chat together) beyond which receiving pauses: the
#: caller does not acknowledge more until the workers catch up (Telegram keeps them).
MAX_WAITING = 10_000
#: How long marks of updates that ran no unit collect before one transaction writes them.
SETTLE_SECONDS = 0.2

Spawn = Callable[[Coroutine[Any, Any, None], str], object]


class ReceiverStopped(RuntimeError):
    """The receiver is stopping: the batch was not stored (it will be delivered again)."""


def _loads(payload: str | None) -> Any:
    try:
        return json.loads(payload) if payload is not None else None
    except ValueError:
        return None


def _parse(raw: Any, bot: Bot) -> Update | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Update.de_json(raw, bot)
    except Exception:  # PTB raises KeyError/TypeError/ValueError on shapes it rejects
        log.warning("update %s is malformed; marked as such", update_id_of(raw), exc_info=True)
        return None


class Receiver:
    """Stores received batches in the inbox and runs each chat's worker."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        db: Database,
        failures: FailedUpdates,
        clock: Callable[[], datetime],
        *,
        flood: Callable[[Spawn], FloodControl] | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.failures = failures
        self.clock = clock
        self._queues: dict[int, deque[Update]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._waiting = 0  # queued in memory, every chat together
        self.pauses = 0  # receives that waited for room (MAX_WAITING)
        self._room = asyncio.Event()
        self._room.set()
        self._stopping = False
        self._resumed = asyncio.Event()  # receive() waits: resume() must not queue twice
        self._unsettled: list[tuple[int, int | None, InboxOutcome]] = []
        self._settler: object | None = None
        self._side: set[asyncio.Task[None]] = set()  # presses answered, marks settled
        # Built with the receiver's spawn, so what it starts is awaited before the stop.
        self.flood = flood(self._spawn) if flood is not None else None

    # --- the life of the receiver ------------------------------------------------------

    async def run(self, halt: asyncio.Event) -> None:
        """Queue what the inbox holds unhandled, then serve until ``halt``; then stop."""
        try:
            await self.resume()
            await halt.wait()
        finally:
            await self.stop()

    async def resume(self) -> int:
        """Queue the updates stored before this start and not handled yet, oldest first;
        :meth:`receive` waits for this."""
        try:
            async with self.db.read() as tx:
                pending = await inbox.unhandled(tx)
        finally:
            self._resumed.set()
        for row in pending:
            raw = _loads(row.payload)
            update = _parse(raw, self.app.bot)
            if update is None:
                self._settle_later(row.update_id, row.chat_id, InboxOutcome.MALFORMED)
                continue
            chat = chat_key(raw)
            if self.flood is not None:
                self.flood.resume(chat, raw)
            self._enqueue(chat, update)
        if pending:
            log.info("resuming %d updates received before the start", len(pending))
        return len(pending)

    async def stop(self) -> None:
        """Receive nothing more; each chat finishes the update in hand (the rest stay in the
        inbox for the next start); then the pending marks and the side work."""
        self._stopping = True
        self._room.set()  # a receive() waiting gives up
        self._resumed.set()
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)
        await self.settle()
        while self._side:
            await asyncio.gather(*self._side, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until every queued update is handled and marked (tests, tools)."""
        while self._workers or self._side or self._unsettled:
            await asyncio.gather(*self._workers.values(), *self._side, return_exceptions=True)
            await self.settle()

    # --- receiving ---------------------------------------------------------------------

    async def receive(self, batch: Sequence[Any]) -> int:
        """Store the new updates of ``batch`` (raw JSON objects) in one transaction and
        queue them; how many were new. Returns only once they are committed: then, and only
        then, may the batch be acknowledged. Raises if they could not be stored (nothing
        is queued then) or :class:`ReceiverStopped` when stopping."""
        await self._resumed.wait()
        if self._waiting >= MAX_WAITING and not self._stopping:
            self.pauses += 1
            log.warning(
                "%d updates wait in memory; receiving paused until the workers catch up",
                self._waiting,
            )
        while self._waiting >= MAX_WAITING and not self._stopping:
            self._room.clear()
            await self._room.wait()
        if self._stopping:
            raise ReceiverStopped("the receiver is stopping")
        items: list[tuple[int, dict[str, Any]]] = []
        seen: set[int] = set()
        for raw in batch:
            uid = update_id_of(raw)
            if uid is None or uid in seen:
                continue  # without an id nothing can be stored or acknowledged
            seen.add(uid)
            items.append((uid, raw))
        if not items:
            return 0
        now = self.clock()
        decided: list[tuple[int, dict[str, Any], Verdict]] = []
        # A batch of one chat (a webhook POST) is stored in a transaction scoped to it: its
        # statements are inserts that skip known ids and that chat's "slow down" reply.
        # A batch of several chats (getUpdates) is exclusive: one chat per scope.
        chats = {chat_key(raw) for _, raw in items}
        scope = next(iter(chats)) if len(chats) == 1 and 0 not in chats else None
        try:
            async with self.db.transaction(chat=scope) as tx:
                old = await inbox.known(tx, [uid for uid, _ in items])
                rows: list[InboxUpdate] = []
                pending: Counter[int] = Counter()
                for uid, raw in items:
                    if uid in old:
                        continue  # a redelivery: handled, or queued already
                    chat = chat_key(raw)
                    verdict = Verdict.QUEUE
                    if self.flood is not None:
                        waiting = len(self._queues.get(chat, ())) + pending[chat]
                        verdict = self.flood.decide(chat, raw, waiting)
                    decided.append((chat, raw, verdict))
                    if verdict is Verdict.QUEUE:
                        pending[chat] += 1
                        payload = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
                        rows.append(InboxUpdate(uid, chat, payload))
                    else:
                        rows.append(InboxUpdate(uid, chat, None, OUTCOMES[verdict]))
                        assert self.flood is not None
                        await self.flood.record(tx, chat, raw, verdict, now)
                await inbox.store(tx, rows, now)
        except BaseException:
            if self.flood is not None:
                for chat, raw, verdict in decided:
                    self.flood.withdraw(chat, raw, verdict)
            raise
        # Parsed only now, and only what joins a queue: a flood's kept-out updates never
        # are, and the transaction is not held while PTB parses.
        for chat, raw, verdict in decided:
            if verdict is Verdict.QUEUE:
                update = _parse(raw, self.app.bot)
                if update is None:
                    if self.flood is not None:
                        self.flood.withdraw(chat, raw, verdict)
                    self._settle_later(raw["update_id"], chat, InboxOutcome.MALFORMED)
                    continue
                self._enqueue(chat, update)
            if self.flood is not None:
                self.flood.carry_out(chat, raw, verdict)
        return len(rows)

    # --- the workers ---------------------------------------------------------------------

    def _enqueue(self, chat: int, update: Update) -> None:
        queue = self._queues.setdefault(chat, deque())
        if not queue or queue[-1].update_id < update.update_id:
            queue.append(update)
        else:
            # Webhook requests may commit out of order: keep the chat's order by id (the
            # first update may be in hand already and stays first).
            at = len(queue)
            while at > 1 and queue[at - 1].update_id > update.update_id:
                at -= 1
            queue.insert(at, update)
        self._waiting += 1
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._work(chat), name=f"chat-{chat}")

    async def _work(self, chat: int) -> None:
        queue = self._queues[chat]
        try:
            while queue and not self._stopping:
                update = queue[0]
                try:
                    await self._handle(chat, update)
                finally:
                    queue.popleft()
                    self._waiting -= 1
                    if self._waiting < MAX_WAITING:
                        self._room.set()
                    if self.flood is not None:
                        self.flood.done(chat, update)
        finally:
            del self._workers[chat]
            if not queue:
                del self._queues[chat]
                if self.flood is not None:
                    self.flood.idle(chat)

    async def _handle(self, chat: int, update: Update) -> None:
        uid = update.update_id
        receipt = Receipt(uid)
        token = current_receipt.set(receipt)
        try:
            for attempt in range(1, HANDLER_ATTEMPTS + 1):
                self.failures.ids.discard(uid)
                await self.app.process_update(update)
                if uid not in self.failures.ids:
                    break
                if attempt == HANDLER_ATTEMPTS:
                    log.error("update %s failed %d times; giving up on it", uid, attempt)
                else:
                    await asyncio.sleep(0.2 * attempt)
            failed = uid in self.failures.ids
        finally:
            current_receipt.reset(token)
            self.failures.ids.discard(uid)
        if not receipt.marked:
            self._settle_later(uid, chat, InboxOutcome.GAVE_UP if failed else InboxOutcome.HANDLED)

    # --- marks of updates that ran no unit ---------------------------------------------

    def _settle_later(self, update_id: int, chat: int | None, outcome: InboxOutcome) -> None:
        self._unsettled.append((update_id, chat, outcome))
        if self._settler is None:
            self._settler = self._spawn(self._settle_soon(), "inbox-settle")

    async def _settle_soon(self) -> None:
        try:
            while self._unsettled:
                await asyncio.sleep(SETTLE_SECONDS)
                await self.settle()
        finally:
            self._settler = None

    async def settle(self) -> None:
        """Mark handled, in one transaction, the updates that ran no unit so far."""
        marks, self._unsettled = self._unsettled, []
        if not marks:
            return
        try:
            async with self.db.transaction() as tx:
                await inbox.settle(tx, marks, self.clock())
        except Exception:
            # Kept for the next try; after a crash they would be handled again, which for
            # an update that wrote nothing repeats at most its answer.
            log.exception("could not mark %d updates handled; retrying", len(marks))
            self._unsettled = marks + self._unsettled
            if self._stopping:
                return
            await asyncio.sleep(1.0)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> object:
        task = asyncio.create_task(work, name=name)
        self._side.add(task)
        task.add_done_callback(self._side_done)
        return task

    def _side_done(self, task: asyncio.Task[None]) -> None:
        self._side.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())
