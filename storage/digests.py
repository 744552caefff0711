"""Which days' (weeks', months') scheduled digests were sent, so that none is sent twice.

Every function takes the ``period`` kind: ``"day"`` (the daily digest, the default),
``"week"`` or ``"month"``; a period is named by its first local day.

A day is *claimed* (a row inserted, primary key = the local date) in its own transaction
before anything is sent, and marked *sent* afterwards. Whoever inserts the row sends; a
second claimer (a concurrent run, a restart) finds the row and does nothing. A ``baseline``
row, written on the very first start, marks the day before the bot first ran, so a fresh
install does not post digests for days it never saw.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.core.records import to_db_time
from storage.db import Tx


async def last_day(tx: Tx, period: str = "day") -> date | None:
    """The latest day claimed, sent or recorded as the baseline (None on a new database)."""
    row = await tx.fetchone("SELECT MAX(day) FROM digests WHERE period = ?", (period,))
    return date.fromisoformat(row[0]) if row and row[0] else None


async def record_baseline(tx: Tx, day: date, now: datetime, period: str = "day") -> bool:
    """On a database with no digest rows, record ``day`` as already handled; False if any
    row exists (the baseline is only ever written once)."""
    changed = await tx.execute(
        """
        INSERT INTO digests (period, day, status, claimed_at)
        SELECT ?, ?, 'baseline', ? WHERE NOT EXISTS (SELECT 1 FROM digests WHERE period = ?)
        """,
        (period, day.isoformat(), to_db_time(now), period),
    )
    return changed == 1


async def claim(tx: Tx, day: date, now: datetime, period: str = "day") -> bool:
    """Claim ``day``'s digest; True only for the first claimer."""
    changed = await tx.execute(
        "INSERT INTO digests (period, day, status, claimed_at) VALUES (?, ?, 'claimed', ?) "
        "ON CONFLICT (period, day) DO NOTHING",
        (period, day.isoformat(), to_db_time(now)),
    )
    return changed == 1


async def mark_sent(tx: Tx, day: date, chats: int, now: datetime, period: str = "day") -> None:
    """The claimed digest went out to ``chats`` admin chats."""
    await tx.execute(
        "UPDATE digests SET status = 'sent', sent_at = ?, chats_sent = ? "
        "WHERE period = ? AND day = ?",
        (to_db_time(now), chats, period, day.isoformat()),
    )


async def interrupted(tx: Tx, period: str = "day") -> list[date]:
    """Days claimed but never marked sent: a crash between claim and send (never resent)."""
    return [
        date.fromisoformat(r[0])
        for r in await tx.fetchall(
            "SELECT day FROM digests WHERE status = 'claimed' AND period = ? ORDER BY day",
            (period,),
        )
    ]


async def status_of(tx: Tx, day: date, period: str = "day") -> str | None:
    """The recorded status of ``day`` (None when nothing was recorded)."""
    row = await tx.fetchone(
        "SELECT status FROM digests WHERE period = ? AND day = ?", (period, day.isoformat())
    )
    return str(row[0]) if row else None


async def count_sent(tx: Tx) -> int:
    """How many days' digests went out."""
    row = await tx.fetchone("SELECT COUNT(*) FROM digests WHERE status = 'sent'")
    return int(row[0]) if row else 0
