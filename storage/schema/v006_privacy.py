"""Schema version 006: customers' privacy (erasure and retention).

* ``customers.erased_at``: when the customer's personal data was erased. The row stays (its
  surveys and answers keep counting in past reports) but carries nothing personal: its
  external id is a random token, its chat id and everything else personal are gone.
* ``privacy_log``: every erasure and every retention run, when and how much (counts per
  table or kind of data; internal ids only, never personal data).
* Partial indexes that let the daily retention run find what is still to anonymise
  without scanning the tables.
"""

from storage.schema import ID, TEXT, json_check

STATEMENTS: list[str] = [
    "ALTER TABLE customers ADD COLUMN erased_at TEXT",
    """
    CREATE TABLE privacy_log (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('erasure', 'retention')),
        source       TEXT NOT NULL CHECK (source IN ('customer', 'api', 'cli', 'job')),
        started_at   TEXT NOT NULL,
        finished_at  TEXT NOT NULL,
        cutoff       TEXT,
        customer_id  INTEGER REFERENCES customers(id),
        total        INTEGER NOT NULL,
        counts       TEXT NOT NULL CHECK (json_valid(counts))
    )
    """,
    "CREATE INDEX privacy_log_kind ON privacy_log(kind, id)",
    "CREATE INDEX answers_reason_kept ON answers(scored_at) WHERE reason IS NOT NULL",
    "CREATE INDEX customers_attributes_kept ON customers(updated_at) WHERE attributes <> '{}'",
    "CREATE INDEX surveys_attributes_kept ON surveys(created_at) WHERE attributes <> '{}'",
]

POSTGRESQL: list[str] = [
    "ALTER TABLE customers ADD COLUMN erased_at " + TEXT,
    f"""
    CREATE TABLE privacy_log (
        id           {ID},
        kind         {TEXT} NOT NULL CHECK (kind IN ('erasure', 'retention')),
        source       {TEXT} NOT NULL CHECK (source IN ('customer', 'api', 'cli', 'job')),
        started_at   {TEXT} NOT NULL,
        finished_at  {TEXT} NOT NULL,
        cutoff       {TEXT},
        customer_id  BIGINT REFERENCES customers(id),
        total        BIGINT NOT NULL,
        counts       {TEXT} NOT NULL {json_check("counts")}
    )
    """,
    "CREATE INDEX privacy_log_kind ON privacy_log(kind, id)",
    "CREATE INDEX answers_reason_kept ON answers(scored_at) WHERE reason IS NOT NULL",
    "CREATE INDEX customers_attributes_kept ON customers(updated_at) WHERE attributes <> '{}'",
    "CREATE INDEX surveys_attributes_kept ON surveys(created_at) WHERE attributes <> '{}'",
]
