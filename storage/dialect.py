"""Where SQLite and PostgreSQL differ, in one place.

Repository SQL is written once, in the subset both engines read alike: ``?`` placeholders
(or ``:name`` with a mapping), ``RETURNING`` for new ids, ``ON CONFLICT (...) DO ...`` for
upserts, ``CASE`` instead of summing booleans, aliases on every derived table. What cannot
be written alike comes from the transaction's :class:`Dialect` (``tx.dialect``):

* placeholders: PostgreSQL's driver (psycopg) takes ``%s`` / ``%(name)s``; the source keeps
  ``?`` / ``:name`` and :meth:`Dialect.sql` translates each statement once (cached);
* JSON: SQLite's ``json_extract`` / ``json_each`` against ``jsonb`` operators and
  ``jsonb_each`` / ``jsonb_array_elements``. JSON columns are ``TEXT`` on both (the bot's
  own serialisation, kept byte for byte), cast to ``jsonb`` where PostgreSQL reads into
  them. A JSON scalar as text follows SQLite's ``CAST(... AS TEXT)`` on both (``true`` is
  ``1``, ``2.0`` stays ``2.0``): PostgreSQL calls ``npsbot_json_text`` (schema v009), so a
  rollup's ``attr_value`` and a filter compare the same text on either engine;
* the catalog (which tables and columns exist), transaction starts (SQLite's ``BEGIN
  IMMEDIATE``; PostgreSQL's transaction-scoped advisory locks: the write lock exclusive for
  a writer that excludes all others, shared plus one chat's lock for a chat-scoped one), and
  the schema version (``PRAGMA user_version`` / the ``npsbot_schema`` table).

Dates need no dialect: times are stored as ISO-8601 UTC text (``to_db_time``), compared as
text (byte order: PostgreSQL's text columns are ``COLLATE "C"``) and cut with ``substr``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

#: PostgreSQL advisory locks, as (class, object) pairs: an arbitrary class per purpose
#: (0x6E7001 and 0x6E7002: "np" then a counter) and the schema's name hashed, so
#: installations in two schemas of one database never wait for each other.
MIGRATION_LOCK: Final = "7237633, hashtext(current_schema())"
WRITE_LOCK: Final = "7237634, hashtext(current_schema())"
#: Held for its whole life by the leading process's lease connection (storage/lease.py).
LEADER_LOCK: Final = "7237635, hashtext(current_schema())"
#: The class half of a chat's outbox lock (the object half is the chat): the schema's hash
#: mixed in, so two installations' chats with one id do not wait for each other.
CHAT_LOCK_CLASS: Final = "(hashtext(current_schema()) # 7237636)"
#: The class half of a chat-scoped write transaction's lock (storage/postgres.py). Not the
#: outbox's class: that one is a session lock held by the lease connection for a whole
#: flush, and a transaction of the same process on a pooled connection would wait for it.
CHAT_TX_LOCK_CLASS: Final = "(hashtext(current_schema()) # 7237637)"


class Dialect:
    """The SQL one engine needs where the other's differs (see the module docstring)."""

    name: str
    #: Starts a write transaction (serialised against every other writer).
    begin_write: str
    #: Starts a read-only transaction over one snapshot.
    begin_read: str
    #: The table that records the schema version on PostgreSQL (none on SQLite).
    version_table: str | None = None
    #: Ends a SELECT that claims rows inside a write transaction: rows another transaction
    #: holds are passed over rather than waited for (PostgreSQL's ``FOR UPDATE SKIP
    #: LOCKED``; nothing on SQLite, whose single writer already excludes everyone else).
    skip_locked: str = ""

    def sql(self, text: str) -> str:
        """The statement as the driver takes it."""
        return text

    def begin_chat_write(self, chat_key: int) -> str:
        """Starts a write transaction scoped to one chat (``chat_key``: the chat folded to
        32 bits): on PostgreSQL it excludes exclusive writers and that chat's other scoped
        writers only; on SQLite it is :attr:`begin_write` (one writer)."""
        return self.begin_write

    def json_member_text(self, column: str) -> str:
        """A top-level member of the JSON object in ``column`` as text (SQLite's
        ``CAST(... AS TEXT)`` rules), the member's name given by one ``?`` (see
        :meth:`json_member_arg`)."""
        raise NotImplementedError

    def json_member_arg(self, key: str) -> str:
        """The parameter that names ``key`` in :meth:`json_member_text`."""
        raise NotImplementedError

    def json_path_text(self, column: str, *keys: str) -> str:
        """The scalar at ``keys`` (trusted identifiers, never user input) as text."""
        raise NotImplementedError

    def json_object_entries(self, column: str, alias: str) -> str:
        """A FROM item: one row per member of the JSON object in ``column`` (none if it is
        not an object), with ``{alias}.key`` and the value read by :meth:`entry_text`."""
        raise NotImplementedError

    def entry_text(self, alias: str) -> str:
        """The value of a :meth:`json_object_entries` or :meth:`json_array_items` row as
        text (NULL for JSON null)."""
        raise NotImplementedError

    def entry_not_null(self, alias: str) -> str:
        """True when that value is not JSON null."""
        raise NotImplementedError

    def json_array_items(self, expr: str, alias: str) -> str:
        """A FROM item: one row per element of the JSON array ``expr`` (none for NULL or a
        missing member)."""
        raise NotImplementedError

    def json_member_array_items(self, column: str, member: str, alias: str) -> str:
        """:meth:`json_array_items` of the member ``member`` (a trusted identifier) of the
        JSON object in ``column``."""
        raise NotImplementedError

    #: The (table, column) pairs whose values a generator gives (none on SQLite: a row id
    #: continues after the largest one by itself).
    identity_columns_sql: str | None = None

    def restart_identity_sql(self, table: str, column: str) -> str:
        """Moves the generator of ``table.column`` past the ids stored (after rows were
        copied in with their ids)."""
        raise NotImplementedError

    #: The columns of a table (one ``?``: its name), in order.
    table_columns_sql: str
    #: The tables a table's foreign keys reference (one ``?``: its name).
    references_sql: str
    #: The application's tables (not the engine's own, nor the version table).
    user_tables_sql: str


