"""Detractor alerts, their notifications, resolutions, and the reply relay between an admin
chat and a customer.

Alert events are written in the same transaction as the answer that caused them, so an
alert cannot be lost to a crash; the alert flusher turns pending events into outbox
messages (batched per admin chat) and marks them notified in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.records import from_db_time, from_db_time_req, to_db_time
from storage.db import Row, Tx


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """Something the admin chats must be told about an alert."""

    id: int
    alert_id: int
    kind: str  # "score" or "reason"


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert with the answer, survey and customer it is about."""

    id: int
    survey_id: int
    score: int
    reason: str | None
    customer_id: int
    customer_ref: str
    customer_chat_id: int | None
    customer_blocked: bool
    kind: str
    event_type: str | None
    event_id: str | None
    attributes: dict[str, Any]
    scored_at: datetime
    followed_up_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolved_note: str | None


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """An admin pressed Reply on an alert; their next message goes to the customer."""

    chat_id: int
    user_id: int
    alert_id: int
    alert_message_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Relay:
    """A reply went to a customer; their next message goes back to ``admin_chat_id``."""

    id: int
    customer_id: int
    alert_id: int
    admin_chat_id: int
    alert_message_id: int
    opened_at: datetime
    expires_at: datetime


async def create(tx: Tx, survey_id: int, now: datetime) -> int:
    """The alert for this survey's answer, created if new; returns its id."""
    await tx.execute(
        "INSERT INTO alerts (survey_id, created_at) VALUES (?, ?) "
        "ON CONFLICT (survey_id) DO NOTHING",
        (survey_id, to_db_time(now)),
    )
    row = await tx.fetchone("SELECT id FROM alerts WHERE survey_id = ?", (survey_id,))
    assert row is not None
    return int(row[0])


async def id_for_survey(tx: Tx, survey_id: int) -> int | None:
    """The id of the alert about this survey, if there is one."""
    row = await tx.fetchone("SELECT id FROM alerts WHERE survey_id = ?", (survey_id,))
    return int(row[0]) if row else None


async def add_event(tx: Tx, alert_id: int, kind: str, now: datetime) -> int:
    """Record that the admin chats must hear about ``kind`` ("score" or "reason")."""
    event_id = await tx.fetchval(
        "INSERT INTO alert_events (alert_id, kind, created_at) VALUES (?, ?, ?) RETURNING id",
        (alert_id, kind, to_db_time(now)),
    )
    return int(event_id)


async def pending_events(tx: Tx, chat_id: int, limit: int) -> list[AlertEvent]:
    """Events not yet put in ``chat_id``'s outbox, oldest first."""
    rows = await tx.fetchall(
        """
        SELECT e.id, e.alert_id, e.kind FROM alert_events e
        WHERE e.notified_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM alert_deliveries d
                          WHERE d.event_id = e.id AND d.chat_id = ?)
        ORDER BY e.id LIMIT ?
        """,
        (chat_id, limit),
    )
    return [AlertEvent(int(r[0]), int(r[1]), str(r[2])) for r in rows]


async def mark_delivered(
    tx: Tx, event_ids: Sequence[int], chat_id: int, chats: Sequence[int], now: datetime
) -> None:
    """These events are in ``chat_id``'s outbox; an event in the outbox of every chat of
    ``chats`` (the admin chats configured now) is marked notified."""
    stamp = to_db_time(now)
    await tx.executemany(
        "INSERT INTO alert_deliveries (event_id, chat_id, queued_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(event_id, chat_id, stamp) for event_id in event_ids],
    )
    marks = ",".join("?" for _ in chats)
    await tx.executemany(
        f"""
        UPDATE alert_events SET notified_at = ?
        WHERE id = ? AND notified_at IS NULL
          AND (SELECT COUNT(*) FROM alert_deliveries d
               WHERE d.event_id = alert_events.id AND d.chat_id IN ({marks})) = ?
        """,
        [(stamp, event_id, *chats, len(set(chats))) for event_id in event_ids],
    )


_VIEW = """
    SELECT al.id, al.survey_id, a.score, a.reason, c.id AS customer_id, c.external_id,
           c.chat_id, c.blocked, s.kind, s.event_type, s.event_id, s.attributes, a.scored_at,
           al.followed_up_at, al.resolved_at, al.resolved_by, al.resolved_note
    FROM alerts al JOIN answers a ON a.survey_id = al.survey_id
    JOIN surveys s ON s.id = al.survey_id JOIN customers c ON c.id = s.customer_id
"""


def _view(row: Row) -> AlertView:
    attributes = json.loads(row["attributes"])
    return AlertView(
        id=int(row["id"]),
        survey_id=int(row["survey_id"]),
        score=int(row["score"]),
        reason=row["reason"],
        customer_id=int(row["customer_id"]),
        customer_ref=str(row["external_id"]),
        customer_chat_id=row["chat_id"],
        customer_blocked=bool(row["blocked"]),
        kind=str(row["kind"]),
        event_type=row["event_type"],
        event_id=row["event_id"],
        attributes=attributes if isinstance(attributes, dict) else {},
        scored_at=from_db_time_req(row["scored_at"]),
        followed_up_at=from_db_time(row["followed_up_at"]),
        resolved_at=from_db_time(row["resolved_at"]),
        resolved_by=row["resolved_by"],
        resolved_note=row["resolved_note"],
    )


