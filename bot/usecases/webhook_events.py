"""Building webhook events and recording them in the outbox (inside the caller's tx)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.records import Answer, Customer, Survey
from bot.settings import WebhookSettings
from storage import Tx, answers, surveys, webhooks


def survey_payload(survey: Survey) -> dict[str, Any]:
    """The survey as receivers see it."""
    return {
        "id": survey.id,
        "kind": survey.kind.value,
        "status": survey.status.value,
        "event_type": survey.event_type,
        "event_id": survey.event_id,
        "sent_at": _iso(survey.sent_at),
        "attributes": survey.attributes,
    }


def answer_payload(answer: Answer) -> dict[str, Any]:
    """The answer as receivers see it."""
    return {
        "score": answer.score,
        "category": answer.category,
        "reason": answer.reason,
        "scored_at": _iso(answer.scored_at),
        "reason_at": _iso(answer.reason_at),
        "drivers": list(answer.drivers) if answer.drivers is not None else None,
    }


def customer_payload(customer: Customer) -> dict[str, Any]:
    """The customer as receivers see it: the company's own id and attributes."""
    return {"id": customer.external_id, "attributes": customer.attributes}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def emit(
    tx: Tx,
    settings: WebhookSettings,
    event_type: str,
    data: Mapping[str, Any],
    now: datetime,
) -> str | None:
    """Record ``event_type`` for every subscribed endpoint; returns the event id (None if
    nobody subscribed). Runs in the caller's transaction: the event exists iff the state
    change it reports was committed."""
    urls = settings.urls_for(event_type)
    if not urls:
        return None
    event_id = f"evt_{uuid.uuid4().hex}"
    body = {"id": event_id, "type": event_type, "created_at": _iso(now), "data": dict(data)}
    await webhooks.enqueue(tx, event_id, event_type, body, urls, now)
    return event_id


async def notify(
    tx: Tx,
    settings: WebhookSettings,
    event_type: str,
    survey_id: int,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> str | None:
    """Emit ``event_type`` about a survey with its customer and answer as stored now.

    Reads in the caller's transaction, so the payload shows exactly the state being
    committed; does nothing (and reads nothing) when no endpoint subscribed.
    """
    if not settings.urls_for(event_type):
        return None
    found = await surveys.get_with_customer(tx, survey_id)
    if found is None:
        return None
    survey, customer = found
    answer = await answers.get_for_survey(tx, survey_id)
    data: dict[str, Any] = {
        "survey": survey_payload(survey),
        "customer": customer_payload(customer),
        "answer": answer_payload(answer) if answer is not None else None,
        **(extra or {}),
    }
    return await emit(tx, settings, event_type, data, now)


async def notify_customer(
    tx: Tx, settings: WebhookSettings, event_type: str, customer: Customer, now: datetime
) -> str | None:
    """Emit an event about a customer alone (opted out)."""
    if not settings.urls_for(event_type):
        return None
    return await emit(tx, settings, event_type, {"customer": customer_payload(customer)}, now)
