"""Making Bot API calls: pacing, 429 handling, retries, and error classification.

Also drains the outbox: calls recorded in the database by handlers, made in order per chat,
by per-chat flush tasks started through the bot's
:class:`~bot.composition.supervisor.Supervisor` (so they are awaited on stop), which the
periodic :meth:`Sender.sweep` starts too. The sweep never waits for a chat's backlog, and
the rate limiter serves the chats by earliest deadline (replies before bulk calls asked for
up to ``BULK_SLACK_SECONDS`` earlier), so no chat's backlog delays another chat's sends.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.transport import CONNECTION_ERROR_PREFIX
from bot.core.delivery import CallResult, Failure, Upload, Urgency
from bot.core.records import OutboxItem
from bot.usecases.background import Background, TaskSet, wait_for_any
from bot.usecases.metrics import Metrics
from bot.usecases.timing import log_call, timing_on
from storage import Database, Tx, answers, customers, outbox
from storage.lease import Lease, SoleLease

log = logging.getLogger(__name__)

# Outbox calls are stored as (method, params) and replayed generically through
# do_api_request, which PTB flags as unusual for methods it wraps; that is intended here.
warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)

MAX_RATE_LIMIT_RETRIES = 8
MAX_TRANSIENT_RETRIES = 3
MAX_OUTBOX_ATTEMPTS = 10
#: While another process makes a chat's calls (several processes on PostgreSQL), a reply's
#: flush looks again this often, this many times; then a sweep takes what is left.
CHAT_BUSY_RETRY_SECONDS = 0.1
CHAT_BUSY_RETRIES = 30


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _with_files(params: dict[str, Any]) -> dict[str, Any]:
    """PTB uploads :class:`~telegram.InputFile` values: the use cases' uploads become them."""
    if not any(isinstance(value, Upload) for value in params.values()):
        return params
    return {
        key: InputFile(value.data, filename=value.filename) if isinstance(value, Upload) else value
        for key, value in params.items()
    }


def result_label(exc: TelegramError | None) -> str:
    """The ``result`` label of one Bot API call in the metrics: ok, 429, 4xx, 5xx, network."""
    if exc is None:
        return "ok"
    if isinstance(exc, RetryAfter):
        return "429"
    if isinstance(exc, Forbidden | BadRequest):  # before NetworkError: BadRequest is one
        return "4xx"
    if isinstance(exc, TimedOut):
        return "network"
    if isinstance(exc, NetworkError):
        # PTB raises NetworkError both for 5xx answers and for failed connections; the
        # transport's connection failures carry its prefix and the exception's name.
        return "network" if exc.message.startswith(CONNECTION_ERROR_PREFIX) else "5xx"
    return "4xx"  # the other answers that refuse the call


# Bad requests that mean the desired state already holds: treat them as success.
_HARMLESS_BAD_REQUESTS = ("message is not modified",)