class _SQLite(Dialect):
    name = "sqlite"
    begin_write = "BEGIN IMMEDIATE"
    begin_read = "BEGIN"
    table_columns_sql = "SELECT name FROM pragma_table_info(?) ORDER BY cid"
    references_sql = 'SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)'
    user_tables_sql = (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )

    def json_member_text(self, column: str) -> str:
        return f"CAST(json_extract({column}, ?) AS TEXT)"

    def json_member_arg(self, key: str) -> str:
        # A quoted member name: keys with dots or other punctuation are taken literally.
        return '$."' + key.replace('"', '""') + '"'

    def json_path_text(self, column: str, *keys: str) -> str:
        return f"CAST(json_extract({column}, '$.{'.'.join(keys)}') AS TEXT)"

    def json_object_entries(self, column: str, alias: str) -> str:
        return (
            f"json_each(CASE WHEN json_type({column}) = 'object' THEN {column} "
            f"ELSE '{{}}' END) {alias}"
        )

    def entry_text(self, alias: str) -> str:
        return f"CAST({alias}.value AS TEXT)"

    def entry_not_null(self, alias: str) -> str:
        return f"{alias}.type <> 'null'"

    def json_array_items(self, expr: str, alias: str) -> str:
        return f"json_each({expr}) {alias}"

    def json_member_array_items(self, column: str, member: str, alias: str) -> str:
        return f"json_each({column}, '$.{member}') {alias}"


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|%|(?<![\w:]):([A-Za-z_]\w*)")


@lru_cache(maxsize=2048)
def _to_pyformat(text: str) -> str:
    """``?`` → ``%s``, ``:name`` → ``%(name)s``, ``%`` → ``%%``; quoted text and ``::``
    casts are left alone (a ``%`` in them is still doubled: psycopg reads the whole text)."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "::":
            return token
        if match.group(1):
            return f"%({match.group(1)})s"
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, text)


class _PostgreSQL(Dialect):
    name = "postgresql"
    # READ COMMITTED behind one advisory lock: writers run one at a time across every
    # process on the database, as SQLite's BEGIN IMMEDIATE makes them, so each sees all
    # that committed before it and the read-then-write units need no retry loop.
    begin_write = (
        f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
    )
    begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    version_table = "npsbot_schema"

    def begin_chat_write(self, chat_key: int) -> str:
        # The write lock shared, then the chat's: always in this order, and one chat per
        # transaction, so two scoped writers cannot wait for each other in a cycle.
        return (
            "BEGIN ISOLATION LEVEL READ COMMITTED; "
            f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK}); "
            f"SELECT pg_advisory_xact_lock({CHAT_TX_LOCK_CLASS}, {int(chat_key)})"
        )

    skip_locked = " FOR UPDATE SKIP LOCKED"
    table_columns_sql = (
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
    )
    references_sql = (
        "SELECT DISTINCT c.confrelid::regclass::text FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.conrelid = CAST(? AS regclass)"
    )
    user_tables_sql = (
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
        "AND table_name <> 'npsbot_schema' ORDER BY table_name"
    )

    def sql(self, text: str) -> str:
        return _to_pyformat(text)

    def json_member_text(self, column: str) -> str:
        return f"npsbot_json_text(CAST({column} AS jsonb) -> ?)"

    def json_member_arg(self, key: str) -> str:
        return key

    def json_path_text(self, column: str, *keys: str) -> str:
        return f"npsbot_json_text(CAST({column} AS jsonb) #> '{{{','.join(keys)}}}')"

    def json_object_entries(self, column: str, alias: str) -> str:
        value = f"CAST({column} AS jsonb)"
        return (
            f"jsonb_each(CASE WHEN jsonb_typeof({value}) = 'object' THEN {value} "
            f"ELSE CAST('{{}}' AS jsonb) END) {alias}"
        )

    def entry_text(self, alias: str) -> str:
        return f"npsbot_json_text({alias}.value)"

    def entry_not_null(self, alias: str) -> str:
        return f"jsonb_typeof({alias}.value) <> 'null'"

    def json_array_items(self, expr: str, alias: str) -> str:
        value = f"CAST({expr} AS jsonb)"
        return (
            f"jsonb_array_elements(CASE WHEN jsonb_typeof({value}) = 'array' THEN {value} END) "
            f"{alias}(value)"
        )

    def json_member_array_items(self, column: str, member: str, alias: str) -> str:
        return self.json_array_items(f"CAST({column} AS jsonb) -> '{member}'", alias)

    identity_columns_sql = (
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )

    def restart_identity_sql(self, table: str, column: str) -> str:
        return (
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
        )


SQLITE: Final[Dialect] = _SQLite()
POSTGRESQL: Final[Dialect] = _PostgreSQL()
