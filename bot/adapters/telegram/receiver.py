"""Receiving updates, whichever way they come (long polling or a webhook): store them, then
hand each chat's updates to its worker.

1. A batch (a ``getUpdates`` answer, or a webhook request) is written to the inbox
   (:mod:`storage.inbox`) in ONE transaction, new ids only: a redelivered id is dropped
   here. The flood limits (:class:`~bot.adapters.telegram.flood.FloodControl`) decide as
   each new update arrives, on its JSON (:mod:`~bot.adapters.telegram.raw`); one they keep
   out of its chat's queue is stored already handled with its outcome, its "slow down"
   reply written in the same transaction, and is never parsed. The others are parsed once
   the transaction has committed; one PTB cannot parse is marked malformed a moment later.
   A parsed press takes about nine times the memory of its JSON text (the question's
   keyboard comes with it), so beyond :data:`PARSED_AHEAD` updates waiting, updates wait as
   their text and the worker parses them when their turn comes: a press is still parsed
   once on arrival, so that one PTB refuses never holds a place in the flood limits.
2. Only once :meth:`Receiver.receive` has returned may the caller acknowledge the batch
   (the next ``getUpdates`` offset, the webhook's 200): a crash after that loses nothing.
3. Each chat has a queue and a worker task: a chat's updates are handled in order, chats in
   parallel (at most :data:`MAX_HANDLING` at once, one per chat, in turn), so a chat's
   backlog delays only itself. The handler's unit of work marks the
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
from typing import Any, NamedTuple

from telegram import Bot, Update
from telegram.ext import Application

from bot.adapters.telegram.flood import OUTCOMES, FloodControl, press_of
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
#: Updates handled at once up to their unit's commit (every chat together; one per chat).
#: More would only wait for the database's write lock, each holding its update, its
#: handler's frames and its context; what follows the commit (answering a press) runs
#: outside this bound.
MAX_HANDLING = 64
#: Updates waiting (every chat together) that are kept parsed; beyond that they wait as
#: their JSON text (memory: about 1 KB instead of 9 for a press).
PARSED_AHEAD = 256
#: How long marks of updates that ran no unit collect before one transaction writes them.
SETTLE_SECONDS = 0.2

Spawn = Callable[[Coroutine[Any, Any, None], str], object]


class Waiting(NamedTuple):
    """An update in its chat's queue: parsed already, or its JSON text, parsed when its turn
    comes."""

    update_id: int
    update: Update | str


class _Slot:
    """One update's place among those handled at once, released once."""

    __slots__ = ("_semaphore",)

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore: asyncio.Semaphore | None = semaphore

    def release(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()
            self._semaphore = None


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
        self._queues: dict[int, deque[Waiting]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._waiting = 0  # queued in memory, every chat together
        self._handling = asyncio.Semaphore(MAX_HANDLING)
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
            if row.payload is None or not isinstance(raw, dict):
                self._settle_later(row.update_id, row.chat_id, InboxOutcome.MALFORMED)
                continue
            chat = chat_key(raw)
            if self.flood is not None:
                self.flood.resume(chat, raw)
            self._enqueue(chat, Waiting(row.update_id, row.payload))  # parsed in its turn
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
        payloads: dict[int, str] = {}
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
                        payloads[uid] = payload
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
                uid = raw["update_id"]
                keep = self._waiting < PARSED_AHEAD
                # A press is parsed here however many wait (the module docstring), a text
                # only if it is kept parsed.
                update = None
                if keep or press_of(raw) is not None:
                    update = _parse(raw, self.app.bot)
                    if update is None:
                        if self.flood is not None:
                            self.flood.withdraw(chat, raw, verdict)
                        self._settle_later(uid, chat, InboxOutcome.MALFORMED)
                        continue
                self._enqueue(chat, Waiting(uid, update if keep and update else payloads[uid]))
            if self.flood is not None:
                self.flood.carry_out(chat, raw, verdict)
        return len(rows)

    # --- the workers ---------------------------------------------------------------------

    def _enqueue(self, chat: int, update: Waiting) -> None:
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
                await self._handling.acquire()
                slot = _Slot(self._handling)
                try:
                    if self._stopping:
                        break  # not in hand yet: it stays in the inbox for the next start
                    await self._turn(chat, queue, slot)
                finally:
                    slot.release()
        finally:
            del self._workers[chat]
            if not queue:
                del self._queues[chat]
                if self.flood is not None:
                    self.flood.idle(chat)

    async def _turn(self, chat: int, queue: deque[Waiting], slot: _Slot) -> None:
        """Handle the update at the head of the chat's queue, then take it off."""
        waiting = queue[0]
        update, raw = self._parsed(waiting)
        try:
            if update is None:
                self._settle_later(waiting.update_id, chat, InboxOutcome.MALFORMED)
            else:
                await self._handle(chat, update, slot)
        finally:
            queue.popleft()
            self._waiting -= 1
            if self._waiting < MAX_WAITING:
                self._room.set()
            if self.flood is not None:
                self.flood.done(chat, waiting.update_id, update, raw)

    def _parsed(self, waiting: Waiting) -> tuple[Update | None, Any]:
        """The update in its turn, or None if PTB refuses it; and its raw JSON object if
        it waited as text."""
        if isinstance(waiting.update, Update):
            return waiting.update, None
        raw = _loads(waiting.update)
        return _parse(raw, self.app.bot), raw

    async def _handle(self, chat: int, update: Update, slot: _Slot) -> None:
        uid = update.update_id
        receipt = Receipt(uid, on_marked=slot.release)
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
