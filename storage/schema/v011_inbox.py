"""Schema version 011 (the inbox): every update is stored as it arrives, before Telegram
is told it was received, and handled from there.

``inbox`` replaces ``processed_updates``: a row per update id, its chat (the key of the
worker that handles it), when it arrived, its JSON until it is handled (then NULL: a
customer's words do not linger there), when it was handled and how (``outcome``). Ids
already processed are carried over as handled rows, so a redelivery still changes nothing.
"""

from storage.schema import TEXT

STATEMENTS: list[str] = [
    """
    CREATE TABLE inbox (
        update_id    INTEGER PRIMARY KEY,
        chat_id      INTEGER,
        received_at  TEXT NOT NULL,
        payload      TEXT,
        handled_at   TEXT,
        outcome      TEXT CHECK (outcome IN ('handled', 'collapsed', 'dropped', 'slowed',
                                             'gave_up', 'malformed', 'erased')),
        CHECK ((handled_at IS NULL) = (outcome IS NULL))
    )
    """,
    # Start-up reads the unhandled rows; the index holds only those, so it stays small.
    "CREATE INDEX inbox_unhandled ON inbox(update_id) WHERE handled_at IS NULL",
    # Retention deletes by arrival time (written once, never updated).
    "CREATE INDEX inbox_received ON inbox(received_at)",
    "INSERT INTO inbox (update_id, chat_id, received_at, payload, handled_at, outcome) "
    "SELECT update_id, NULL, processed_at, NULL, processed_at, 'handled' "
    "FROM processed_updates",
    "DROP TABLE processed_updates",
]

POSTGRESQL: list[str] = [
    f"""
    CREATE TABLE inbox (
        update_id    BIGINT PRIMARY KEY,
        chat_id      BIGINT,
        received_at  {TEXT} NOT NULL,
        payload      {TEXT},
        handled_at   {TEXT},
        outcome      {TEXT} CHECK (outcome IN ('handled', 'collapsed', 'dropped', 'slowed',
                                               'gave_up', 'malformed', 'erased')),
        CHECK ((handled_at IS NULL) = (outcome IS NULL))
    )
    """,
    "CREATE INDEX inbox_unhandled ON inbox(update_id) WHERE handled_at IS NULL",
    "CREATE INDEX inbox_received ON inbox(received_at)",
    "INSERT INTO inbox (update_id, chat_id, received_at, payload, handled_at, outcome) "
    "SELECT update_id, NULL, processed_at, NULL, processed_at, 'handled' "
    "FROM processed_updates",
    "DROP TABLE processed_updates",
]
