"""The dispatcher: sends queued surveys when they fall due.

Queued surveys live in the database (status ``pending``), so they survive any restart. One
task per process sends them, paced by the Sender's rate limiter. With several processes on
PostgreSQL each looks first at its part of the due surveys (:meth:`Lease.partition`), and
a survey is sent only by the process that holds its chat (the lease's per-chat lock, held
from the claim to the record of the outcome) and whose claim finds it as it was read
(``mark_send_started`` with the attempts read): two processes never send one survey at once,
and a survey another process postponed, deferred or sent meanwhile is left alone. What a
crash at each step can and cannot do is written down in ``docs/delivery-guarantees.md``; in
short: ``mark_send_started`` commits before the Bot API call and ``mark_sent`` after it, so
a survey is never dropped, and is sent twice only if the process dies between Telegram
accepting the message and the ``mark_sent`` commit (or a timed-out request had in fact been
accepted). Such a re-send is logged and counted in ``possible_duplicates``; both copies
carry the same survey id, so only the first press counts.

An orderly stop never opens that window: :meth:`Dispatcher.run` checks its stop event
between surveys and is never cancelled while a send is in flight (see
:mod:`bot.composition.supervisor`), so every send that started is recorded before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.contact_rules import ContactRules, customer_timezone, end_of_quiet_hours
from bot.core.delivery import Failure, Urgency
from bot.core.keyboards import score_keyboard
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.startup import builtin_catalog
from bot.core.records import Customer, Survey, SurveyStatus
from bot.settings import WebhookSettings
from bot.usecases.background import wait_for_any
from bot.usecases.log_context import log_context
from bot.usecases.ports import Outbound
from bot.usecases.webhook_events import notify
from storage import Database, customers, surveys
from storage.lease import Lease, SoleLease

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 6
BATCH = 200
IDLE_POLL_SECONDS = 1.0
# Surveys in flight at once: the most that a crash can leave "send started, not recorded",
# hence the bound on duplicates after a crash (docs/delivery-guarantees.md).
CONCURRENCY = 32


def skip_reason(customer: Customer) -> str | None:
    """Why this customer must not be sent anything, or None if they may be surveyed."""
    if customer.chat_id is None:
        return "not_linked"
    if customer.opted_out:
        return "opted_out"
    if customer.blocked:
        return "blocked"
    return None


def retry_delay(attempt: int) -> timedelta:
    """Bounded exponential backoff between send attempts: 30 s, 1 min, 2 min ... 15 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempt - 1, 0), 900))


