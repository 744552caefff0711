"""Schema version 002: the ops side (events, contact rules, relationship cycle, reminders)."""

from storage.schema import TEXT

STATEMENTS: list[str] = [
    # When the one reminder to a non-responder was recorded (NULL: none yet).
    "ALTER TABLE surveys ADD COLUMN reminded_at TEXT",
    "CREATE INDEX surveys_unreminded ON surveys(sent_at) "
    "WHERE status = 'sent' AND reminded_at IS NULL",
    # Contact rules look at one customer's recent surveys.
    "CREATE INDEX surveys_customer_send ON surveys(customer_id, send_at)",
    # Each ops event once: the answer given the first time is replayed for a repeated id.
    """
        CREATE TABLE ops_events (
            event_id              TEXT PRIMARY KEY,
            survey_id             INTEGER NOT NULL REFERENCES surveys(id),
            customer_external_id  TEXT NOT NULL,
            event_type            TEXT NOT NULL,
            kind                  TEXT NOT NULL
                                  CHECK (kind IN ('transactional', 'relationship', 'episode')),
            occurred_at           TEXT NOT NULL,
            received_at           TEXT NOT NULL,
            outcome               TEXT NOT NULL CHECK (outcome IN ('queued', 'skipped')),
            reason                TEXT,
            send_at               TEXT NOT NULL
        ) WITHOUT ROWID
        """,
]

POSTGRESQL: list[str] = [
    "ALTER TABLE surveys ADD COLUMN reminded_at " + TEXT,
    "CREATE INDEX surveys_unreminded ON surveys(sent_at) "
    "WHERE status = 'sent' AND reminded_at IS NULL",
    "CREATE INDEX surveys_customer_send ON surveys(customer_id, send_at)",
    f"""
        CREATE TABLE ops_events (
            event_id              {TEXT} PRIMARY KEY,
            survey_id             BIGINT NOT NULL REFERENCES surveys(id),
            customer_external_id  {TEXT} NOT NULL,
            event_type            {TEXT} NOT NULL,
            kind                  {TEXT} NOT NULL
                                  CHECK (kind IN ('transactional', 'relationship', 'episode')),
            occurred_at           {TEXT} NOT NULL,
            received_at           {TEXT} NOT NULL,
            outcome               {TEXT} NOT NULL CHECK (outcome IN ('queued', 'skipped')),
            reason                {TEXT},
            send_at               {TEXT} NOT NULL
        )
        """,
]
