"""Processed Telegram updates, so a redelivered update is handled once."""

from __future__ import annotations

from datetime import datetime

from bot.core.records import to_db_time
from storage.db import Tx


async def claim(tx: Tx, update_id: int, now: datetime) -> bool:
    """Record the update as handled; False if it already was (a redelivery)."""
    changed = await tx.execute(
        "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?) "
        "ON CONFLICT (update_id) DO NOTHING",
        (update_id, to_db_time(now)),
    )
    return changed == 1


async def prune(tx: Tx, before: datetime) -> int:
    """Forget updates handled before ``before`` (Telegram keeps updates 24 hours at most)."""
    changed = await tx.execute(
        "DELETE FROM processed_updates WHERE processed_at < ?", (to_db_time(before),)
    )
    return changed
