"""Several bot processes on one PostgreSQL database: which one leads, and each one's share
of the send rate.

The leader (a session advisory lock on its lease connection, :mod:`storage.lease`) is the
only process that polls (polling mode) and runs the scheduled jobs (digests, alerts,
retention, reminders and expiry, the relationship cycle, themes, the inbox's pruning), so
each runs once. Every process, leader or standby, dispatches due surveys, sweeps the outbox,
delivers webhooks and serves the ops API (see :mod:`bot.composition.runtime`). A standby
tries for the lock every :data:`LEAD_RETRY_SECONDS` and takes over within that time of the
leader's connection dying. A leader whose own lease connection fails stops (an error from
its supervisor: the process exits and its restart stands by), since another process may
lead by then. On SQLite
the lease is :class:`storage.lease.SoleLease`: the one process leads from the start.

Every :data:`SHARE_SECONDS` each process counts the live senders and paces at
``NPSBOT_SEND_RATE`` divided by them (:meth:`RateLimiter.share`).
"""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.telegram.ratelimit import RateLimiter
from bot.usecases.background import wait_for_any
from storage.lease import Lease

log = logging.getLogger(__name__)

LEAD_RETRY_SECONDS = 3.0
SHARE_SECONDS = 2.0


class Leadership:
    """One process's standing: waits to lead, keeps its rate share current."""

    def __init__(self, lease: Lease, limiter: RateLimiter) -> None:
        self.lease = lease
        self.limiter = limiter

    async def wait_to_lead(self, stop: asyncio.Event, halted: asyncio.Event) -> bool:
        """Return True once this process leads, False if ``stop`` or ``halted`` is set
        first."""
        announced = False
        while not (stop.is_set() or halted.is_set()):
            if await self.lease.try_lead():
                await self.lease.set_sending(True)
                await self.share()
                log.info("this process leads")
                return True
            if not announced:
                log.info("another process leads; standing by")
                announced = True
            await wait_for_any((stop, halted), LEAD_RETRY_SECONDS)
        return False

    async def share(self) -> None:
        """Pace at the global rate divided among the live senders."""
        senders = await self.lease.senders()
        if senders != self.limiter.processes:
            log.info(
                "%d process(es) send: pacing at %.1f/s", senders, self.limiter.total_rate / senders
            )
        self.limiter.share(senders)

    async def watch(self, halt: asyncio.Event) -> None:
        """Check the lease and the rate share until ``halt``; a lost leader lease raises
        (storage.lease.LeaseLostError), which stops the process."""
        while not halt.is_set():
            await self.lease.check()
            await self.share()
            await wait_for_any((halt,), SHARE_SECONDS)
