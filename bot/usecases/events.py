"""Turning a service event into a survey, applying the contact rules (API and CLI share it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.contact_rules import (
    Contact,
    ContactRules,
    customer_timezone,
    frequency_allows,
    longest_window,
    planned_send_time,
)
from bot.core.records import Customer, Survey, SurveyKind, SurveyStatus, to_db_time
from bot.core.validation import EventRequest
from bot.usecases.dispatching import skip_reason
from storage import Database, Tx, customers, events, surveys
from storage.events import EventRecord

log = logging.getLogger(__name__)

QUEUED = "queued"
SKIPPED = "skipped"
# Why a survey was not queued (API ``reason``); see docs/ops-api.md.
CONTACT_RULE = "contact_rule"
DUPLICATE = "duplicate"


class EventConflict(ValueError):
    """The event id was already used for a different customer or event type."""


@dataclass(frozen=True)
class EventOutcome:
    """What happened to an event: the answer the API gives (the same for a repeat)."""

    survey_id: int
    event_id: str
    outcome: str
    reason: str | None
    send_at: datetime | None
    replayed: bool = False

    def as_json(self) -> dict[str, Any]:
        """The ``202`` body of ``POST /v1/events``."""
        return {
            "survey_id": self.survey_id,
            "event_id": self.event_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "send_at": iso(self.send_at) if self.outcome == QUEUED else None,
        }


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z`` (what the API returns)."""
    return None if value is None else to_db_time(value)


async def create_survey_with_rules(
    tx: Tx,
    customer: Customer,
    rules: ContactRules,
    now: datetime,
    *,
    kind: SurveyKind,
    event_type: str | None,
    event_id: str,
    occurred_at: datetime | None = None,
    request: EventRequest | None = None,
) -> tuple[Survey, str | None]:
    """Create the survey for an event in ``tx``: queued at the planned time, or closed as
    skipped with the reason (so every event has a survey to look up). Returns (survey,
    reason or None)."""
    tz = customer_timezone(customer.attributes, rules.default_tz)
    planned = planned_send_time(
        now,
        rules,
        tz,
        event_type=event_type,
        occurred_at=occurred_at,
        delay=request.delay if request else None,
        send_at=request.send_at if request else None,
    )
    reason = skip_reason(customer)
    if reason is None:
        window = longest_window(rules)
        recent = await surveys.contacts(tx, customer.id, planned - window)
        contacts = [Contact(at, etype) for at, etype in recent]
        if not frequency_allows(planned, event_type, contacts, rules):
            reason = CONTACT_RULE
    survey = await surveys.create(
        tx,
        customer.id,
        kind,
        now,
        send_at=planned,
        event_type=event_type,
        event_id=event_id,
        attributes=customer.attributes,
    )
    if reason is not None:
        await surveys.close(tx, survey.id, SurveyStatus.SKIPPED, reason, now)
    return survey, reason


async def trigger_event(
    db: Database, request: EventRequest, rules: ContactRules, now: datetime
) -> EventOutcome:
    """Record the event and queue (or skip) its survey, in one transaction.

    The same event id again returns the first answer (``replayed`` set) and changes nothing,
    not even the customer's properties; the same id for another customer or event type
    raises :class:`EventConflict`.
    """
    async with db.transaction() as tx:
        seen = await events.get(tx, request.event_id)
        if seen is not None:
            if (seen.customer_external_id, seen.event_type) != (
                request.customer_id,
                request.event_type,
            ):
                raise EventConflict(
                    "event_id was already used for a different customer or event type"
                )
            return EventOutcome(
                seen.survey_id,
                seen.event_id,
                seen.outcome,
                seen.reason,
                seen.send_at,
                replayed=True,
            )
        other = await surveys.get_by_event_id(tx, request.event_id)
        if other is not None:
            # Queued by another path (``npsbot survey --event-id``, an admin) under this id.
            return EventOutcome(other.id, request.event_id, SKIPPED, DUPLICATE, None)
        customer = await customers.upsert(tx, request.customer_id, now, request.properties)
        survey, reason = await create_survey_with_rules(
            tx,
            customer,
            rules,
            now,
            kind=request.kind,
            event_type=request.event_type,
            event_id=request.event_id,
            occurred_at=request.occurred_at,
            request=request,
        )
        outcome = QUEUED if reason is None else SKIPPED
        await events.record(
            tx,
            EventRecord(
                event_id=request.event_id,
                survey_id=survey.id,
                customer_external_id=request.customer_id,
                event_type=request.event_type,
                kind=request.kind,
                occurred_at=request.occurred_at or now,
                received_at=now,
                outcome=outcome,
                reason=reason,
                send_at=survey.send_at,
            ),
        )
    # Internal numbers only: the company's event and customer ids are personal data.
    log.info(
        "event (%s) for customer #%s: survey %s %s%s",
        request.event_type,
        customer.id,
        survey.id,
        outcome,
        f" ({reason})" if reason else f" for {iso(survey.send_at)}",
    )
    return EventOutcome(survey.id, request.event_id, outcome, reason, survey.send_at)
