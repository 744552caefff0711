"""The lease's chat locks when several tasks of one process ask for one chat at once (the
dispatcher and a flush, say): each is counted, and the chat is free for another process
only once every one of them has given it back."""

from __future__ import annotations

import asyncio

from storage import Database
from storage.lease import open_lease


async def test_a_chat_asked_for_by_two_tasks_at_once_is_freed_after_both_give_it_back(
    db: Database,
) -> None:
    if db.dialect.name != "postgresql":
        return
    mine = await open_lease(db.target.engine, db.target.location)
    other = await open_lease(db.target.engine, db.target.location)
    try:
        assert await asyncio.gather(mine.try_chat(2024), mine.try_chat(2024)) == [True, True]
        await mine.release_chat(2024)
        assert not await other.try_chat(2024)  # one task of this process still holds it
        await mine.release_chat(2024)
        assert await other.try_chat(2024)  # server-side too: nothing left locked
    finally:
        await other.close()
        await mine.close()
