"""Answers: the score, its category, and the customer's reason."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.db import Tx
from storage.records import Answer, from_db_time, from_db_time_req, to_db_time

_COLUMNS = (
    "id, survey_id, score, category, reason, reason_message_id, scored_at, reason_at, completed_at"
)


def _answer(row: aiosqlite.Row) -> Answer:
    return Answer(
        id=row["id"],
        survey_id=row["survey_id"],
        score=row["score"],
        category=row["category"],
        reason=row["reason"],
        reason_message_id=row["reason_message_id"],
        scored_at=from_db_time_req(row["scored_at"]),
        reason_at=from_db_time(row["reason_at"]),
        completed_at=from_db_time(row["completed_at"]),
    )


async def get_for_survey(tx: Tx, survey_id: int) -> Answer | None:
    """The answer to this survey, if any."""
    async with tx.conn.execute(
        f"SELECT {_COLUMNS} FROM answers WHERE survey_id = ?", (survey_id,)
    ) as cur:
        row = await cur.fetchone()
    return _answer(row) if row else None


async def record_score(
    tx: Tx, survey_id: int, score: int, category: str, now: datetime
) -> Answer | None:
    """Store the score; None if this survey already has one (the UNIQUE key decides)."""
    cur = await tx.conn.execute(
        """
        INSERT INTO answers (survey_id, score, category, scored_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (survey_id) DO NOTHING
        """,
        (survey_id, score, category, to_db_time(now)),
    )
    if cur.rowcount != 1:
        return None
    return await get_for_survey(tx, survey_id)


async def record_reason(
    tx: Tx, survey_id: int, reason: str, message_id: int | None, now: datetime
) -> bool:
    """Store the reason and finish the conversation; False if it was already finished."""
    stamp = to_db_time(now)
    cur = await tx.conn.execute(
        """
        UPDATE answers SET reason = ?, reason_message_id = ?, reason_at = ?, completed_at = ?
        WHERE survey_id = ? AND completed_at IS NULL
        """,
        (reason, message_id, stamp, stamp, survey_id),
    )
    return cur.rowcount == 1


async def update_reason_from_edit(
    tx: Tx, chat_id: int, message_id: int, reason: str, now: datetime
) -> Answer | None:
    """The customer edited the message we stored as a reason: keep the new wording."""
    cur = await tx.conn.execute(
        """
        UPDATE answers SET reason = ?, reason_at = ?
        WHERE reason_message_id = ?
          AND survey_id IN (SELECT id FROM surveys WHERE chat_id = ?)
        RETURNING survey_id
        """,
        (reason, to_db_time(now), message_id, chat_id),
    )
    row = await cur.fetchone()
    await cur.close()
    if row is None:
        return None
    return await get_for_survey(tx, int(row[0]))


async def finish_without_reason(tx: Tx, survey_id: int, now: datetime) -> None:
    """Close a conversation whose reason never came (expiry, or a newer survey)."""
    await tx.conn.execute(
        "UPDATE answers SET completed_at = ? WHERE survey_id = ? AND completed_at IS NULL",
        (to_db_time(now), survey_id),
    )
