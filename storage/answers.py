"""Answers: the score, its category, and the customer's reason."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.core.records import Answer, from_db_time, from_db_time_req, to_db_time
from storage import rollups
from storage.db import Row, Tx

_COLUMNS = (
    "id, survey_id, score, category, reason, reason_message_id, scored_at, reason_at, "
    "completed_at, drivers, drivers_done_at, drivers_message_id"
)


def _drivers(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    value = json.loads(raw)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _answer(row: Row) -> Answer:
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
        drivers=_drivers(row["drivers"]),
        drivers_done_at=from_db_time(row["drivers_done_at"]),
        drivers_message_id=row["drivers_message_id"],
    )


async def get_for_survey(tx: Tx, survey_id: int) -> Answer | None:
    """The answer to this survey, if any."""
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM answers WHERE survey_id = ?", (survey_id,))
    return _answer(row) if row else None


async def record_score(
    tx: Tx, survey_id: int, score: int, category: str, now: datetime
) -> Answer | None:
    """Store the score; None if this survey already has one (the UNIQUE key decides)."""
    changed = await tx.execute(
        """
        INSERT INTO answers (survey_id, score, category, scored_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (survey_id) DO NOTHING
        """,
        (survey_id, score, category, to_db_time(now)),
    )
    if changed != 1:
        return None
    await rollups.add(tx, [survey_id])
    return await get_for_survey(tx, survey_id)


async def record_reason(
    tx: Tx, survey_id: int, reason: str, message_id: int | None, now: datetime
) -> bool:
    """Store the reason and finish the conversation; False if it was already finished."""
    stamp = to_db_time(now)
    # A reason written while the drivers keyboard was still out also ends the drivers step.
    changed = await tx.execute(
        """
        UPDATE answers SET reason = ?, reason_message_id = ?, reason_at = ?, completed_at = ?,
            drivers_done_at = CASE WHEN drivers IS NULL THEN NULL
                                   ELSE COALESCE(drivers_done_at, ?) END
        WHERE survey_id = ? AND completed_at IS NULL
        """,
        (reason, message_id, stamp, stamp, stamp, survey_id),
    )
    return changed == 1


async def update_reason_from_edit(
    tx: Tx, chat_id: int, message_id: int, reason: str, now: datetime
) -> Answer | None:
    """The customer edited the message we stored as a reason: keep the new wording."""
    row = await tx.fetchone(
        """
        UPDATE answers SET reason = ?, reason_at = ?
        WHERE reason_message_id = ?
          AND survey_id IN (SELECT id FROM surveys WHERE chat_id = ?)
        RETURNING survey_id
        """,
        (reason, to_db_time(now), message_id, chat_id),
    )
    if row is None:
        return None
    return await get_for_survey(tx, int(row[0]))


async def finish_without_reason(tx: Tx, survey_id: int, now: datetime) -> None:
    """Close a conversation whose reason never came (expiry, or a newer survey)."""
    stamp = to_db_time(now)
    await tx.execute(
        """
        UPDATE answers SET completed_at = ?,
            drivers_done_at = CASE WHEN drivers IS NULL THEN NULL
                                   ELSE COALESCE(drivers_done_at, ?) END
        WHERE survey_id = ? AND completed_at IS NULL
        """,
        (stamp, stamp, survey_id),
    )


# --- the drivers step ------------------------------------------------------------------


def _ids_json(driver_ids: Sequence[str]) -> str:
    return json.dumps(list(driver_ids), ensure_ascii=False)


async def start_drivers(tx: Tx, survey_id: int) -> bool:
    """The drivers keyboard goes out: the chat is at the drivers step, nothing picked."""
    changed = await tx.execute(
        "UPDATE answers SET drivers = '[]' "
        "WHERE survey_id = ? AND drivers IS NULL AND completed_at IS NULL",
        (survey_id,),
    )
    return changed == 1


async def set_drivers(
    tx: Tx, survey_id: int, driver_ids: Sequence[str], message_id: int | None
) -> bool:
    """Store the current selection (a toggle); False if the step is over (nothing changed).

    ``message_id`` is the keyboard's message, remembered so the step's end can edit it.
    """
    await rollups.retract(tx, [survey_id], scores=False)
    changed = await tx.execute(
        """
        UPDATE answers SET drivers = ?, drivers_message_id = COALESCE(drivers_message_id, ?)
        WHERE survey_id = ? AND drivers IS NOT NULL AND drivers_done_at IS NULL
          AND completed_at IS NULL
        """,
        (_ids_json(driver_ids), message_id, survey_id),
    )
    await rollups.add(tx, [survey_id], scores=False)
    return changed == 1


async def finish_drivers(
    tx: Tx, survey_id: int, driver_ids: Sequence[str], message_id: int | None, now: datetime
) -> bool:
    """End the drivers step with this selection (Done); False if it had already ended."""
    await rollups.retract(tx, [survey_id], scores=False)
    changed = await tx.execute(
        """
        UPDATE answers SET drivers = ?, drivers_done_at = ?,
            drivers_message_id = COALESCE(drivers_message_id, ?)
        WHERE survey_id = ? AND drivers IS NOT NULL AND drivers_done_at IS NULL
          AND completed_at IS NULL
        """,
        (_ids_json(driver_ids), to_db_time(now), message_id, survey_id),
    )
    await rollups.add(tx, [survey_id], scores=False)
    return changed == 1


async def record_drivers_message(tx: Tx, survey_id: int, message_id: int) -> None:
    """Where the drivers keyboard landed (once Telegram accepted it)."""
    await tx.execute(
        "UPDATE answers SET drivers_message_id = ? "
        "WHERE survey_id = ? AND drivers IS NOT NULL AND drivers_message_id IS NULL",
        (message_id, survey_id),
    )
