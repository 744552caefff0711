"""Schema version 010 (digest cadence): ``digests`` rows name their period kind.

``digests`` is rebuilt with a ``period`` column (``day``, ``week`` or ``month``) in its
primary key, so the weekly and monthly digests are claimed, like the daily one, once per
period (the ``day`` column holds the period's first local day). Existing rows are daily.
"""

from storage.schema import TEXT

STATEMENTS: list[str] = [
    """
    CREATE TABLE digests_new (
        period      TEXT NOT NULL DEFAULT 'day' CHECK (period IN ('day', 'week', 'month')),
        day         TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('baseline', 'claimed', 'sent')),
        claimed_at  TEXT NOT NULL,
        sent_at     TEXT,
        chats_sent  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (period, day)
    )
    """,
    "INSERT INTO digests_new (period, day, status, claimed_at, sent_at, chats_sent) "
    "SELECT 'day', day, status, claimed_at, sent_at, chats_sent FROM digests",
    "DROP TABLE digests",
    "ALTER TABLE digests_new RENAME TO digests",
]

POSTGRESQL: list[str] = [
    f"""
    CREATE TABLE digests_new (
        period      {TEXT} NOT NULL DEFAULT 'day' CHECK (period IN ('day', 'week', 'month')),
        day         {TEXT} NOT NULL,
        status      {TEXT} NOT NULL CHECK (status IN ('baseline', 'claimed', 'sent')),
        claimed_at  {TEXT} NOT NULL,
        sent_at     {TEXT},
        chats_sent  BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (period, day)
    )
    """,
    "INSERT INTO digests_new (period, day, status, claimed_at, sent_at, chats_sent) "
    "SELECT 'day', day, status, claimed_at, sent_at, chats_sent FROM digests",
    "DROP TABLE digests",
    "ALTER TABLE digests_new RENAME TO digests",
]
