"""Specification of the inbox (storage.inbox): updates stored as received, each id once,
marked handled exactly once, their JSON gone once handled, forgotten after KEEP_HOURS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.records import InboxOutcome, InboxUpdate
from storage import Database, inbox

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def update(uid: int, chat: int = 10, outcome: InboxOutcome | None = None) -> InboxUpdate:
    return InboxUpdate(uid, chat, None if outcome else f'{{"update_id":{uid}}}', outcome)


async def rows(db: Database) -> list[tuple[object, ...]]:
    async with db.read() as tx:
        found = await tx.fetchall(
            "SELECT update_id, chat_id, payload, handled_at IS NOT NULL, outcome FROM inbox "
            "ORDER BY update_id"
        )
    return [tuple(r) for r in found]


async def test_a_batch_is_stored_once_and_a_redelivered_id_is_not_stored_again(
    db: Database,
) -> None:
    async with db.transaction() as tx:
        assert await inbox.store(tx, [update(1), update(2)], at(0)) == {1, 2}
    async with db.transaction() as tx:
        assert await inbox.known(tx, [1, 2, 3]) == {1, 2}
        assert await inbox.store(tx, [update(2), update(3)], at(1)) == {3}
    assert [r[0] for r in await rows(db)] == [1, 2, 3]


async def test_unhandled_updates_come_back_oldest_first_with_their_json(db: Database) -> None:
    async with db.transaction() as tx:
        await inbox.store(tx, [update(5, chat=2), update(3, chat=1)], at(0))
        await inbox.store(tx, [update(4, outcome=InboxOutcome.COLLAPSED)], at(0))
        pending = await inbox.unhandled(tx)
    assert [(u.update_id, u.chat_id, u.payload) for u in pending] == [
        (3, 1, '{"update_id":3}'),
        (5, 2, '{"update_id":5}'),
    ]


async def test_an_update_kept_out_by_the_flood_limits_is_stored_handled_without_json(
    db: Database,
) -> None:
    async with db.transaction() as tx:
        stored = InboxUpdate(9, 10, '{"text":"spam"}', InboxOutcome.DROPPED)
        await inbox.store(tx, [stored], at(0))
        # Already handled: a unit running for it anyway (a redelivery) changes nothing.
        assert await inbox.claim(tx, 9, 10, at(1)) is False
    assert await rows(db) == [(9, 10, None, 1, "dropped")]


async def test_claim_is_true_once_whether_the_row_waits_or_is_absent(db: Database) -> None:
    async with db.transaction() as tx:
        await inbox.store(tx, [update(1)], at(0))
        assert await inbox.claim(tx, 1, 10, at(1)) is True  # stored, unhandled
        assert await inbox.claim(tx, 1, 10, at(2)) is False
        assert await inbox.claim(tx, 2, 10, at(1)) is True  # never stored (run directly)
        assert await inbox.claim(tx, 2, 10, at(2)) is False
        assert await inbox.unhandled(tx) == []
    # The customer's words are gone with the handling.
    assert await rows(db) == [(1, 10, None, 1, "handled"), (2, 10, None, 1, "handled")]


async def test_settle_marks_only_what_is_still_unhandled(db: Database) -> None:
    async with db.transaction() as tx:
        await inbox.store(tx, [update(1), update(2), update(3)], at(0))
        assert await inbox.claim(tx, 2, 10, at(1)) is True
    async with db.transaction() as tx:
        marks = [
            (1, 10, InboxOutcome.GAVE_UP),
            (2, 10, InboxOutcome.HANDLED),  # its unit marked it already
            (3, 10, InboxOutcome.HANDLED),
        ]
        assert await inbox.settle(tx, marks, at(2)) == 2
    assert await rows(db) == [
        (1, 10, None, 1, "gave_up"),
        (2, 10, None, 1, "handled"),
        (3, 10, None, 1, "handled"),
    ]


async def test_prune_forgets_handled_updates_by_arrival_and_keeps_waiting_ones(
    db: Database,
) -> None:
    for minute, batch in [(0, [update(1), update(2)]), (30, [update(3)])]:
        async with db.transaction() as tx:
            await inbox.store(tx, batch, at(minute))
    async with db.transaction() as tx:
        await inbox.claim(tx, 1, 10, at(40))
        await inbox.claim(tx, 3, 10, at(40))
        assert await inbox.prune(tx, at(20)) == 1  # 1; 2 still waits, 3 is recent
        assert await inbox.claim(tx, 1, 10, at(50)) is True  # forgotten
        assert await inbox.claim(tx, 3, 10, at(50)) is False  # still remembered
        assert [u.update_id for u in await inbox.unhandled(tx)] == [2]


async def test_a_failed_batch_stores_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await inbox.store(tx, [update(1), update(2)], at(0))
            raise RuntimeError("disk full")
    assert await rows(db) == []


async def test_a_large_batch_is_stored_whole(db: Database) -> None:
    async with db.transaction() as tx:
        assert len(await inbox.store(tx, [update(i) for i in range(250)], at(0))) == 250
        assert len(await inbox.known(tx, list(range(1000)))) == 250