class Sender:
    """The one way the bot talks to Telegram when it wants a message delivered."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        limiter: RateLimiter,
        clock: Callable[[], datetime],
        *,
        backoff_base: float = 0.5,
        supervisor: Background | None = None,
        metrics: Metrics | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.bot = bot
        # Which process makes a chat's outbox calls (PostgreSQL: one at a time per chat).
        self.lease: Lease = lease or SoleLease()
        # The running bot's metrics; a sender built without (tests, tools) counts in its own.
        self.metrics = metrics or Metrics()
        # Owns the per-chat flush tasks; a sender built without one (tests, tools) gets
        # its own, which still tracks the tasks and logs their failures.
        self.supervisor = supervisor or TaskSet()
        self.db = db
        self.limiter = limiter
        self.clock = clock
        self.backoff_base = backoff_base
        self.rate_limited = 0
        self.last_success: datetime | None = None
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._flush_tasks: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        # The urgency of each running flush task: a reply scheduled while the sweep's (bulk)
        # flush of the chat runs makes the rest of that flush a reply.
        self._flush_urgency: dict[int, Urgency] = {}

    async def call(
        self,
        chat_id: int,
        method: str,
        params: dict[str, Any],
        *,
        urgency: Urgency = Urgency.REPLY,
    ) -> CallResult:
        """Make one call, paced; wait out 429s and retry transient errors a bounded number
        of times. Never raises for Telegram errors: the result says what happened."""
        params = _with_files(params)
        transient_failures = 0
        rate_limits = 0
        while True:
            await self.limiter.acquire(chat_id, urgency)
            try:
                result = await self._request(method, params)
            except RetryAfter as exc:
                rate_limits += 1
                self.rate_limited += 1
                wait = retry_after_seconds(exc)
                self.limiter.pause(wait)
                log.warning("429 from Telegram (chat %s, %s): waiting %.0fs", chat_id, method, wait)
                if rate_limits > MAX_RATE_LIMIT_RETRIES:
                    return CallResult(failure=Failure.TRANSIENT, description=str(exc))
                continue
            except Forbidden as exc:
                return CallResult(failure=Failure.BLOCKED, description=exc.message)
            except BadRequest as exc:
                if any(h in exc.message.lower() for h in _HARMLESS_BAD_REQUESTS):
                    return CallResult(result=True)
                return CallResult(failure=Failure.REJECTED, description=exc.message)
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                transient_failures += 1
                if transient_failures > MAX_TRANSIENT_RETRIES:
                    return CallResult(failure=Failure.TRANSIENT, description=exc.message)
                delay = self.backoff_base * 2 ** (transient_failures - 1)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                continue
            except TelegramError as exc:
                return CallResult(failure=Failure.REJECTED, description=exc.message)
            self.limiter.record_success()
            self.last_success = self.clock()
            return CallResult(result=result)

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        """One HTTP request to the Bot API, counted in the metrics by its result."""
        try:
            result = await self.bot.do_api_request(method, api_kwargs=params)
        except TelegramError as exc:
            self.metrics.api_calls.labels(method, result_label(exc)).inc()
            raise
        self.metrics.api_calls.labels(method, "ok").inc()
        return result

    def _lock_for(self, chat_id: int) -> asyncio.Lock:
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        return lock

    async def flush_chat(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        """Make this chat's pending outbox calls, in order.

        One flush per chat at a time (a lock), so two tasks never make the same call twice
        and the customer sees messages in the order they were recorded.
        """
        lock = self._lock_for(chat_id)
        async with lock:
            try:
                if await self._take_chat(chat_id, urgency):
                    try:
                        await self._flush_locked(chat_id, urgency)
                    finally:
                        await self.lease.release_chat(chat_id)
            finally:
                if not lock._waiters:  # nobody else queued: drop the lock to bound memory
                    self._chat_locks.pop(chat_id, None)

    async def _take_chat(self, chat_id: int, urgency: Urgency) -> bool:
        """The right to make this chat's calls across processes; False if another process
        kept it throughout (its flush, or a sweep later, makes ours too). A sweep's flush
        (bulk) asks once: the holder is making the calls already."""
        tries = CHAT_BUSY_RETRIES if urgency is Urgency.REPLY else 1
        for attempt in range(tries):
            if await self.lease.try_chat(chat_id):
                return True
            if attempt + 1 < tries:
                await asyncio.sleep(CHAT_BUSY_RETRY_SECONDS)
        log.info("chat %s: another process is making its calls; leaving them to it", chat_id)
        return False

    async def _flush_locked(self, chat_id: int, urgency: Urgency) -> None:
        # An attempt is counted before its call, in the transaction that read the calls
        # or that recorded the outcome of the call before it: one commit per call, not two,
        # and no separate read (a few statements on the writer, in place). Chat-scoped:
        # they change this chat's outbox rows, its drivers message and its customers only.
        async with self.db.transaction(chat=chat_id) as tx:
            items = await outbox.pending_for_chat(tx, chat_id)
            index = await _start_next(tx, items, 0, self.clock())
        while index is not None:
            item = items[index]
            # A reply scheduled meanwhile upgrades a running flush.
            if self._flush_urgency.get(chat_id) is Urgency.REPLY:
                urgency = Urgency.REPLY
            started = time.monotonic()
            outcome = await self.call(chat_id, item.method, item.params, urgency=urgency)
            if timing_on():
                log_call(item.id, chat_id, item.method, started, time.monotonic() - started)
            now = self.clock()
            if outcome.ok:
                async with self.db.transaction(chat=chat_id) as tx:
                    await outbox.mark_done(tx, item.id, now)
                    await _note_drivers_message(tx, item, outcome.result)
                    index = await _start_next(tx, items, index + 1, now)
                continue
            log.warning(
                "outbox call %s %s to chat %s failed (%s): %s",
                item.id,
                item.method,
                chat_id,
                outcome.failure,
                outcome.description,
            )
            async with self.db.transaction(chat=chat_id) as tx:
                if outcome.failure is Failure.BLOCKED:
                    await customers.mark_blocked_by_chat(tx, chat_id, now)
                    for rest in await outbox.pending_for_chat(tx, chat_id):
                        await outbox.mark_failed(tx, rest.id, outcome.description, now)
                    return
                if outcome.failure is Failure.REJECTED or item.attempts + 1 >= MAX_OUTBOX_ATTEMPTS:
                    await outbox.mark_failed(tx, item.id, outcome.description, now)
                    index = await _start_next(tx, items, index + 1, now)
                    continue
                await outbox.record_error(tx, item.id, outcome.description)
            # Transient: keep order, leave this and later calls for the next flush.
            return

    def schedule_flush(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        """Flush this chat's outbox in the background.

        Handlers call this instead of awaiting the sends: a chat's pacing (about one message
        a second) must not hold up the handling of other updates, and a customer who sends
        fifty messages must not stall everyone else's conversation.
        """
        task = self._flush_tasks.get(chat_id)
        if task is not None and not task.done():
            self._dirty.add(chat_id)  # the running task flushes once more before it ends
            if urgency is Urgency.REPLY:
                self._flush_urgency[chat_id] = urgency
            return
        self._flush_urgency[chat_id] = urgency
        self._flush_tasks[chat_id] = self.supervisor.spawn(
            self._flush_until_clean(chat_id), f"flush-{chat_id}"
        )

    async def _flush_until_clean(self, chat_id: int) -> None:
        try:
            while True:
                self._dirty.discard(chat_id)
                try:
                    await self.flush_chat(chat_id, self._flush_urgency[chat_id])
                except Exception:
                    # The periodic sweep retries whatever is still pending.
                    log.exception("flushing the outbox of chat %s failed", chat_id)
                    return
                if chat_id not in self._dirty:
                    return
        finally:
            if self._flush_tasks.get(chat_id) is asyncio.current_task():
                del self._flush_tasks[chat_id]
                del self._flush_urgency[chat_id]

    async def flush_all(self) -> None:
        """Start a flush of every chat with pending outbox calls (after a restart, and
        periodically), as bulk calls. Returns once they are started, not done: waiting would
        hold every other chat's retries behind the longest backlog (a group's at 20 a
        minute); a chat whose flush runs already is only told to look again."""
        async with self.db.read() as tx:
            chats = await outbox.pending_chats(tx)
        for chat_id in chats:
            self.schedule_flush(chat_id, Urgency.BULK)

    async def sweep(self, stop: asyncio.Event, interval: float) -> None:
        """Start a flush of every pending outbox call every ``interval`` seconds until
        ``stop``, then once more: calls committed before the stop go out within its grace
        period, as the supervisor awaits the flushes (what is left then stays in the outbox
        for the next start)."""
        while True:
            try:
                await self.flush_all()
            except Exception:
                log.exception("outbox sweep failed; retrying")
            if stop.is_set():
                return
            await wait_for_any((stop,), interval)


async def _start_next(tx: Tx, items: list[OutboxItem], start: int, now: datetime) -> int | None:
    """Count the attempt of the first of ``items[start:]`` still pending, in ``tx``, and
    return its index (None: none left). A call another process made meanwhile, or gave up
    on, is skipped: it must not be made twice."""
    for index in range(start, len(items)):
        if await outbox.mark_started(tx, items[index].id, now):
            return index
    return None


async def _note_drivers_message(tx: Tx, item: OutboxItem, result: Any) -> None:
    """The drivers keyboard reached the chat: remember its message id, so the end of the
    drivers step can edit it even if the customer never pressed a button (they typed).

    The drivers keyboard is the only message tied to a survey that carries an inline
    keyboard (:meth:`bot.usecases.unit_of_work.Replies.send`); reminders and expiry edits
    are tied to their survey too but carry none. Storage only records the id while the
    answer is at the drivers step and has none yet."""
    if item.survey_id is None or item.method != "sendMessage" or not isinstance(result, dict):
        return
    markup = item.params.get("reply_markup")
    if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
        return
    message_id = result.get("message_id")
    if isinstance(message_id, int):
        await answers.record_drivers_message(tx, item.survey_id, message_id)