class Dispatcher:
    """Runs as one task per process (module docstring)."""

    def __init__(
        self,
        db: Database,
        sender: Outbound,
        company: str,
        clock: Callable[[], datetime],
        *,
        concurrency: int = CONCURRENCY,
        rules: ContactRules | None = None,
        catalog: Catalog | None = None,
        webhooks: WebhookSettings | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.db = db
        # Which chats this process may send to now, and its share of the due surveys.
        self.lease: Lease = lease or SoleLease()
        self.webhooks = webhooks or WebhookSettings()
        self.sender = sender
        self.company = company
        # The question's wording per kind, event type and language (built-in without one).
        self.catalog = catalog or builtin_catalog(company)
        self.clock = clock
        self._concurrency = concurrency
        # Quiet hours are checked again at send time: a survey queued for the afternoon
        # but retried (or delayed by an outage) into the night waits for the morning.
        self.rules = rules
        self._wake = asyncio.Event()
        self.sent = 0
        self.possible_duplicates = 0
        # Surveys passed over because another process held their chat (several processes).
        self.chat_busy = 0

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send due surveys until ``stop`` is set; sends already started finish and are
        recorded before this returns, and no new survey is claimed after ``stop``."""
        while not stop.is_set():
            try:
                handled = await self.run_once(stop)
            except Exception:
                log.exception("dispatcher pass failed; retrying")
                handled = 0
            if handled == 0:
                self._wake.clear()
                await wait_for_any((self._wake, stop), IDLE_POLL_SECONDS)

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Send one batch of due surveys; return how many were looked at (not counting those
        passed over because another process held their chat: a batch of only those waits
        for the next poll rather than asking again at once). Once ``stop`` is set, surveys
        not yet started are left pending for the next start."""
        part = await self.lease.partition()
        async with self.db.read() as tx:
            batch = await surveys.due(tx, self.clock(), BATCH, part=part)
            if not batch and part[1] > 1:
                # Our part is done: help with the others' (the chat locks and the claims
                # keep two processes off one survey).
                batch = await surveys.due(tx, self.clock(), BATCH)
            chats = await customers.chats_of(tx, [s.customer_id for s in batch])
        if not batch:
            return 0
        # Surveys to the same chat go one after another; different chats in parallel.
        by_customer: dict[int, list[Survey]] = {}
        for survey in batch:
            by_customer.setdefault(survey.customer_id, []).append(survey)
        semaphore = asyncio.Semaphore(self._concurrency)
        busy = 0

        async def send_all(customer_id: int, items: list[Survey]) -> None:
            nonlocal busy
            async with semaphore:
                chat = chats.get(customer_id)
                if chat is not None and not await self.lease.try_chat(chat):
                    busy += len(items)  # another process sends to this chat now
                    return
                try:
                    for survey in items:
                        if stop is not None and stop.is_set():
                            return
                        await self.send(survey, chat)
                finally:
                    if chat is not None:
                        await self.lease.release_chat(chat)

        await asyncio.gather(*(send_all(c, items) for c, items in by_customer.items()))
        self.chat_busy += busy
        return len(batch) - busy

    async def send(self, survey: Survey, chat: int | None = None) -> SurveyStatus:
        """Send one survey's question, or close it with the reason it cannot be sent.

        ``chat``: the customer's chat as read with the survey (the caller holds the lease's
        lock on it); the transactions are scoped to it. None: an exclusive transaction."""
        with log_context(survey_id=survey.id):  # JSON log lines carry the survey's id
            return await self._send(survey, chat)

    async def _send(self, survey: Survey, chat: int | None) -> SurveyStatus:
        now = self.clock()
        # Chat-scoped: every statement below changes this survey or its customer, each a
        # guarded UPDATE (storage/postgres.py lists why that is safe beside other chats).
        async with self.db.transaction(chat=chat) as tx:
            customer = await customers.get(tx, survey.customer_id)
            assert customer is not None
            if customer.chat_id != chat and chat is not None:
                # Relinked since the survey was read: the next pass sends it under the
                # new chat's lock.
                return survey.status
            reason = skip_reason(customer)
            if reason is not None:
                await surveys.close(tx, survey.id, SurveyStatus.SKIPPED, reason, now)
                log.info("survey %s skipped: %s", survey.id, reason)
                return SurveyStatus.SKIPPED
            if self.rules is not None and self.rules.quiet_hours is not None:
                tz = customer_timezone(customer.attributes, self.rules.default_tz)
                allowed = end_of_quiet_hours(now, self.rules.quiet_hours, tz)
                if allowed > now:
                    await surveys.defer(tx, survey.id, allowed)
                    log.info("survey %s deferred to %s (quiet hours)", survey.id, allowed)
                    return SurveyStatus.PENDING
            if not await surveys.mark_send_started(
                tx, survey.id, now, attempts=survey.send_attempts
            ):
                return survey.status
        if survey.send_started_at is not None:
            self.possible_duplicates += 1
            log.warning(
                "survey %s: a previous send attempt may have reached chat %s; sending again",
                survey.id,
                customer.chat_id,
            )
        assert customer.chat_id is not None
        lang = self.catalog.language_for(customer.language, customer.telegram_language)
        question = self.catalog.question(
            survey.kind.value, lang, survey.event_type, survey.attributes
        )
        params = {
            "chat_id": customer.chat_id,
            "text": question,
            "reply_markup": score_keyboard(survey.id),
        }
        # Bulk: a broadcast lets the replies of customers in a conversation pass.
        outcome = await self.sender.call(
            customer.chat_id, "sendMessage", params, urgency=Urgency.BULK
        )
        now = self.clock()
        async with self.db.transaction(chat=chat) as tx:
            if outcome.ok:
                await surveys.mark_sent(
                    tx, survey.id, customer.chat_id, int(outcome.result["message_id"]), now
                )
                self.sent += 1
                await notify(tx, self.webhooks, "survey.sent", survey.id, now)
                log.info(
                    "survey %s sent to chat %s",
                    survey.id,
                    customer.chat_id,
                    extra={"chat_id": customer.chat_id},
                )
                return SurveyStatus.SENT
            if outcome.failure is Failure.BLOCKED:
                await customers.set_blocked(tx, customer.id, True, now)
                await surveys.close(tx, survey.id, SurveyStatus.FAILED, "blocked", now)
                log.info("survey %s failed: chat %s blocked the bot", survey.id, customer.chat_id)
                return SurveyStatus.FAILED
            attempts = survey.send_attempts + 1
            if outcome.failure is Failure.REJECTED or attempts >= MAX_SEND_ATTEMPTS:
                kind = outcome.failure.value if outcome.failure else "error"
                reason = f"{kind}: {outcome.description}"
                await surveys.close(tx, survey.id, SurveyStatus.FAILED, reason[:300], now)
                log.warning("survey %s failed: %s", survey.id, reason)
                return SurveyStatus.FAILED
            await surveys.postpone(
                tx, survey.id, now + retry_delay(attempts), outcome.description[:300]
            )
            log.info("survey %s: transient failure, retrying later", survey.id)
            return SurveyStatus.PENDING
