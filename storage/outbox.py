"""The outbox: Bot API calls written down in the same transaction as the state they report.

A handler commits "score stored" and "send the follow-up" together; a sender then makes the
call and marks it done. A crash in between leaves the call pending, and it is made after the
restart, so no customer is left without their follow-up question.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.core.records import OutboxItem, from_db_time_req, to_db_time
from storage.db import Row, Tx

_PENDING = "done_at IS NULL AND failed_at IS NULL"
# A member of the stored params (never sent to Telegram) listing the surveys whose
# customers a message is about: an admin message naming or quoting customers carries no
# other structured trace of them, and erasure finds such messages by it, not by their text.
ABOUT = "npsbot_about_surveys"


def _item(row: Row) -> OutboxItem:
    params = json.loads(row["params"])
    params.pop(ABOUT, None)
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        method=row["method"],
        params=params,
        survey_id=row["survey_id"],
        attempts=row["attempts"],
        created_at=from_db_time_req(row["created_at"]),
    )


async def enqueue(
    tx: Tx,
    chat_id: int,
    method: str,
    params: Mapping[str, Any],
    now: datetime,
    *,
    survey_id: int | None = None,
    about: Iterable[int] = (),
) -> int:
    """Record a Bot API call to make; returns its outbox id. ``about``: the surveys whose
    customers the message names or quotes (admin messages), so that erasing one of them
    deletes it."""
    stored = dict(params)
    subjects = sorted(set(about))
    if subjects:
        stored[ABOUT] = subjects
    item_id = await tx.fetchval(
        """
        INSERT INTO outbox (chat_id, method, params, survey_id, created_at)
        VALUES (?, ?, ?, ?, ?) RETURNING id
        """,
        (chat_id, method, json.dumps(stored, ensure_ascii=False), survey_id, to_db_time(now)),
    )
    return int(item_id)


async def pending_for_chat(tx: Tx, chat_id: int) -> list[OutboxItem]:
    """This chat's calls not yet made, in the order they were recorded."""
    return [
        _item(r)
        for r in await tx.fetchall(
            f"SELECT * FROM outbox WHERE chat_id = ? AND {_PENDING} ORDER BY id", (chat_id,)
        )
    ]


async def pending_chats(tx: Tx) -> list[int]:
    """Chats with calls not yet made (for the recovery pass after a restart)."""
    return [
        int(r[0])
        for r in await tx.fetchall(
            f"SELECT DISTINCT chat_id FROM outbox WHERE {_PENDING} ORDER BY chat_id"
        )
    ]


async def count_pending(tx: Tx) -> int:
    """How many calls wait in the outbox."""
    row = await tx.fetchone(f"SELECT COUNT(*) FROM outbox WHERE {_PENDING}")
    return int(row[0]) if row else 0


async def count_pending_for_chat(tx: Tx, chat_id: int) -> int:
    """How many calls wait in the outbox for one chat (the per-chat cap)."""
    row = await tx.fetchone(
        f"SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND {_PENDING}", (chat_id,)
    )
    return int(row[0]) if row else 0


async def mark_started(tx: Tx, item_id: int, now: datetime) -> bool:
    """Count an attempt before making the call; False if the call is no longer pending (or,
    on PostgreSQL, another transaction holds its row), and then it must not be made."""
    changed = await tx.execute(
        f"""
        UPDATE outbox SET attempts = attempts + 1, started_at = ?
        WHERE id IN (SELECT id FROM outbox WHERE id = ? AND {_PENDING}{tx.dialect.skip_locked})
        """,
        (to_db_time(now), item_id),
    )
    return changed == 1


async def mark_done(tx: Tx, item_id: int, now: datetime) -> None:
    """Telegram accepted the call."""
    await tx.execute("UPDATE outbox SET done_at = ? WHERE id = ?", (to_db_time(now), item_id))


async def mark_failed(tx: Tx, item_id: int, error: str, now: datetime) -> None:
    """Give up on the call (a permanent error, or retries exhausted)."""
    await tx.execute(
        "UPDATE outbox SET failed_at = ?, last_error = ? WHERE id = ?",
        (to_db_time(now), error[:500], item_id),
    )


async def record_error(tx: Tx, item_id: int, error: str) -> None:
    """Remember the last transient error of a call that will be retried."""
    await tx.execute("UPDATE outbox SET last_error = ? WHERE id = ?", (error[:500], item_id))
