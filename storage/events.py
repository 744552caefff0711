"""Ops events: each event id once, with the answer it got, so a repeat gets the same one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.records import SurveyKind, from_db_time_req, to_db_time
from storage.db import Row, Tx


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A service event as received, and what the bot did about it."""

    event_id: str
    survey_id: int
    customer_external_id: str
    event_type: str
    kind: SurveyKind
    occurred_at: datetime
    received_at: datetime
    outcome: str  # "queued" or "skipped"
    reason: str | None
    send_at: datetime


def _event(row: Row) -> EventRecord:
    return EventRecord(
        event_id=row["event_id"],
        survey_id=row["survey_id"],
        customer_external_id=row["customer_external_id"],
        event_type=row["event_type"],
        kind=SurveyKind(row["kind"]),
        occurred_at=from_db_time_req(row["occurred_at"]),
        received_at=from_db_time_req(row["received_at"]),
        outcome=row["outcome"],
        reason=row["reason"],
        send_at=from_db_time_req(row["send_at"]),
    )


async def get(tx: Tx, event_id: str) -> EventRecord | None:
    """The event recorded under this id."""
    row = await tx.fetchone("SELECT * FROM ops_events WHERE event_id = ?", (event_id,))
    return _event(row) if row else None


async def record(tx: Tx, event: EventRecord) -> None:
    """Store an event and its outcome (in the transaction that created its survey)."""
    await tx.execute(
        """
        INSERT INTO ops_events (event_id, survey_id, customer_external_id, event_type, kind,
                                occurred_at, received_at, outcome, reason, send_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            event.event_id,
            event.survey_id,
            event.customer_external_id,
            event.event_type,
            event.kind.value,
            to_db_time(event.occurred_at),
            to_db_time(event.received_at),
            event.outcome,
            event.reason,
            to_db_time(event.send_at),
        ),
    )
