"""The webhook outbox: deliveries recorded before they are attempted."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.records import from_db_time, from_db_time_req, to_db_time
from storage.db import Row, Tx


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event to deliver to one endpoint."""

    id: int
    event_id: str
    event_type: str
    endpoint_url: str
    body: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """How an endpoint is doing: for /stats and /healthz."""

    endpoint_url: str
    pending: int
    failed_recently: int
    retrying: int
    last_error: str | None


def _delivery(row: Row) -> WebhookDelivery:
    return WebhookDelivery(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        endpoint_url=row["endpoint_url"],
        body=row["body"],
        created_at=from_db_time_req(row["created_at"]),
        attempts=row["attempts"],
        next_attempt_at=from_db_time_req(row["next_attempt_at"]),
        delivered_at=from_db_time(row["delivered_at"]),
        failed_at=from_db_time(row["failed_at"]),
        last_status=row["last_status"],
        last_error=row["last_error"],
    )


async def enqueue(
    tx: Tx,
    event_id: str,
    event_type: str,
    body: Mapping[str, Any],
    endpoint_urls: Sequence[str],
    now: datetime,
) -> int:
    """Record the event for each endpoint; returns how many deliveries were added."""
    text = json.dumps(dict(body), ensure_ascii=False, separators=(",", ":"))
    stamp = to_db_time(now)
    added = 0
    for url in endpoint_urls:
        changed = await tx.execute(
            """
            INSERT INTO webhook_deliveries (event_id, event_type, endpoint_url, body,
                                            created_at, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, endpoint_url) DO NOTHING
            """,
            (event_id, event_type, url, text, stamp, stamp),
        )
        added += changed
    return added


async def count_pending(tx: Tx) -> int:
    """How many deliveries are neither delivered nor given up."""
    row = await tx.fetchone(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL"
    )
    return int(row[0]) if row else 0


async def due(tx: Tx, now: datetime, limit: int) -> list[WebhookDelivery]:
    """Deliveries whose next attempt has come, oldest first."""
    return [
        _delivery(r)
        for r in await tx.fetchall(
            """
        SELECT * FROM webhook_deliveries
        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id LIMIT ?
        """,
            (to_db_time(now), limit),
        )
    ]


async def claim_due(
    tx: Tx, now: datetime, limit: int, hold_until: datetime
) -> list[WebhookDelivery]:
    """Take the deliveries whose next attempt has come, oldest first, for one attempt:
    their next attempt moves to ``hold_until``, so no other process (nor a later pass of
    this one) takes them while the attempt runs; the attempt's outcome sets it again. Rows
    another transaction holds are passed over (PostgreSQL's ``SKIP LOCKED``)."""
    rows = await tx.fetchall(
        f"""
        UPDATE webhook_deliveries SET next_attempt_at = ?
        WHERE id IN (SELECT id FROM webhook_deliveries
                     WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
                     ORDER BY next_attempt_at, id LIMIT ?{tx.dialect.skip_locked})
        RETURNING *
        """,
        (to_db_time(hold_until), to_db_time(now), limit),
    )
    taken = [_delivery(r) for r in rows]
    return sorted(taken, key=lambda d: (d.created_at, d.id))


async def release(tx: Tx, delivery_ids: Sequence[int], now: datetime) -> None:
    """Give back claimed deliveries that were not attempted (a stop came first): due now."""
    for delivery_id in delivery_ids:
        await tx.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = ? "
            "WHERE id = ? AND delivered_at IS NULL AND failed_at IS NULL",
            (to_db_time(now), delivery_id),
        )


async def next_due_time(tx: Tx) -> datetime | None:
    """When the earliest pending delivery falls due."""
    row = await tx.fetchone(
        "SELECT MIN(next_attempt_at) FROM webhook_deliveries "
        "WHERE delivered_at IS NULL AND failed_at IS NULL"
    )
    return from_db_time(row[0]) if row else None


async def get(tx: Tx, delivery_id: int) -> WebhookDelivery | None:
    """One delivery by id."""
    row = await tx.fetchone("SELECT * FROM webhook_deliveries WHERE id = ?", (delivery_id,))
    return _delivery(row) if row else None


async def mark_delivered(tx: Tx, delivery_id: int, status: int, now: datetime) -> None:
    """The endpoint answered 2xx."""
    await tx.execute(
        "UPDATE webhook_deliveries SET delivered_at = ?, attempts = attempts + 1, "
        "last_status = ?, last_error = NULL WHERE id = ?",
        (to_db_time(now), status, delivery_id),
    )


async def mark_retry(
    tx: Tx, delivery_id: int, status: int | None, error: str, next_attempt: datetime
) -> None:
    """A transient failure: try again at ``next_attempt``."""
    await tx.execute(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, "
        "last_error = ?, next_attempt_at = ? WHERE id = ?",
        (status, error[:300], to_db_time(next_attempt), delivery_id),
    )


async def mark_failed(
    tx: Tx, delivery_id: int, status: int | None, error: str, now: datetime
) -> None:
    """Give up on the delivery (a 4xx, or retried for too long)."""
    await tx.execute(
        "UPDATE webhook_deliveries SET failed_at = ?, attempts = attempts + 1, "
        "last_status = ?, last_error = ? WHERE id = ?",
        (to_db_time(now), status, error[:300], delivery_id),
    )


async def endpoint_health(tx: Tx, since: datetime) -> list[EndpointHealth]:
    """Per endpoint: pending deliveries, failures since ``since``, the last error."""
    rows = await tx.fetchall(
        """
        SELECT endpoint_url,
               SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END)
                   AS pending,
               SUM(CASE WHEN failed_at IS NOT NULL AND failed_at >= ? THEN 1 ELSE 0 END)
                   AS failed_recently,
               SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL AND attempts > 0
                        THEN 1 ELSE 0 END) AS retrying,
               (SELECT last_error FROM webhook_deliveries w2
                 WHERE w2.endpoint_url = w.endpoint_url AND last_error IS NOT NULL
                 ORDER BY id DESC LIMIT 1) AS last_error
        FROM webhook_deliveries w
        WHERE created_at >= ? OR (delivered_at IS NULL AND failed_at IS NULL)
        GROUP BY endpoint_url ORDER BY endpoint_url
        """,
        (to_db_time(since), to_db_time(since)),
    )
    return [
        EndpointHealth(
            endpoint_url=r["endpoint_url"],
            pending=int(r["pending"] or 0),
            failed_recently=int(r["failed_recently"] or 0),
            retrying=int(r["retrying"] or 0),
            last_error=r["last_error"],
        )
        for r in rows
    ]
