"""Delivering webhook events: a background task that never blocks the conversation.

Retries network errors, timeouts, 429 and 5xx with exponential backoff (5 s doubling, at
most an hour apart) until the delivery is older than the configured maximum age; a 4xx
other than 429 means the receiver refused this delivery, and retrying would not help; a
3xx is not followed (the receiver is the configured URL, not wherever it points) and fails
the same way. Only the first few KB of an answer are read.
Deliveries live in the database, so a restart resumes them; on an orderly stop, POSTs in
flight finish and are recorded, and no new one starts (the ones taken but not started are
given back).

Every process runs a deliverer. A pass *claims* its deliveries (:func:`storage.webhooks.
claim_due`: their next attempt moves :data:`CLAIM_MARGIN_SECONDS` past the request
timeout, rows held by another claimer skipped), so two processes never post one delivery
at once. A process killed mid-attempt leaves its claims to be taken again once that time
has passed: the delivery is posted again then, as after any crash between the POST and its
record (receivers deduplicate by the event id).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp

from bot.adapters.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    sign,
    standard_headers,
)
from bot.settings import WebhookSettings
from bot.settings.webhooks import redact_text
from bot.usecases.background import wait_for_any
from storage import Database, webhooks
from storage.webhooks import WebhookDelivery

log = logging.getLogger(__name__)

BATCH = 50
CONCURRENCY = 8
IDLE_SECONDS = 1.0
MAX_ANSWER_BYTES = 4096  # of a receiver's answer; the rest is never read
#: A claim outlasts the request timeout by this much: a pass whose POSTs wait for the
#: concurrency limit still records them before anyone else may take them.
CLAIM_MARGIN_SECONDS = 30.0


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failures: 5 s, 10 s, 20 s ... 1 h."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


class WebhookDeliverer:
    """Posts due deliveries; one task per bot process."""

    def __init__(
        self,
        db: Database,
        settings: WebhookSettings,
        clock: Callable[[], datetime],
        *,
        backoff_fn: Callable[[int], timedelta] = backoff,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.backoff = backoff_fn
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    def wake(self) -> None:
        """Something was enqueued: look now."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; deliveries in flight then finish and are recorded."""
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._session = session
            try:
                while not stop.is_set():
                    try:
                        handled = await self.run_once(stop)
                    except Exception:
                        log.exception("webhook pass failed; retrying")
                        handled = 0
                    if handled == 0:
                        self._wake.clear()
                        await wait_for_any((self._wake, stop), IDLE_SECONDS)
            finally:
                self._session = None

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Attempt every due delivery once (none after ``stop`` is set: those are given
        back); return how many were due."""
        now = self.clock()
        # Time for every POST of the batch at the concurrency limit, and a margin.
        rounds = -(-BATCH // CONCURRENCY)
        hold = timedelta(seconds=rounds * self.settings.timeout_seconds + CLAIM_MARGIN_SECONDS)
        async with self.db.transaction() as tx:
            batch = await webhooks.claim_due(tx, now, BATCH, now + hold)
        if not batch:
            return 0
        semaphore = asyncio.Semaphore(CONCURRENCY)
        unstarted: list[int] = []

        async def attempt(delivery: WebhookDelivery) -> None:
            async with semaphore:
                if stop is None or not stop.is_set():
                    await self.deliver(delivery)
                else:
                    unstarted.append(delivery.id)

        try:
            await asyncio.gather(*(attempt(d) for d in batch))
        finally:
            if unstarted:
                async with self.db.transaction() as tx:
                    await webhooks.release(tx, unstarted, self.clock())
        return len(batch)

    async def deliver(self, delivery: WebhookDelivery) -> None:
        """POST one delivery and record the outcome."""
        now = self.clock()
        secret = self.settings.secret_for(delivery.endpoint_url)
        if secret is None:
            async with self.db.transaction() as tx:
                await webhooks.mark_failed(
                    tx, delivery.id, None, "endpoint no longer configured", now
                )
            return
        body = delivery.body.encode()
        timestamp = int(now.timestamp())
        key = secret.get_secret_value()
        headers = {
            "Content-Type": "application/json",
            # Standard Webhooks: the event id is the message id, the same on every retry,
            # so receivers deduplicate retries by it.
            **standard_headers(key, delivery.event_id, timestamp, body),
            SIGNATURE_HEADER: sign(key, timestamp, body),  # deprecated, for one version
            EVENT_ID_HEADER: delivery.event_id,
            EVENT_TYPE_HEADER: delivery.event_type,
        }
        status: int | None = None
        try:
            session = self._session
            if session is None:
                raise RuntimeError("deliverer not running")
            # A redirect is not followed: the receiver is the configured URL, and a 3xx
            # (which could point anywhere, even inside the company's network) is a failure.
            async with session.post(
                delivery.endpoint_url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                # Only the start of the answer is read: a receiver cannot make the bot
                # hold (or wait for) a large body.
                await resp.content.read(MAX_ANSWER_BYTES)
            error = f"HTTP {status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # aiohttp names the URL in some errors: keep its credentials out of the record.
            error = redact_text(f"{type(exc).__name__}: {exc}", delivery.endpoint_url)[:300]
        now = self.clock()
        async with self.db.transaction() as tx:
            if status is not None and 200 <= status < 300:
                await webhooks.mark_delivered(tx, delivery.id, status, now)
                return
            too_old = now - delivery.created_at >= timedelta(hours=self.settings.max_age_hours)
            # A 3xx is not followed (above), and asking again would get the same redirect.
            permanent = status is not None and 300 <= status < 500 and status != 429
            if permanent or too_old:
                await webhooks.mark_failed(tx, delivery.id, status, error, now)
                log.warning(
                    "webhook delivery %s (%s) to %s failed for good: %s",
                    delivery.id,
                    delivery.event_type,
                    self.settings.label_for(delivery.endpoint_url),
                    error,
                )
                return
            delay = self.backoff(delivery.attempts + 1) * random.uniform(0.9, 1.1)
            await webhooks.mark_retry(tx, delivery.id, status, error, now + delay)
            log.info(
                "webhook delivery %s to %s: %s; retrying in %.0f s",
                delivery.id,
                self.settings.label_for(delivery.endpoint_url),
                error,
                delay.total_seconds(),
            )