async def get(tx: Tx, alert_id: int) -> AlertView | None:
    """One alert with its answer and customer."""
    row = await tx.fetchone(_VIEW + " WHERE al.id = ?", (alert_id,))
    return _view(row) if row else None


async def get_many(tx: Tx, alert_ids: Sequence[int]) -> list[AlertView]:
    """Several alerts, in the order of ``alert_ids`` (unknown ids left out)."""
    found: dict[int, AlertView] = {}
    for alert_id in dict.fromkeys(alert_ids):
        view = await get(tx, alert_id)
        if view is not None:
            found[alert_id] = view
    return [found[i] for i in dict.fromkeys(alert_ids) if i in found]


async def resolve(
    tx: Tx, alert_id: int, by: str, note: str | None, now: datetime
) -> AlertView | None:
    """Mark resolved (who, when, note); a second resolution keeps the first who/when and
    only replaces the note if a new one is given. None if there is no such alert."""
    stamp = to_db_time(now)
    await tx.execute(
        """
        UPDATE alerts SET resolved_at = COALESCE(resolved_at, ?),
            resolved_by = COALESCE(resolved_by, ?),
            resolved_note = COALESCE(?, resolved_note),
            followed_up_at = COALESCE(followed_up_at, ?)
        WHERE id = ?
        """,
        (stamp, by, note, stamp, alert_id),
    )
    return await get(tx, alert_id)


async def mark_followed_up(tx: Tx, alert_id: int, now: datetime) -> None:
    """Somebody acted on the alert (a reply reached the customer)."""
    await tx.execute(
        "UPDATE alerts SET followed_up_at = COALESCE(followed_up_at, ?) WHERE id = ?",
        (to_db_time(now), alert_id),
    )


async def set_draft(
    tx: Tx, chat_id: int, user_id: int, alert_id: int, alert_message_id: int, now: datetime
) -> None:
    """Remember that this admin's next message in this chat is a reply (replaces any other)."""
    await tx.execute(
        """
        INSERT INTO reply_drafts (chat_id, user_id, alert_id, alert_message_id, created_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (chat_id, user_id) DO UPDATE SET alert_id = excluded.alert_id,
            alert_message_id = excluded.alert_message_id, created_at = excluded.created_at
        """,
        (chat_id, user_id, alert_id, alert_message_id, to_db_time(now)),
    )


async def get_draft(tx: Tx, chat_id: int, user_id: int, since: datetime) -> ReplyDraft | None:
    """The admin's reply draft if started at or after ``since`` (older ones have lapsed)."""
    row = await tx.fetchone(
        """
        SELECT chat_id, user_id, alert_id, alert_message_id, created_at FROM reply_drafts
        WHERE chat_id = ? AND user_id = ? AND created_at >= ?
        """,
        (chat_id, user_id, to_db_time(since)),
    )
    if row is None:
        return None
    return ReplyDraft(int(row[0]), int(row[1]), int(row[2]), int(row[3]), from_db_time_req(row[4]))


async def delete_draft(tx: Tx, chat_id: int, user_id: int) -> bool:
    """Drop the admin's reply draft; False if there was none."""
    changed = await tx.execute(
        "DELETE FROM reply_drafts WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    return changed > 0


async def open_relay(
    tx: Tx,
    customer_id: int,
    alert_id: int,
    admin_chat_id: int,
    alert_message_id: int,
    now: datetime,
    expires_at: datetime,
) -> int:
    """A reply went to the customer: relay their next message back (the newest relay wins)."""
    relay_id = await tx.fetchval(
        """
        INSERT INTO relays (customer_id, alert_id, admin_chat_id, alert_message_id, opened_at,
                            expires_at)
        VALUES (?, ?, ?, ?, ?, ?) RETURNING id
        """,
        (
            customer_id,
            alert_id,
            admin_chat_id,
            alert_message_id,
            to_db_time(now),
            to_db_time(expires_at),
        ),
    )
    return int(relay_id)


async def take_relay(tx: Tx, customer_id: int, now: datetime) -> Relay | None:
    """The customer's newest open, unexpired relay, closed (with any older ones) by taking
    it: one customer message answers one reply."""
    row = await tx.fetchone(
        """
        SELECT id, customer_id, alert_id, admin_chat_id, alert_message_id, opened_at, expires_at
        FROM relays WHERE customer_id = ? AND answered_at IS NULL AND expires_at > ?
        ORDER BY opened_at DESC, id DESC LIMIT 1
        """,
        (customer_id, to_db_time(now)),
    )
    if row is None:
        return None
    await tx.execute(
        "UPDATE relays SET answered_at = ? WHERE customer_id = ? AND answered_at IS NULL",
        (to_db_time(now), customer_id),
    )
    return Relay(
        id=int(row[0]),
        customer_id=int(row[1]),
        alert_id=int(row[2]),
        admin_chat_id=int(row[3]),
        alert_message_id=int(row[4]),
        opened_at=from_db_time_req(row[5]),
        expires_at=from_db_time_req(row[6]),
    )
