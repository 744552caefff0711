"""Receiving updates (bot.adapters.telegram.receiver.Receiver, bot.adapters.telegram.polling
.Poller) on a real database: every batch is stored before it is acknowledged, the offset
moves past a batch as soon as it is stored (a chat in hand holds up neither fetching nor
other chats), a redelivered update is handled once, what was stored and not handled is
handled after a restart, and every update ends marked in the inbox however its handler
ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from telegram import Update

from bot.adapters.telegram.polling import Poller
from bot.adapters.telegram.receiver import Receiver
from bot.adapters.telegram.wiring import FailedUpdates
from bot.core.nps import STANDARD_CUTOFFS
from bot.core.records import InboxUpdate
from bot.settings import Settings
from bot.usecases.services import Services
from bot.usecases.unit_of_work import Replies, run_unit
from storage import Database, Tx, inbox
from tests.conftest import MONDAY_NOON
from tests.support.clock import Clock


def _message(update_id: int, chat: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "x"},
            "text": text,
        },
    }


class FakeBot:
    """getUpdates from a script of batches (then long-polls until released)."""

    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        self.batches = batches
        self.offsets: list[int | None] = []
        self.confirmed: list[int] = []
        self.idle = asyncio.Event()
        self.changed = asyncio.Event()  # set whenever the bot or the app is called

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        assert method == "getUpdates"
        self.offsets.append(api_kwargs["offset"])
        self.changed.set()
        if self.batches:
            return self.batches.pop(0)
        await self.idle.wait()
        return []

    async def get_updates(self, offset: int, **_: Any) -> list[Any]:
        self.confirmed.append(offset)
        return []

    async def delete_webhook(self, **_: Any) -> bool:
        return True


class NullSender:
    def schedule_flush(self, chat_id: int) -> None:
        pass


class FakeApp:
    """Handles each update in a unit of work (like every @handler), except texts "pass"
    (no handler takes it) and "fail" (raises every time); holds update ``hold`` until
    ``release`` is set (``hold_after``: the same, after its unit committed, as a handler
    answering a press); records the order."""

    def __init__(self, bot: FakeBot, svc: Services, failures: FailedUpdates) -> None:
        self.bot = bot
        self.svc = svc
        self.failures = failures
        self.release = asyncio.Event()
        self.hold: int | None = None
        self.hold_after: int | None = None
        self.held: int | None = None  # the held update, once its hold began
        self.handled: list[int] = []
        self.units: list[int] = []  # updates whose unit ran the first time

    async def process_update(self, update: Update) -> None:
        uid = update.update_id
        if uid == self.hold:
            self.held = uid
            self.bot.changed.set()
            await self.release.wait()
        text = update.effective_message.text if update.effective_message else None
        if text == "fail":
            self.failures.ids.add(uid)  # what PTB's error handler does
        elif text != "pass":

            async def work(tx: Tx, replies: Replies, now: datetime) -> None:
                self.units.append(uid)

            await run_unit(self.svc, uid, update.effective_chat.id, work)  # type: ignore[union-attr]
            if uid == self.hold_after:
                self.bot.changed.set()
                await self.release.wait()
        self.handled.append(uid)
        self.bot.changed.set()


@pytest.fixture
async def svc(db: Database) -> AsyncIterator[Services]:
    settings = Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
        }
    )
    yield Services(
        settings=settings,
        db=db,
        sender=NullSender(),  # type: ignore[arg-type]
        cutoffs=STANDARD_CUTOFFS,
        clock=Clock(MONDAY_NOON),
    )


def receiver_for(bot: FakeBot, svc: Services) -> tuple[Receiver, FakeApp]:
    failures = FailedUpdates()
    app = FakeApp(bot, svc, failures)
    return Receiver(app, svc.db, failures, svc.clock), app  # type: ignore[arg-type]


async def _until(cond: Any, changed: asyncio.Event) -> None:
    async with asyncio.timeout(5):
        while not cond():
            changed.clear()
            await changed.wait()


async def inbox_rows(db: Database) -> dict[int, tuple[Any, ...]]:
    async with db.read() as tx:
        rows = await tx.fetchall("SELECT update_id, payload IS NOT NULL, outcome FROM inbox")
    return {int(r[0]): (bool(r[1]), r[2]) for r in rows}


async def test_a_chat_in_hand_delays_neither_fetching_nor_other_chats(svc: Services) -> None:
    bot = FakeBot(
        [
            [_message(1, 1, "slow"), _message(2, 1, "after slow"), _message(3, 2, "b1")],
            [_message(4, 2, "b2"), _message(5, 3, "c1")],
        ]
    )
    receiver, app = receiver_for(bot, svc)
    app.hold = 1
    poller = Poller(app, receiver, timeout=30)  # type: ignore[arg-type]
    stop, halt = asyncio.Event(), asyncio.Event()
    receiving = asyncio.create_task(receiver.run(halt))
    polling = asyncio.create_task(poller.run(stop))
    # Chats 2 and 3 are handled (from two batches) while chat 1's first update is in hand.
    await _until(lambda: set(app.handled) == {3, 4, 5}, bot.changed)
    assert 2 not in app.handled  # chat 1 keeps its order
    # Each batch was acknowledged once stored: the offset passed update 1, still in hand.
    await _until(lambda: bot.offsets[-1:] == [6], bot.changed)
    rows = await inbox_rows(svc.db)
    assert rows[1] == (True, None) and rows[2] == (True, None)  # stored, waiting
    app.release.set()
    await _until(lambda: len(app.handled) == 5, bot.changed)
    assert app.handled.index(1) < app.handled.index(2)
    stop.set()
    bot.idle.set()
    await polling
    halt.set()
    await receiving
    assert bot.confirmed == [6]
    assert await inbox_rows(svc.db) == {uid: (False, "handled") for uid in range(1, 6)}


async def test_updates_received_again_are_handled_once(svc: Services) -> None:
    first = [_message(1, 1, "slow"), _message(2, 2, "quick")]
    bot = FakeBot([first, list(first), list(first)])
    receiver, app = receiver_for(bot, svc)
    app.hold = 1
    poller = Poller(app, receiver, timeout=30)  # type: ignore[arg-type]
    stop, halt = asyncio.Event(), asyncio.Event()
    receiving = asyncio.create_task(receiver.run(halt))
    polling = asyncio.create_task(poller.run(stop))
    await _until(lambda: not bot.batches and len(bot.offsets) >= 4, bot.changed)
    app.release.set()
    await _until(lambda: len(app.handled) == 2, bot.changed)
    stop.set()
    bot.idle.set()
    await polling
    halt.set()
    await receiving
    assert sorted(app.handled) == [1, 2]


async def test_a_batch_that_cannot_be_stored_is_not_acknowledged(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = [_message(1, 1, "hello")]
    bot = FakeBot([batch, list(batch)])
    receiver, app = receiver_for(bot, svc)
    real_store = inbox.store
    failures = [RuntimeError("disk I/O error")]

    async def flaky_store(*args: Any) -> set[int]:
        if failures:
            raise failures.pop()
        return await real_store(*args)

    monkeypatch.setattr(inbox, "store", flaky_store)
    monkeypatch.setattr(asyncio, "sleep", _no_sleep)  # the poller's backoff
    poller = Poller(app, receiver, timeout=30)  # type: ignore[arg-type]
    stop, halt = asyncio.Event(), asyncio.Event()
    receiving = asyncio.create_task(receiver.run(halt))
    polling = asyncio.create_task(poller.run(stop))
    await _until(lambda: app.handled == [1], bot.changed)
    # The failed batch left the offset where it was: fetched again, then acknowledged.
    assert bot.offsets[:2] == [None, None]
    await _until(lambda: bot.offsets[-1:] == [2], bot.changed)
    stop.set()
    bot.idle.set()
    await polling
    halt.set()
    await receiving


_real_sleep = asyncio.sleep


async def _no_sleep(delay: float, result: Any = None) -> Any:
    return await _real_sleep(0, result)


async def test_what_was_stored_and_not_handled_is_handled_after_a_restart_in_order(
    svc: Services,
) -> None:
    import json

    stored = [_message(uid, chat, f"m{uid}") for uid, chat in [(7, 1), (8, 2), (9, 1)]]
    async with svc.db.transaction() as tx:
        await inbox.store(
            tx, [InboxUpdate(m["update_id"], 0, json.dumps(m)) for m in stored], svc.clock()
        )
    receiver, app = receiver_for(FakeBot([]), svc)
    assert await receiver.resume() == 3
    await receiver.drain()
    assert sorted(app.units) == [7, 8, 9]
    assert app.handled.index(7) < app.handled.index(9)  # chat 1's order
    assert await inbox_rows(svc.db) == {uid: (False, "handled") for uid in (7, 8, 9)}
    # A second start finds nothing left.
    again, _ = receiver_for(FakeBot([]), svc)
    assert await again.resume() == 0


async def test_an_update_without_a_unit_or_whose_handler_gave_up_ends_marked(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncio, "sleep", _no_sleep)  # the retries' and the marks' pauses
    settled: list[int] = []
    real_settle = inbox.settle

    async def recording_settle(tx: Tx, marks: Any, now: datetime) -> int:
        marks = list(marks)
        settled.extend(uid for uid, _, _ in marks)
        return await real_settle(tx, marks, now)

    monkeypatch.setattr(inbox, "settle", recording_settle)
    receiver, app = receiver_for(FakeBot([]), svc)
    await receiver.resume()
    batch = [_message(1, 1, "pass"), _message(2, 2, "fail"), _message(3, 3, "a unit")]
    assert await receiver.receive(batch) == 3
    await receiver.drain()
    assert app.handled.count(2) == 3  # tried three times
    assert sorted(settled) == [1, 2]  # the unit marked its own update: no extra write
    assert await inbox_rows(svc.db) == {
        1: (False, "handled"),
        2: (False, "gave_up"),
        3: (False, "handled"),
    }
    # Marked: a restart does not try them again.
    again, _ = receiver_for(FakeBot([]), svc)
    assert await again.resume() == 0


async def test_a_malformed_update_is_stored_done_with_and_the_rest_of_its_batch_handled(
    svc: Services,
) -> None:
    receiver, app = receiver_for(FakeBot([]), svc)
    await receiver.resume()
    broken = {"update_id": 1, "message": {"chat": "not a chat"}}
    assert await receiver.receive([broken, _message(2, 1, "fine"), {"no": "id"}]) == 2
    await receiver.drain()
    assert app.handled == [2]
    assert await inbox_rows(svc.db) == {1: (False, "malformed"), 2: (False, "handled")}


async def test_a_stop_finishes_the_update_in_hand_and_leaves_the_queue_in_the_inbox(
    svc: Services,
) -> None:
    receiver, app = receiver_for(FakeBot([]), svc)
    app.hold = 1
    halt = asyncio.Event()
    receiving = asyncio.create_task(receiver.run(halt))
    await receiver.receive([_message(1, 1, "in hand"), _message(2, 1, "queued")])
    halt.set()
    await asyncio.sleep(0)
    app.release.set()
    await receiving
    assert app.handled == [1]
    assert await inbox_rows(svc.db) == {1: (False, "handled"), 2: (True, None)}
    restarted, app2 = receiver_for(FakeBot([]), svc)
    assert await restarted.resume() == 1
    await restarted.drain()
    assert app2.handled == [2]


async def test_receiving_pauses_while_too_many_updates_wait_in_memory(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.telegram import receiver as receiver_module

    monkeypatch.setattr(receiver_module, "MAX_WAITING", 2)
    bot = FakeBot([])
    receiver, app = receiver_for(bot, svc)
    app.hold = 1
    await receiver.resume()
    await receiver.receive([_message(1, 1, "held"), _message(2, 1, "behind it")])
    third = asyncio.create_task(receiver.receive([_message(3, 2, "must wait")]))
    await asyncio.sleep(0)  # the task runs up to its wait for room
    assert receiver.pauses == 1 and not third.done()
    assert 3 not in await inbox_rows(svc.db)  # not stored, so not acknowledged yet
    app.release.set()
    assert await third == 1
    await receiver.drain()
    assert sorted(app.handled) == [1, 2, 3]
    assert app.handled.index(1) < app.handled.index(3)  # received only once 1 made room


async def test_beyond_the_parsed_ahead_updates_wait_as_text_and_are_handled_in_order(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.telegram import receiver as receiver_module

    monkeypatch.setattr(receiver_module, "PARSED_AHEAD", 1)
    receiver, app = receiver_for(FakeBot([]), svc)
    app.hold = 1
    await receiver.resume()
    broken = {"update_id": 3, "message": {"chat": "not a chat"}}
    batch = [_message(1, 1, "parsed"), _message(2, 1, "text"), broken, _message(4, 2, "text")]
    assert await receiver.receive(batch) == 4
    # Only the first is held parsed; the rest wait as their JSON text.
    waiting = [item.update for queue in receiver._queues.values() for item in queue]
    assert [type(u).__name__ for u in waiting] == ["Update", "str", "str", "str"]
    app.release.set()
    await receiver.drain()
    assert app.handled.index(1) < app.handled.index(2)
    assert sorted(app.handled) == [1, 2, 4]
    # The unparseable one is found out in its turn and marked like any malformed update.
    assert (await inbox_rows(svc.db))[3] == (False, "malformed")


async def test_at_most_max_handling_updates_are_handled_at_once_up_to_their_commit(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.telegram import receiver as receiver_module

    monkeypatch.setattr(receiver_module, "MAX_HANDLING", 1)
    bot = FakeBot([])
    receiver, app = receiver_for(bot, svc)
    app.hold = 1  # held before its unit: it keeps the only slot
    await receiver.resume()
    await receiver.receive([_message(1, 1, "first"), _message(2, 2, "other chat")])
    await _until(lambda: app.held == 1, bot.changed)
    assert receiver._handling.locked()  # chat 2's worker waits for the slot
    app.release.set()
    await receiver.drain()
    assert app.handled == [1, 2]


async def test_a_handling_slot_is_freed_once_the_unit_commits(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.telegram import receiver as receiver_module

    monkeypatch.setattr(receiver_module, "MAX_HANDLING", 1)
    bot = FakeBot([])
    receiver, app = receiver_for(bot, svc)
    app.hold_after = 1  # committed, then held (as while answering its press)
    await receiver.resume()
    await receiver.receive([_message(1, 1, "first"), _message(2, 2, "other chat")])
    await _until(lambda: app.handled == [2], bot.changed)
    assert app.units == [1, 2]
    app.release.set()
    await receiver.drain()
    assert app.handled == [2, 1]
