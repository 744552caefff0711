"""A PostgreSQL server for tests: a freshly migrated database of its own for each test.

The server is ``NPSBOT_TEST_POSTGRES`` (default: the development and CI server,
``postgresql://postgres@127.0.0.1:5432/postgres``, trust authentication). Each pytest process
(xdist worker) migrates one template database once and clones databases from it
(``CREATE DATABASE ... TEMPLATE``). A test's database is handed back emptied to the state the
migrations leave (every row deleted, identities restarted, the migrations' own rows put
back) and reused by the next test: creating and dropping a database costs a checkpoint,
about 200 ms a test, emptying one a few milliseconds. Without a reachable server the tests
that need it skip with the reason (``.ci/run`` checks the server first, so CI never passes by
skipping).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from storage import SCHEMA_VERSION, Database

ADMIN_URL = os.environ.get("NPSBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Test databases carry this prefix (and the template too), so a leftover is recognisable.
PREFIX = "npsbot_test_"


def url_for(database: str, base: str = ADMIN_URL) -> str:
    """``base`` with its database name replaced."""
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + database))


def unreachable_reason() -> str | None:
    """Why the server cannot be used (None when it can)."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {ADMIN_URL} ({first_line})"
    return None


class PostgresServer:
    """Creates and drops this process's test databases."""

    def __init__(self) -> None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.template = f"{PREFIX}tmpl_{worker}_{os.getpid()}"
        self._template_ready = False
        self._idle: list[str] = []  # emptied databases waiting for the next test
        self._made: set[str] = set()

    def _admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(statement)

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        self._admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.template))
        )
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))

        _run_in_thread(self._migrate_template)
        self._template_ready = True

    async def _migrate_template(self) -> None:
        db = await Database.open(url_for(self.template))
        await db.close()

    def create(self, *, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty); its name."""
        name = f"{PREFIX}{uuid.uuid4().hex[:16]}"
        if migrated:
            self._ensure_template()
            self._admin(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(self.template)
                )
            )
        else:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop(self, name: str) -> None:
        """Drop a database made by :meth:`create` (closing what is still connected)."""
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self._made.discard(name)

    def acquire(self) -> str:
        """A migrated database holding only what the migrations write."""
        if self._idle:
            return self._idle.pop()
        name = self.create()
        self._made.add(name)
        return name

    def release(self, name: str) -> None:
        """Take back a database from :meth:`acquire`: emptied for the next test, or dropped
        when it cannot be (a test that changed more than rows)."""
        try:
            with psycopg.connect(url_for(name)) as conn, conn.transaction():
                conn.execute(_RESET)
        except psycopg.Error:
            self.drop(name)
            return
        self._idle.append(name)

    def close(self) -> None:
        """Drop the databases and the template."""
        for name in [*self._made, *self._idle]:
            self.drop(name)
        self._idle.clear()
        if self._template_ready:
            self.drop(self.template)
            self._template_ready = False


#: Empties a migrated database back to what the migrations leave: rows deleted children
#: first (the foreign keys are not deferrable), identities restarted so ids start at 1 as in
#: a new SQLite file, the migrations' own row and the version put back. One PL/pgSQL block:
#: one round trip.
_RESET = f"""
DO $reset$
DECLARE
    t record;
    done text[] := '{{}}';
    left_over int;
BEGIN
    LOOP
        left_over := 0;
        FOR t IN
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r'
              AND c.relname <> 'npsbot_schema' AND NOT (c.relname = ANY(done))
        LOOP
            IF EXISTS (
                SELECT 1 FROM pg_constraint k JOIN pg_class child ON child.oid = k.conrelid
                WHERE k.contype = 'f' AND k.confrelid = t.relname::regclass
                  AND child.relname <> t.relname AND NOT (child.relname = ANY(done))
            ) THEN
                left_over := left_over + 1;
                CONTINUE;
            END IF;
            EXECUTE format('DELETE FROM %I', t.relname);
            done := done || t.relname::text;
        END LOOP;
        EXIT WHEN left_over = 0;
    END LOOP;
    FOR t IN
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND is_identity = 'YES'
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I RESTART', t.table_name, t.column_name);
    END LOOP;
    INSERT INTO rollup_state (id, timezone) VALUES (1, 'UTC');
    UPDATE npsbot_schema SET version = {SCHEMA_VERSION};
END
$reset$
"""


def _run_in_thread(job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on its own loop: the template is first needed inside
    an async fixture, whose loop is running."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(job())
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


#: What a constraint violation raises, on either engine.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
#: What a write in a read scope raises, on either engine.
READ_ONLY_ERRORS = (sqlite3.OperationalError, psycopg.errors.ReadOnlySqlTransaction)
