"""Schema version 003: the admin side (digests sent, detractor alerts, follow-ups).

* ``digests``: one row per local day whose scheduled digest was claimed (or the baseline day
  recorded on the first start), so that no day's digest is ever sent twice.
* ``alerts``: one per detractor answer, with its resolution (who, when, note) and when it
  was first followed up (a reply relayed, or resolved).
* ``alert_events``: what the admin chats must be told (a score, then a reason); written in
  the same transaction as the answer; ``alert_deliveries`` records which admin chat's
  outbox each went into (chats are paced independently), and the event is marked notified
  once every admin chat has it.
* ``reply_drafts``: an admin pressed "Reply": their next message in that chat goes to the
  customer.
* ``relays``: a reply went to a customer: the customer's next message (when no survey is
  waiting for an answer) goes back to the admin chat, threaded to the alert.
* Indexes for the digest's aggregations: a covering index over answers by time and score,
  and surveys by the times they were sent and closed.
"""

from storage.schema import ID, TEXT

STATEMENTS: list[str] = [
    """
        CREATE TABLE digests (
            day         TEXT PRIMARY KEY,
            status      TEXT NOT NULL CHECK (status IN ('baseline', 'claimed', 'sent')),
            claimed_at  TEXT NOT NULL,
            sent_at     TEXT,
            chats_sent  INTEGER NOT NULL DEFAULT 0
        )
        """,
    """
        CREATE TABLE alerts (
            id              INTEGER PRIMARY KEY,
            survey_id       INTEGER NOT NULL UNIQUE REFERENCES surveys(id),
            created_at      TEXT NOT NULL,
            followed_up_at  TEXT,
            resolved_at     TEXT,
            resolved_by     TEXT,
            resolved_note   TEXT
        )
        """,
    """
        CREATE TABLE alert_events (
            id           INTEGER PRIMARY KEY,
            alert_id     INTEGER NOT NULL REFERENCES alerts(id),
            kind         TEXT NOT NULL CHECK (kind IN ('score', 'reason')),
            created_at   TEXT NOT NULL,
            notified_at  TEXT
        )
        """,
    "CREATE INDEX alert_events_pending ON alert_events(id) WHERE notified_at IS NULL",
    """
        CREATE TABLE alert_deliveries (
            event_id   INTEGER NOT NULL REFERENCES alert_events(id),
            chat_id    INTEGER NOT NULL,
            queued_at  TEXT NOT NULL,
            PRIMARY KEY (event_id, chat_id)
        ) WITHOUT ROWID
        """,
    """
        CREATE TABLE reply_drafts (
            chat_id          INTEGER NOT NULL,
            user_id          INTEGER NOT NULL,
            alert_id         INTEGER NOT NULL REFERENCES alerts(id),
            alert_message_id INTEGER NOT NULL,
            created_at       TEXT NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        )
        """,
    """
        CREATE TABLE relays (
            id                INTEGER PRIMARY KEY,
            customer_id       INTEGER NOT NULL REFERENCES customers(id),
            alert_id          INTEGER NOT NULL REFERENCES alerts(id),
            admin_chat_id     INTEGER NOT NULL,
            alert_message_id  INTEGER NOT NULL,
            opened_at         TEXT NOT NULL,
            expires_at        TEXT NOT NULL,
            answered_at       TEXT
        )
        """,
    "CREATE INDEX relays_open ON relays(customer_id, opened_at) WHERE answered_at IS NULL",
    "CREATE INDEX answers_scored_score ON answers(scored_at, score, survey_id)",
    "CREATE INDEX surveys_sent_at ON surveys(sent_at) WHERE sent_at IS NOT NULL",
    "CREATE INDEX surveys_closed_at ON surveys(closed_at) WHERE closed_at IS NOT NULL",
]

POSTGRESQL: list[str] = [
    f"""
        CREATE TABLE digests (
            day         {TEXT} PRIMARY KEY,
            status      {TEXT} NOT NULL CHECK (status IN ('baseline', 'claimed', 'sent')),
            claimed_at  {TEXT} NOT NULL,
            sent_at     {TEXT},
            chats_sent  BIGINT NOT NULL DEFAULT 0
        )
        """,
    f"""
        CREATE TABLE alerts (
            id              {ID},
            survey_id       BIGINT NOT NULL UNIQUE REFERENCES surveys(id),
            created_at      {TEXT} NOT NULL,
            followed_up_at  {TEXT},
            resolved_at     {TEXT},
            resolved_by     {TEXT},
            resolved_note   {TEXT}
        )
        """,
    f"""
        CREATE TABLE alert_events (
            id           {ID},
            alert_id     BIGINT NOT NULL REFERENCES alerts(id),
            kind         {TEXT} NOT NULL CHECK (kind IN ('score', 'reason')),
            created_at   {TEXT} NOT NULL,
            notified_at  {TEXT}
        )
        """,
    "CREATE INDEX alert_events_pending ON alert_events(id) WHERE notified_at IS NULL",
    f"""
        CREATE TABLE alert_deliveries (
            event_id   BIGINT NOT NULL REFERENCES alert_events(id),
            chat_id    BIGINT NOT NULL,
            queued_at  {TEXT} NOT NULL,
            PRIMARY KEY (event_id, chat_id)
        )
        """,
    f"""
        CREATE TABLE reply_drafts (
            chat_id          BIGINT NOT NULL,
            user_id          BIGINT NOT NULL,
            alert_id         BIGINT NOT NULL REFERENCES alerts(id),
            alert_message_id BIGINT NOT NULL,
            created_at       {TEXT} NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        )
        """,
    f"""
        CREATE TABLE relays (
            id                {ID},
            customer_id       BIGINT NOT NULL REFERENCES customers(id),
            alert_id          BIGINT NOT NULL REFERENCES alerts(id),
            admin_chat_id     BIGINT NOT NULL,
            alert_message_id  BIGINT NOT NULL,
            opened_at         {TEXT} NOT NULL,
            expires_at        {TEXT} NOT NULL,
            answered_at       {TEXT}
        )
        """,
    "CREATE INDEX relays_open ON relays(customer_id, opened_at) WHERE answered_at IS NULL",
    "CREATE INDEX answers_scored_score ON answers(scored_at, score, survey_id)",
    "CREATE INDEX surveys_sent_at ON surveys(sent_at) WHERE sent_at IS NOT NULL",
    "CREATE INDEX surveys_closed_at ON surveys(closed_at) WHERE closed_at IS NOT NULL",
]
