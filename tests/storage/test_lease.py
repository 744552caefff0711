"""The lease: one leader per installation, one process at a time per chat's outbox, and
the live senders counted, on either engine (SQLite: the one process has it all)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from storage import Database
from storage.lease import SoleLease, chat_key, open_lease


async def soon(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> bool:
    """True once ``check`` is: a closed connection's backend ends (and frees its locks and
    its pg_stat_activity row) a moment after the client has closed it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_on_sqlite_the_one_process_leads_owns_every_chat_and_sends_alone(
    db: Database,
) -> None:
    if db.dialect.name != "sqlite":
        return
    lease = await open_lease(db.target.engine, db.target.location)
    assert isinstance(lease, SoleLease)
    assert await lease.try_lead()
    assert await lease.try_chat(42)
    assert await lease.try_chat(42)
    assert await lease.senders() == 1


async def test_one_process_leads_and_a_standby_takes_over_when_its_connection_ends(
    db: Database,
) -> None:
    if db.dialect.name != "postgresql":
        return
    first = await open_lease(db.target.engine, db.target.location)
    second = await open_lease(db.target.engine, db.target.location)
    try:
        assert await first.try_lead()
        assert not await second.try_lead()
        assert not second.leader
        await first.close()  # what the server does when a SIGKILLed leader's socket closes
        assert await soon(second.try_lead)
        assert second.leader
    finally:
        await second.close()


async def test_a_chats_outbox_is_taken_by_one_process_at_a_time(db: Database) -> None:
    if db.dialect.name != "postgresql":
        return
    a = await open_lease(db.target.engine, db.target.location)
    b = await open_lease(db.target.engine, db.target.location)
    try:
        assert await a.try_chat(1001)
        assert not await b.try_chat(1001)
        assert await b.try_chat(1002)  # another chat is free
        await a.release_chat(1001)
        assert await b.try_chat(1001)
    finally:
        await a.close()
        await b.close()


async def test_only_processes_that_send_are_counted_for_the_rate_share(db: Database) -> None:
    if db.dialect.name != "postgresql":
        return
    leases = [await open_lease(db.target.engine, db.target.location) for _ in range(3)]
    try:
        assert await leases[0].senders() == 1  # none sends yet: at least this one
        await leases[0].set_sending(True)
        await leases[1].set_sending(True)
        assert await leases[2].senders() == 2
        await leases[1].close()

        async def one_sender() -> bool:
            return await leases[0].senders() == 1

        assert await soon(one_sender)
    finally:
        await leases[0].close()
        await leases[2].close()


def test_chat_ids_fold_into_the_32_bit_half_of_a_lock_key() -> None:
    for chat in (0, 1, -1, 2**31, -(2**40) - 7, 10**12 + 3, -(10**12)):
        assert -(2**31) <= chat_key(chat) < 2**31
    assert chat_key(5) != chat_key(6)
