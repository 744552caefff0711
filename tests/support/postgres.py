"""A PostgreSQL server for tests: a fresh database per test, cloned from a migrated template.

The server is ``NPSBOT_TEST_POSTGRES`` (default: the development and CI server,
``postgresql://postgres@127.0.0.1:5432/postgres``, trust authentication). Each pytest process
(xdist worker) migrates one template database once; a test's database is ``CREATE DATABASE
... TEMPLATE`` of it (a file copy: tens of milliseconds) and is dropped after the test.
Without a reachable server the tests that need it skip with the reason (``.ci/run`` checks
the server first, so CI never passes by skipping).
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

from storage import Database

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

    def close(self) -> None:
        """Drop the template."""
        if self._template_ready:
            self.drop(self.template)
            self._template_ready = False


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
