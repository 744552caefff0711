"""Customers: who they are, which chat they are linked to, whether they may be surveyed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.records import Customer, from_db_time, from_db_time_req, to_db_time
from storage.db import Row, Tx

_COLUMNS = (
    "id, external_id, chat_id, language, attributes, opted_out, blocked, linked_at, "
    "created_at, updated_at, telegram_language"
)


def _customer(row: Row) -> Customer:
    return Customer(
        id=row["id"],
        external_id=row["external_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        attributes=json.loads(row["attributes"]),
        opted_out=bool(row["opted_out"]),
        blocked=bool(row["blocked"]),
        linked_at=from_db_time(row["linked_at"]),
        created_at=from_db_time_req(row["created_at"]),
        updated_at=from_db_time_req(row["updated_at"]),
        telegram_language=row["telegram_language"],
    )


async def _one(tx: Tx, where: str, *args: Any) -> Customer | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM customers WHERE {where}", args)
    return _customer(row) if row else None


async def get(tx: Tx, customer_id: int) -> Customer | None:
    """The customer with this internal id."""
    return await _one(tx, "id = ?", customer_id)


async def get_by_external_id(tx: Tx, external_id: str) -> Customer | None:
    """The customer with the company's own id."""
    return await _one(tx, "external_id = ?", external_id)


async def get_by_chat(tx: Tx, chat_id: int) -> Customer | None:
    """The customer linked to this Telegram chat."""
    return await _one(tx, "chat_id = ?", chat_id)


async def upsert(
    tx: Tx, external_id: str, now: datetime, attributes: Mapping[str, Any] | None = None
) -> Customer:
    """Create the customer if new; merge ``attributes`` into the stored ones.

    The merge is per top-level key: a given key's value replaces the stored one whole
    (``None`` included); keys not given are kept.
    """
    stamp = to_db_time(now)
    existing = await get_by_external_id(tx, external_id)
    if existing is None:
        await tx.execute(
            "INSERT INTO customers (external_id, attributes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (external_id, json.dumps(dict(attributes or {}), ensure_ascii=False), stamp, stamp),
        )
    elif attributes:
        merged = {**existing.attributes, **attributes}
        await tx.execute(
            "UPDATE customers SET attributes = ?, updated_at = ? WHERE id = ?",
            (json.dumps(merged, ensure_ascii=False), stamp, existing.id),
        )
    customer = await get_by_external_id(tx, external_id)
    assert customer is not None
    return customer


async def chats_of(tx: Tx, customer_ids: Sequence[int]) -> dict[int, int | None]:
    """Each customer's chat (None: not linked), for customers that exist."""
    found: dict[int, int | None] = {}
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
        chunk = ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        rows = await tx.fetchall(f"SELECT id, chat_id FROM customers WHERE id IN ({marks})", chunk)
        found.update((int(r[0]), r[1]) for r in rows)
    return found


async def link_chat(
    tx: Tx, external_id: str, chat_id: int, telegram_language: str | None, now: datetime
) -> tuple[Customer, str | None]:
    """Link ``chat_id`` to the customer, creating the customer if needed.

    ``telegram_language`` is the user's ``language_code`` as Telegram sent it (kept when
    None: Telegram omits it sometimes). The customer's explicit choice is left alone.

    A chat belongs to one customer: if it was linked to another one, that link is removed and
    the other customer's external id is returned so the caller can log the move. Linking also
    clears opt-out and blocked: pressing Start on a signed link is an explicit opt-in.
    """
    stamp = to_db_time(now)
    previous: str | None = None
    other = await get_by_chat(tx, chat_id)
    if other is not None and other.external_id != external_id:
        previous = other.external_id
        await tx.execute(
            "UPDATE customers SET chat_id = NULL, updated_at = ? WHERE id = ?", (stamp, other.id)
        )
    await upsert(tx, external_id, now)
    await tx.execute(
        """
        UPDATE customers SET chat_id = ?, telegram_language = COALESCE(?, telegram_language),
            opted_out = 0, blocked = 0, linked_at = ?, updated_at = ?
        WHERE external_id = ?
        """,
        (chat_id, telegram_language[:35] if telegram_language else None, stamp, stamp, external_id),
    )
    customer = await get_by_external_id(tx, external_id)
    assert customer is not None
    return customer, previous


async def set_language(tx: Tx, customer_id: int, language: str, now: datetime) -> None:
    """Record the language the customer chose with /language."""
    await tx.execute(
        "UPDATE customers SET language = ?, updated_at = ? WHERE id = ?",
        (language, to_db_time(now), customer_id),
    )


