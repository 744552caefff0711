"""Erasure and retention as units of work, shared by the bot, the ops API and the CLI.

Each erasure is one transaction (the customer's data in every table, and its record in
``privacy_log``), followed by a WAL checkpoint so that the erased data also leaves the
write-ahead log. Logs name the internal customer number only, never personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.core.texts import AdminTexts
from bot.reports.stats_text import privacy_line
from bot.settings import PrivacySettings
from storage import Database, Tx, customers, privacy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure changed: rows per table."""

    customer_id: int
    erased_at: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Rows changed or deleted in all tables."""
        return sum(self.counts.values())


async def erase_in(tx: Tx, customer_id: int, now: datetime, source: str) -> ErasureResult | None:
    """Erase inside the caller's transaction (a customer's confirmation commits it with the
    update's claim); None if there is nothing (left) to erase."""
    counts = await privacy.erase_customer(tx, customer_id, now)
    if counts is None:
        return None
    await privacy.record_run(tx, "erasure", source, now, now, counts, customer_id=customer_id)
    log.info(
        "customer #%d erased (%s): %d rows in %d tables (%s)",
        customer_id,
        source,
        sum(counts.values()),
        len(counts),
        ", ".join(f"{t} {n}" for t, n in counts.items()),
    )
    return ErasureResult(customer_id, now, counts)


async def erase_external_id(
    db: Database, external_id: str, now: datetime, source: str
) -> ErasureResult | None:
    """Erase the customer with the company's id ``external_id`` (ops API, CLI); None if
    no such customer is stored."""
    async with db.transaction() as tx:
        customer = await customers.get_by_external_id(tx, external_id)
        result = None if customer is None else await erase_in(tx, customer.id, now, source)
    if result is not None:
        await checkpoint(db)
    return result


async def checkpoint(db: Database) -> None:
    """Empty the write-ahead log after erased data was overwritten in the database."""
    if not await db.checkpoint():
        log.info("WAL checkpoint after erasure was partial (a reader is active); retried later")


async def run_retention(
    db: Database, days: int, clock: Callable[[], datetime], source: str = "job"
) -> int:
    """Anonymise answers' texts and attributes older than ``days``; record the run (when,
    the cut-off, how much per kind of data). Returns how many rows were anonymised."""
    started = clock()
    cutoff = started - timedelta(days=days)
    counts = await privacy.anonymise_older_than(db, cutoff)
    async with db.transaction() as tx:
        await privacy.record_run(tx, "retention", source, started, clock(), counts, cutoff=cutoff)
    total = sum(counts.values())
    if total:
        await checkpoint(db)
    log.info(
        "retention (%d days): anonymised %d rows older than %s (%s)",
        days,
        total,
        cutoff.date().isoformat(),
        ", ".join(f"{k} {n}" for k, n in counts.items()),
    )
    return total


async def privacy_stats_line(
    tx: Tx, settings: PrivacySettings, tz: tzinfo, texts: AdminTexts
) -> str:
    """The privacy line of the admins' ``/stats``: retention and its last run, erasures."""
    erasures = await privacy.count_runs(tx, "erasure")
    run = await privacy.last_run(tx, "retention") if settings.retention_days is not None else None
    last = (run.started_at, run.total) if run else None
    return privacy_line(texts, settings.retention_days, last, erasures, tz)
