"""Surveys: queued, sent, answered, closed. Every state change is a guarded UPDATE."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.records import (
    Customer,
    OpenConversation,
    Survey,
    SurveyKind,
    SurveyStatus,
    from_db_time,
    from_db_time_req,
    to_db_time,
)
from storage import customers
from storage.db import Row, Tx

_COLUMNS = (
    "s.id, s.customer_id, s.kind, s.event_type, s.event_id, s.status, s.status_reason, "
    "s.attributes, s.send_at, s.send_attempts, s.send_started_at, s.chat_id, s.message_id, "
    "s.created_at, s.sent_at, s.answered_at, s.closed_at"
)


def _survey(row: Row) -> Survey:
    return Survey(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=SurveyKind(row["kind"]),
        event_type=row["event_type"],
        event_id=row["event_id"],
        status=SurveyStatus(row["status"]),
        status_reason=row["status_reason"],
        attributes=json.loads(row["attributes"]),
        send_at=from_db_time_req(row["send_at"]),
        send_attempts=row["send_attempts"],
        send_started_at=from_db_time(row["send_started_at"]),
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        created_at=from_db_time_req(row["created_at"]),
        sent_at=from_db_time(row["sent_at"]),
        answered_at=from_db_time(row["answered_at"]),
        closed_at=from_db_time(row["closed_at"]),
    )


async def create(
    tx: Tx,
    customer_id: int,
    kind: SurveyKind,
    now: datetime,
    *,
    send_at: datetime | None = None,
    event_type: str | None = None,
    event_id: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Survey:
    """Queue a survey (status pending) to be sent at ``send_at`` (default: now)."""
    stamp = to_db_time(now)
    survey_id = await tx.fetchval(
        """
        INSERT INTO surveys (customer_id, kind, event_type, event_id, attributes, send_at,
                             created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
        """,
        (
            customer_id,
            kind.value,
            event_type,
            event_id,
            json.dumps(dict(attributes or {}), ensure_ascii=False),
            to_db_time(send_at or now),
            stamp,
        ),
    )
    survey = await get(tx, int(survey_id))
    assert survey is not None
    return survey


async def get(tx: Tx, survey_id: int) -> Survey | None:
    """The survey with this id."""
    sql = f"SELECT {_COLUMNS} FROM surveys s WHERE s.id = ?"
    row = await tx.fetchone(sql, (survey_id,))
    return _survey(row) if row else None


async def get_by_event_id(tx: Tx, event_id: str) -> Survey | None:
    """The survey created for this triggering event (the idempotency key)."""
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM surveys s WHERE s.event_id = ?", (event_id,))
    return _survey(row) if row else None


async def due(tx: Tx, now: datetime, limit: int, *, part: tuple[int, int] = (0, 1)) -> list[Survey]:
    """Pending surveys whose send time has come, oldest first. ``part`` = (i, n): only
    those of customers whose id is i modulo n (one process's share of the work)."""
    index, parts = part
    share = "AND MOD(s.customer_id, ?) = ?" if parts > 1 else ""
    args: tuple[object, ...] = (parts, index) if parts > 1 else ()
    rows = await tx.fetchall(
        f"""
        SELECT {_COLUMNS} FROM surveys s
        WHERE s.status = 'pending' AND s.send_at <= ? {share}
        ORDER BY s.send_at, s.id LIMIT ?
        """,
        (to_db_time(now), *args, limit),
    )
    return [_survey(r) for r in rows]


async def next_due_time(tx: Tx) -> datetime | None:
    """When the earliest pending survey falls due (None if nothing is queued)."""
    row = await tx.fetchone("SELECT MIN(send_at) FROM surveys WHERE status = 'pending'")
    return from_db_time(row[0]) if row else None


async def count_by_status(tx: Tx) -> dict[SurveyStatus, int]:
    """How many surveys are in each status."""
    rows = await tx.fetchall("SELECT status, COUNT(*) FROM surveys GROUP BY status")
    counts = {s: 0 for s in SurveyStatus}
    for status, n in rows:
        counts[SurveyStatus(status)] = n
    return counts


async def count_ever_sent(tx: Tx) -> int:
    """How many surveys ever reached a customer (whatever became of them after)."""
    row = await tx.fetchone("SELECT COUNT(*) FROM surveys WHERE sent_at IS NOT NULL")
    return int(row[0]) if row else 0


async def mark_send_started(
    tx: Tx, survey_id: int, now: datetime, *, attempts: int | None = None
) -> bool:
    """Record an attempt *before* calling Telegram; False if the survey is no longer pending
    (or, on PostgreSQL, another transaction holds its row: that one is sending it).

    ``attempts``: the count read with the survey. Then the claim also needs the count
    unchanged and the send time come, so a survey read before another process claimed,
    postponed or deferred it is not sent on that stale read."""
    guard = "AND send_attempts = ? AND send_at <= ?" if attempts is not None else ""
    args: tuple[object, ...] = (attempts, to_db_time(now)) if attempts is not None else ()
    changed = await tx.execute(
        f"""
        UPDATE surveys SET send_attempts = send_attempts + 1, send_started_at = ?
        WHERE id IN (SELECT id FROM surveys WHERE id = ? AND status = 'pending' {guard}
                     {tx.dialect.skip_locked})
        """,
        (to_db_time(now), survey_id, *args),
    )
    return changed == 1


async def postpone(tx: Tx, survey_id: int, send_at: datetime, reason: str | None) -> None:
    """Retry later (after a transient error); the attempt stays counted."""
    await tx.execute(
        """
        UPDATE surveys SET send_at = ?, send_started_at = NULL, status_reason = ?
        WHERE id = ? AND status = 'pending'
        """,
        (to_db_time(send_at), reason, survey_id),
    )


async def mark_sent(tx: Tx, survey_id: int, chat_id: int, message_id: int, now: datetime) -> bool:
    """The question is in the customer's chat: remember where, to edit it later."""
    changed = await tx.execute(
        """
        UPDATE surveys SET status = 'sent', status_reason = NULL, chat_id = ?, message_id = ?,
            sent_at = ?
        WHERE id = ? AND status = 'pending'
        """,
        (chat_id, message_id, to_db_time(now), survey_id),
    )
    return changed == 1


async def close(
    tx: Tx,
    survey_id: int,
    status: SurveyStatus,
    reason: str | None,
    now: datetime,
    *,
    from_statuses: tuple[SurveyStatus, ...] = (SurveyStatus.PENDING,),
) -> bool:
    """Move a survey to a final status (skipped / failed / expired) if it is still open."""
    marks = ",".join("?" for _ in from_statuses)
    changed = await tx.execute(
        f"""
        UPDATE surveys SET status = ?, status_reason = ?, closed_at = ?
        WHERE id = ? AND status IN ({marks})
        """,
        (status.value, reason, to_db_time(now), survey_id, *(s.value for s in from_statuses)),
    )
    return changed == 1


async def mark_answered(tx: Tx, survey_id: int, now: datetime) -> bool:
    """sent → answered; False if the survey was not awaiting a score (a second press)."""
    changed = await tx.execute(
        "UPDATE surveys SET status = 'answered', answered_at = ? WHERE id = ? AND status = 'sent'",
        (to_db_time(now), survey_id),
    )
    return changed == 1


async def open_conversation(tx: Tx, chat_id: int) -> OpenConversation | None:
    """The survey this chat is answering now: the latest one sent TO THIS CHAT and not yet
    finished, of the customer linked to it.

    Both conditions matter: a customer's survey sent to another chat (before a relink) is
    not answered from here, and a chat that no longer holds the customer answers nothing.
    """
    from storage import answers

    customer = await customers.get_by_chat(tx, chat_id)
    if customer is None:
        return None
    row = await tx.fetchone(
        f"""
        SELECT {_COLUMNS} FROM surveys s LEFT JOIN answers a ON a.survey_id = s.id
        WHERE s.customer_id = ? AND s.chat_id = ?
          AND (s.status = 'sent' OR (s.status = 'answered' AND a.completed_at IS NULL))
        ORDER BY s.sent_at DESC, s.id DESC LIMIT 1
        """,
        (customer.id, chat_id),
    )
    if row is None:
        return None
    survey = _survey(row)
    answer = await answers.get_for_survey(tx, survey.id)
    return OpenConversation(survey=survey, customer=customer, answer=answer)


async def get_with_customer(tx: Tx, survey_id: int) -> tuple[Survey, Customer] | None:
    """A survey together with its customer."""
    survey = await get(tx, survey_id)
    if survey is None:
        return None
    customer = await customers.get(tx, survey.customer_id)
    assert customer is not None  # foreign key
    return survey, customer


# --- ops side: contact rules, reminders, expiry, health ----------------------------------


async def contacts(tx: Tx, customer_id: int, since: datetime) -> list[tuple[datetime, str | None]]:
    """(time, event type) of the customer's surveys that reached or will reach them, at or
    after ``since``: sent ones at their send time, queued ones at their planned time.
    Skipped and failed surveys never reached the customer and do not count."""
    rows = await tx.fetchall(
        """
        SELECT COALESCE(sent_at, send_at) AS at, event_type FROM surveys
        WHERE customer_id = ? AND status IN ('pending', 'sent', 'answered', 'expired')
          AND COALESCE(sent_at, send_at) >= ?
        ORDER BY at
        """,
        (customer_id, to_db_time(since)),
    )
    return [(from_db_time_req(r["at"]), r["event_type"]) for r in rows]


async def defer(tx: Tx, survey_id: int, send_at: datetime) -> bool:
    """Move a pending survey's send time (quiet hours); no attempt is counted."""
    changed = await tx.execute(
        "UPDATE surveys SET send_at = ? WHERE id = ? AND status = 'pending'",
        (to_db_time(send_at), survey_id),
    )
    return changed == 1


async def sent_before(tx: Tx, cutoff: datetime, limit: int) -> list[Survey]:
    """Unanswered surveys sent at or before ``cutoff`` (candidates for expiry), oldest first."""
    rows = await tx.fetchall(
        f"""
        SELECT {_COLUMNS} FROM surveys s
        WHERE s.status = 'sent' AND s.sent_at <= ?
        ORDER BY s.sent_at, s.id LIMIT ?
        """,
        (to_db_time(cutoff), limit),
    )
    return [_survey(r) for r in rows]


async def unreminded_sent_between(
    tx: Tx, after: datetime, cutoff: datetime, limit: int
) -> list[Survey]:
    """Unanswered surveys without a reminder, sent in (``after``, ``cutoff``], oldest first."""
    rows = await tx.fetchall(
        f"""
        SELECT {_COLUMNS} FROM surveys s
        WHERE s.status = 'sent' AND s.reminded_at IS NULL AND s.sent_at > ? AND s.sent_at <= ?
        ORDER BY s.sent_at, s.id LIMIT ?
        """,
        (to_db_time(after), to_db_time(cutoff), limit),
    )
    return [_survey(r) for r in rows]


async def mark_reminded(tx: Tx, survey_id: int, now: datetime) -> bool:
    """Record the one reminder; False if already reminded or no longer awaiting a score."""
    changed = await tx.execute(
        "UPDATE surveys SET reminded_at = ? "
        "WHERE id = ? AND status = 'sent' AND reminded_at IS NULL",
        (to_db_time(now), survey_id),
    )
    return changed == 1


async def reminded_at(tx: Tx, survey_id: int) -> datetime | None:
    """When the survey's reminder was recorded (None: no reminder)."""
    row = await tx.fetchone("SELECT reminded_at FROM surveys WHERE id = ?", (survey_id,))
    return from_db_time(row[0]) if row else None


async def queue_depth(tx: Tx, now: datetime) -> tuple[int, int]:
    """(pending surveys, pending surveys already due)."""
    row = await tx.fetchone(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN send_at <= ? THEN 1 ELSE 0 END), 0) "
        "FROM surveys WHERE status = 'pending'",
        (to_db_time(now),),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def last_sent_at(tx: Tx) -> datetime | None:
    """When the latest survey question reached a customer."""
    row = await tx.fetchone("SELECT MAX(sent_at) FROM surveys")
    return from_db_time(row[0]) if row else None


async def existing_event_ids(tx: Tx, event_ids: list[str]) -> set[str]:
    """Which of ``event_ids`` already have a survey."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):  # stay under SQLite's variable limit
        chunk = event_ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        found.update(
            r[0]
            for r in await tx.fetchall(
                f"SELECT event_id FROM surveys WHERE event_id IN ({marks})", chunk
            )
        )
    return found
