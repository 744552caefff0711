"""What several bot processes on one database agree through the database itself: who leads,
which process sends a chat's outbox calls, and how many processes share the send rate.

A :class:`Lease` is one per process. On SQLite (one process by design) it is
:class:`SoleLease`: always the leader, every chat its own, one process. On PostgreSQL it is
:class:`PgLease`, one dedicated connection (outside the pool) holding session-level advisory
locks, all of them released by the server the moment that connection dies (a SIGKILLed
process's socket closes, its backend ends):

* leadership: ``pg_try_advisory_lock`` on :data:`storage.dialect.LEADER_LOCK` (per schema);
* a chat's sends: ``pg_try_advisory_lock`` on :data:`storage.dialect.CHAT_LOCK_CLASS` and
  the chat id (a 32-bit fold of it: two chats sharing a fold only wait for each other),
  held while one process makes that chat's outbox calls or sends it a survey question
  (claim, call, record), so two processes never make the same call, never send one survey
  at once, nor reorder a chat's calls;
* live processes: the connection's ``application_name`` says whether the process sends
  (``npsbot/send/<schema>``) or stands by idle (``npsbot/idle/<schema>``), and
  ``pg_stat_activity`` counts the senders: each paces at the global rate divided by them,
  and looks first at its part of the due surveys (:meth:`Lease.partition`, by backend
  order).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from storage.dialect import CHAT_LOCK_CLASS, LEADER_LOCK

log = logging.getLogger(__name__)

#: ``application_name`` prefixes of the lease connections (the schema follows).
SENDING = "npsbot/send/"
IDLE = "npsbot/idle/"


class LeaseLostError(RuntimeError):
    """The lease connection died while this process led: another may lead already."""


class Lease(Protocol):
    """One process's standing among the bot's processes on its database."""

    @property
    def leader(self) -> bool: ...

    async def try_lead(self) -> bool:
        """Become the leader if no live process is; True if this process leads now."""
        ...

    async def check(self) -> None:
        """Raise :class:`LeaseLostError` if the lease connection is gone."""
        ...

    async def set_sending(self, sending: bool) -> None:
        """Count this process among the senders (or not)."""
        ...

    async def senders(self) -> int:
        """How many live processes send (at least 1: this one)."""
        ...

    async def partition(self) -> tuple[int, int]:
        """(this process's place among the live senders, how many there are): the share of
        the due surveys it looks at first. (0, 1) when it is not counted yet."""
        ...

    async def try_chat(self, chat_id: int) -> bool:
        """Take the right to make ``chat_id``'s outbox calls; False if another process
        holds it now."""
        ...

    async def release_chat(self, chat_id: int) -> None:
        """Give back what :meth:`try_chat` took."""
        ...

    async def close(self) -> None: ...


class SoleLease:
    """SQLite: one process, always the leader, every chat its own."""

    leader = True

    async def try_lead(self) -> bool:
        return True

    async def check(self) -> None:
        return None

    async def set_sending(self, sending: bool) -> None:
        return None

    async def senders(self) -> int:
        return 1

    async def partition(self) -> tuple[int, int]:
        return 0, 1

    async def try_chat(self, chat_id: int) -> bool:
        return True

    async def release_chat(self, chat_id: int) -> None:
        return None

    async def close(self) -> None:
        return None


def chat_key(chat_id: int) -> int:
    """A chat id folded into the 32-bit object half of an advisory lock key."""
    folded = (chat_id ^ (chat_id >> 32)) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= (1 << 31) else folded


class PgLease:
    """PostgreSQL: advisory locks held by one dedicated connection (module docstring)."""

    def __init__(self, conn: Any, schema: str) -> None:
        self._conn = conn
        self._schema = schema
        # One statement at a time on the connection, and the held chat locks counted so a
        # chat taken twice in this process (never, by the sender's own lock) is not freed
        # early.
        self._io = asyncio.Lock()
        self._chats: dict[int, int] = {}
        self.leader = False

    @classmethod
    async def connect(cls, location: str) -> PgLease:
        """A dedicated connection, in autocommit mode, counted idle until told to send."""
        import psycopg

        conn = await psycopg.AsyncConnection.connect(location, autocommit=True)
        cur = await conn.execute("SELECT current_schema()")
        row = await cur.fetchone()
        schema = str(row[0]) if row else "public"
        lease = cls(conn, schema)
        await lease.set_sending(False)
        return lease

    async def _value(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        async with self._io:
            return await self._value_held(sql, params)

    async def _value_held(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """:meth:`_value` with ``_io`` already held."""
        cur = await self._conn.execute(sql, params or None)
        row = await cur.fetchone()
        return None if row is None else row[0]

    async def try_lead(self) -> bool:
        if not self.leader:
            self.leader = bool(await self._value(f"SELECT pg_try_advisory_lock({LEADER_LOCK})"))
        return self.leader

    async def check(self) -> None:
        try:
            await self._value("SELECT 1")
        except Exception as exc:
            if self.leader:
                raise LeaseLostError("the leader's lock connection was lost") from exc
            raise

    async def set_sending(self, sending: bool) -> None:
        name = (SENDING if sending else IDLE) + self._schema
        # application_name is cut at 63 bytes by the server; schemas are short in practice.
        await self._value("SELECT set_config('application_name', %s, false)", (name[:63],))

    async def senders(self) -> int:
        count = await self._value(
            "SELECT COUNT(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            ((SENDING + self._schema)[:63],),
        )
        return max(int(count or 0), 1)

    async def partition(self) -> tuple[int, int]:
        row = await self._row(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN pid < pg_backend_pid() THEN 1 END), 0), "
            "COALESCE(SUM(CASE WHEN pid = pg_backend_pid() THEN 1 END), 0) "
            "FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            ((SENDING + self._schema)[:63],),
        )
        count, before, counted = (int(v) for v in row) if row else (0, 0, 0)
        if not counted or count < 1:
            return 0, 1
        return before, count

    async def _row(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        async with self._io:
            cur = await self._conn.execute(sql, params)
            row = await cur.fetchone()
            return None if row is None else tuple(row)

    async def try_chat(self, chat_id: int) -> bool:
        # Checked and taken under one hold of the connection: two tasks of this process
        # asking for one chat at once count it twice rather than lock it twice.
        async with self._io:
            if self._chats.get(chat_id):
                self._chats[chat_id] += 1
                return True
            got = bool(
                await self._value_held(
                    f"SELECT pg_try_advisory_lock({CHAT_LOCK_CLASS}, %s)", (chat_key(chat_id),)
                )
            )
            if got:
                self._chats[chat_id] = 1
            return got

    async def release_chat(self, chat_id: int) -> None:
        async with self._io:
            held = self._chats.get(chat_id, 0)
            if held > 1:
                self._chats[chat_id] = held - 1
                return
            if held == 1:
                del self._chats[chat_id]
                await self._value_held(
                    f"SELECT pg_advisory_unlock({CHAT_LOCK_CLASS}, %s)", (chat_key(chat_id),)
                )

    async def close(self) -> None:
        # Closing the connection releases every lock it holds.
        await self._conn.close()


async def open_lease(engine: str, location: str) -> Lease:
    """The lease for a database: :class:`SoleLease` on SQLite, :class:`PgLease` on
    PostgreSQL."""
    if engine == "postgresql":
        return await PgLease.connect(location)
    return SoleLease()
