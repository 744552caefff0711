"""Queueing a survey for a customer: the one entry point for the CLI, the API and admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.linking import validate_customer_id
from bot.core.records import SurveyKind, SurveyStatus
from bot.usecases.dispatching import skip_reason
from storage import Database, customers, surveys


@dataclass(frozen=True)
class QueueResult:
    """What happened to a request for a survey."""

    survey_id: int
    status: SurveyStatus
    reason: str | None
    duplicate: bool = False


async def queue_survey(
    db: Database,
    external_id: str,
    now: datetime,
    *,
    kind: SurveyKind = SurveyKind.TRANSACTIONAL,
    send_at: datetime | None = None,
    event_type: str | None = None,
    event_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> QueueResult:
    """Queue a survey for the customer with the company's id ``external_id``.

    An unknown customer is created (unlinked), so the request is recorded; a customer who
    cannot be surveyed gets a survey closed as skipped with the reason, never a message.
    The same ``event_id`` twice returns the first survey with ``duplicate`` set.
    """
    external_id = validate_customer_id(external_id)
    async with db.transaction() as tx:
        if event_id is not None:
            existing = await surveys.get_by_event_id(tx, event_id)
            if existing is not None:
                return QueueResult(existing.id, existing.status, existing.status_reason, True)
        customer = await customers.upsert(tx, external_id, now, attributes)
        survey = await surveys.create(
            tx,
            customer.id,
            kind,
            now,
            send_at=send_at,
            event_type=event_type,
            event_id=event_id,
            attributes=customer.attributes,
        )
        reason = skip_reason(customer)
        if reason is not None:
            await surveys.close(tx, survey.id, SurveyStatus.SKIPPED, reason, now)
            return QueueResult(survey.id, SurveyStatus.SKIPPED, reason)
        return QueueResult(survey.id, SurveyStatus.PENDING, None)
