"""Schema version 004: the outbound webhook outbox."""

from storage.schema import ID, TEXT, json_check

STATEMENTS: list[str] = [
    # One row per (event, endpoint), written in the transaction that produced the event, so
    # a delivery is never lost; the secret is not stored, only the endpoint's URL.
    """
    CREATE TABLE webhook_deliveries (
        id               INTEGER PRIMARY KEY,
        event_id         TEXT NOT NULL,
        event_type       TEXT NOT NULL,
        endpoint_url     TEXT NOT NULL,
        body             TEXT NOT NULL CHECK (json_valid(body)),
        created_at       TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  TEXT NOT NULL,
        delivered_at     TEXT,
        failed_at        TEXT,
        last_status      INTEGER,
        last_error       TEXT,
        UNIQUE (event_id, endpoint_url)
    )
    """,
    "CREATE INDEX webhook_due ON webhook_deliveries(next_attempt_at) "
    "WHERE delivered_at IS NULL AND failed_at IS NULL",
    "CREATE INDEX webhook_endpoint ON webhook_deliveries(endpoint_url, created_at)",
]

POSTGRESQL: list[str] = [
    f"""
    CREATE TABLE webhook_deliveries (
        id               {ID},
        event_id         {TEXT} NOT NULL,
        event_type       {TEXT} NOT NULL,
        endpoint_url     {TEXT} NOT NULL,
        body             {TEXT} NOT NULL {json_check("body")},
        created_at       {TEXT} NOT NULL,
        attempts         BIGINT NOT NULL DEFAULT 0,
        next_attempt_at  {TEXT} NOT NULL,
        delivered_at     {TEXT},
        failed_at        {TEXT},
        last_status      BIGINT,
        last_error       {TEXT},
        UNIQUE (event_id, endpoint_url)
    )
    """,
    "CREATE INDEX webhook_due ON webhook_deliveries(next_attempt_at) "
    "WHERE delivered_at IS NULL AND failed_at IS NULL",
    "CREATE INDEX webhook_endpoint ON webhook_deliveries(endpoint_url, created_at)",
]
