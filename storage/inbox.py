"""The inbox: every Telegram update as received, until handled; then its id, so that a
redelivered update is recognised and changes nothing.

An update is stored (one transaction per received batch) before Telegram is told it was
received, and handled from there: a crash after the confirmation loses nothing, because
start-up handles what is still unhandled (:func:`unhandled`). Its JSON is dropped as it is
marked handled; the row itself stays for :data:`KEEP_HOURS` (Telegram keeps an update
24 hours at most, so a redelivery can never come later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.core.records import InboxOutcome, InboxUpdate, to_db_time
from storage.db import Tx

#: Handled rows are forgotten this long after they arrived (see :func:`prune`).
KEEP_HOURS = 48
# Rows per INSERT: six parameters each, well under SQLite's limit on bound parameters.
_CHUNK = 100


async def known(tx: Tx, update_ids: Sequence[int]) -> set[int]:
    """Which of ``update_ids`` the inbox holds already (handled or not)."""
    found: set[int] = set()
    for start in range(0, len(update_ids), 500):
        chunk = update_ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        rows = await tx.fetchall(f"SELECT update_id FROM inbox WHERE update_id IN ({marks})", chunk)
        found.update(int(r[0]) for r in rows)
    return found


async def store(tx: Tx, updates: Sequence[InboxUpdate], now: datetime) -> set[int]:
    """Store ``updates`` (those with an outcome as already handled, without JSON); the ids
    newly stored. An id the inbox holds already is left as it is (a redelivery)."""
    stamp = to_db_time(now)
    stored: set[int] = set()
    for start in range(0, len(updates), _CHUNK):
        chunk = updates[start : start + _CHUNK]
        values: list[object] = []
        for u in chunk:
            done = u.outcome is not None
            values += [
                u.update_id,
                u.chat_id,
                stamp,
                None if done else u.payload,
                stamp if done else None,
                u.outcome.value if u.outcome is not None else None,
            ]
        marks = ",".join("(?, ?, ?, ?, ?, ?)" for _ in chunk)
        rows = await tx.fetchall(
            "INSERT INTO inbox (update_id, chat_id, received_at, payload, handled_at, outcome) "
            f"VALUES {marks} ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            values,
        )
        stored.update(int(r[0]) for r in rows)
    return stored


_MARK = """
    INSERT INTO inbox (update_id, chat_id, received_at, payload, handled_at, outcome)
    VALUES (?, ?, ?, NULL, ?, ?)
    ON CONFLICT (update_id) DO UPDATE
        SET payload = NULL, handled_at = excluded.handled_at, outcome = excluded.outcome
        WHERE inbox.handled_at IS NULL
"""


async def claim(
    tx: Tx,
    update_id: int,
    chat_id: int | None,
    now: datetime,
    outcome: InboxOutcome = InboxOutcome.HANDLED,
) -> bool:
    """Mark the update handled inside the transaction that handles it; True the first time
    (the row waits unhandled, or there is none: an update handled without the inbox), False
    for a redelivery of one already handled."""
    stamp = to_db_time(now)
    changed = await tx.execute(_MARK, (update_id, chat_id, stamp, stamp, outcome.value))
    return changed == 1


async def settle(
    tx: Tx, outcomes: Iterable[tuple[int, int | None, InboxOutcome]], now: datetime
) -> int:
    """Mark updates handled whose handler wrote nothing (or gave up): ``(update id, chat,
    outcome)`` each; rows handled already keep their outcome. How many were marked."""
    stamp = to_db_time(now)
    marked = 0
    for uid, chat, outcome in outcomes:
        marked += await tx.execute(_MARK, (uid, chat, stamp, stamp, outcome.value))
    return marked


async def unhandled(tx: Tx) -> list[InboxUpdate]:
    """The updates stored but not yet handled, oldest first (start-up handles them)."""
    rows = await tx.fetchall(
        "SELECT update_id, chat_id, payload FROM inbox WHERE handled_at IS NULL ORDER BY update_id"
    )
    return [InboxUpdate(int(r[0]), r[1], r[2]) for r in rows]


async def prune(tx: Tx, before: datetime) -> int:
    """Forget handled updates that arrived before ``before``."""
    return await tx.execute(
        "DELETE FROM inbox WHERE received_at < ? AND handled_at IS NOT NULL",
        (to_db_time(before),),
    )