async def note_telegram_language(
    tx: Tx, customer: Customer, telegram_language: str | None, now: datetime
) -> bool:
    """Keep Telegram's ``language_code`` for the customer when it changed (the app language
    is the fallback when they never chose one). An absent code changes nothing. Returns
    whether it was stored."""
    if not telegram_language or telegram_language == customer.telegram_language:
        return False
    await tx.execute(
        "UPDATE customers SET telegram_language = ?, updated_at = ? WHERE id = ?",
        (telegram_language[:35], to_db_time(now), customer.id),
    )
    return True


async def set_opted_out(tx: Tx, customer_id: int, opted_out: bool, now: datetime) -> None:
    """Record the customer's choice to (not) receive surveys."""
    await tx.execute(
        "UPDATE customers SET opted_out = ?, updated_at = ? WHERE id = ?",
        (int(opted_out), to_db_time(now), customer_id),
    )


async def set_blocked(tx: Tx, customer_id: int, blocked: bool, now: datetime) -> None:
    """Record that the customer blocked (or unblocked) the bot."""
    await tx.execute(
        "UPDATE customers SET blocked = ?, updated_at = ? WHERE id = ?",
        (int(blocked), to_db_time(now), customer_id),
    )


async def mark_blocked_by_chat(tx: Tx, chat_id: int, now: datetime) -> None:
    """Telegram said 403 for this chat: stop surveying whoever is linked to it."""
    await tx.execute(
        "UPDATE customers SET blocked = 1, updated_at = ? WHERE chat_id = ?",
        (to_db_time(now), chat_id),
    )


async def surveyable(tx: Tx) -> list[tuple[int, str]]:
    """(id, external id) of every customer who may be surveyed: linked, not opted out,
    not blocked."""
    return [
        (int(r[0]), str(r[1]))
        for r in await tx.fetchall(
            "SELECT id, external_id FROM customers "
            "WHERE chat_id IS NOT NULL AND opted_out = 0 AND blocked = 0 ORDER BY id"
        )
    ]


# --- deep links: single use, relinks, refused attempts ------------------------------------


async def link_used(tx: Tx, customer_id: int, link_key: str) -> bool:
    """Whether the customer's link with this key has linked a chat already."""
    return (
        await tx.fetchone(
            "SELECT 1 FROM link_uses WHERE customer_id = ? AND link_key = ?",
            (customer_id, link_key),
        )
        is not None
    )


async def record_link_use(tx: Tx, customer_id: int, link_key: str, now: datetime) -> None:
    """Remember that this link has been used (it will link no chat again)."""
    await tx.execute(
        "INSERT INTO link_uses (customer_id, link_key, used_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (customer_id, link_key, to_db_time(now)),
    )


async def relink_key(tx: Tx, customer_id: int) -> str | None:
    """The key of the link an ops relink made valid for moving the customer, if any."""
    row = await tx.fetchone("SELECT relink_key FROM customers WHERE id = ?", (customer_id,))
    return None if row is None or row[0] is None else str(row[0])


async def set_relink_key(tx: Tx, customer_id: int, link_key: str | None, now: datetime) -> None:
    """Allow the link with ``link_key`` (only it) to move the customer to another chat;
    None: no link may."""
    await tx.execute(
        "UPDATE customers SET relink_key = ?, updated_at = ? WHERE id = ?",
        (link_key, to_db_time(now), customer_id),
    )


async def record_link_refusal(tx: Tx, customer_id: int, reason: str, now: datetime) -> None:
    """A chat opened a link of this customer it may not use (``linked_elsewhere``: the
    customer is linked to another chat; ``used``: the link was used already)."""
    await tx.execute(
        "INSERT INTO link_refusals (customer_id, reason, attempted_at) VALUES (?, ?, ?)",
        (customer_id, reason, to_db_time(now)),
    )


async def link_refusals(
    tx: Tx, customer_id: int, limit: int = 10
) -> tuple[int, list[tuple[datetime, str]]]:
    """How many link attempts were refused for the customer, and the latest ``limit`` as
    (time, reason), newest first."""
    row = await tx.fetchone(
        "SELECT COUNT(*) FROM link_refusals WHERE customer_id = ?", (customer_id,)
    )
    count = int(row[0]) if row else 0
    rows = await tx.fetchall(
        "SELECT attempted_at, reason FROM link_refusals WHERE customer_id = ? "
        "ORDER BY id DESC LIMIT ?",
        (customer_id, limit),
    )
    return count, [(from_db_time_req(r[0]), str(r[1])) for r in rows]


async def count_link_refusals_since(tx: Tx, since: datetime) -> int:
    """Link attempts refused (for any customer) at or after ``since``."""
    row = await tx.fetchone(
        "SELECT COUNT(*) FROM link_refusals WHERE attempted_at >= ?", (to_db_time(since),)
    )
    return int(row[0]) if row else 0
