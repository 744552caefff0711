"""Schema version 007: single-use deep links, ops relinks and refused link attempts.

* ``customers.relink_key``: the key (:attr:`bot.core.linking.LinkPayload.key`) of the one link
  an ops relink minted; only that link may move the customer to another chat. NULL: no
  relink pending.
* ``link_uses``: the keys of the links each customer has used (a link links a chat once).
* ``link_refusals``: links opened in a chat that may not have them (the customer is linked
  to another chat, or the link was used already), for ops to see. No chat id is kept: the
  record says that and when someone tried, not who.
"""

from storage.schema import ID, TEXT

STATEMENTS: list[str] = [
    "ALTER TABLE customers ADD COLUMN relink_key TEXT",
    """
    CREATE TABLE link_uses (
        customer_id  INTEGER NOT NULL REFERENCES customers(id),
        link_key     TEXT NOT NULL,
        used_at      TEXT NOT NULL,
        PRIMARY KEY (customer_id, link_key)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE link_refusals (
        id            INTEGER PRIMARY KEY,
        customer_id   INTEGER NOT NULL REFERENCES customers(id),
        reason        TEXT NOT NULL CHECK (reason IN ('linked_elsewhere', 'used')),
        attempted_at  TEXT NOT NULL
    )
    """,
    "CREATE INDEX link_refusals_customer ON link_refusals(customer_id, id)",
    "CREATE INDEX link_refusals_time ON link_refusals(attempted_at)",
]

POSTGRESQL: list[str] = [
    "ALTER TABLE customers ADD COLUMN relink_key " + TEXT,
    f"""
    CREATE TABLE link_uses (
        customer_id  BIGINT NOT NULL REFERENCES customers(id),
        link_key     {TEXT} NOT NULL,
        used_at      {TEXT} NOT NULL,
        PRIMARY KEY (customer_id, link_key)
    )
    """,
    f"""
    CREATE TABLE link_refusals (
        id            {ID},
        customer_id   BIGINT NOT NULL REFERENCES customers(id),
        reason        {TEXT} NOT NULL CHECK (reason IN ('linked_elsewhere', 'used')),
        attempted_at  {TEXT} NOT NULL
    )
    """,
    "CREATE INDEX link_refusals_customer ON link_refusals(customer_id, id)",
    "CREATE INDEX link_refusals_time ON link_refusals(attempted_at)",
]
