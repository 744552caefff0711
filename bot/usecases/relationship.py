"""Relationship NPS on a cycle: every surveyable customer once per cycle, spread evenly.

Each customer's moment in the cycle comes from a stable hash of their id, so the load is
flat over the cycle (not everyone on day one), the same customer keeps the same moment from
cycle to cycle, and a restart changes nothing. The survey for cycle *k* carries the event id
``relationship:<customer id>:<k>``; the unique index on event ids makes creating it twice
impossible, whichever process or pass gets there first.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from bot.core.contact_rules import ContactRules
from bot.core.records import SurveyKind
from bot.usecases.events import create_survey_with_rules
from storage import Database, customers, surveys

log = logging.getLogger(__name__)

# Cycles are numbered from this instant; changing it would move every customer's slot.
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# A slot missed while the bot was down is still honoured this long afterwards. Longer
# would turn a first start-up into a burst of everyone whose slot has passed this cycle.
CATCH_UP = timedelta(days=2)
BATCH = 500


def slot_offset(customer_id: str, cycle: timedelta) -> timedelta:
    """Where in each cycle this customer is asked: uniform over the cycle, stable."""
    digest = hashlib.sha256(b"relationship:" + customer_id.encode()).digest()
    seconds = int(cycle.total_seconds())
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)


def due_cycle(
    customer_id: str, now: datetime, cycle: timedelta, catch_up: timedelta = CATCH_UP
) -> int | None:
    """The cycle whose slot for this customer fell in (now - catch_up, now], if any."""
    offset = slot_offset(customer_id, cycle)
    current = (now - EPOCH) // cycle
    for index in (current, current - 1):  # a slot late in the previous cycle may still count
        slot = EPOCH + index * cycle + offset
        if now - catch_up < slot <= now:
            return index
    return None


def event_id_for(customer_id: str, cycle_index: int) -> str:
    """The idempotency key of a customer's relationship survey in one cycle."""
    return f"relationship:{customer_id}:{cycle_index}"


async def queue_due_relationship_surveys(
    db: Database,
    rules: ContactRules,
    cycle: timedelta,
    now: datetime,
    catch_up: timedelta = CATCH_UP,
) -> int:
    """Create the relationship surveys that have fallen due; return how many were created
    (queued or, under a contact rule, skipped: either way the cycle is done for them)."""
    async with db.read() as tx:
        candidates = await customers.surveyable(tx)
    due: list[tuple[int, str, int]] = []
    for internal_id, external_id in candidates:
        index = due_cycle(external_id, now, cycle, catch_up)
        if index is not None:
            due.append((internal_id, external_id, index))
    created = 0
    for start in range(0, len(due), BATCH):
        chunk = due[start : start + BATCH]
        async with db.transaction() as tx:
            existing = await surveys.existing_event_ids(
                tx, [event_id_for(ext, index) for _, ext, index in chunk]
            )
            for internal_id, external_id, index in chunk:
                event_id = event_id_for(external_id, index)
                if event_id in existing:
                    continue
                customer = await customers.get(tx, internal_id)
                if customer is None:
                    continue
                survey, reason = await create_survey_with_rules(
                    tx,
                    customer,
                    rules,
                    now,
                    kind=SurveyKind.RELATIONSHIP,
                    event_type=None,
                    event_id=event_id,
                )
                created += 1
                log.info(
                    "relationship survey %s for customer #%s (cycle %d): %s",
                    survey.id,
                    internal_id,
                    index,
                    reason or "queued",
                )
    return created
