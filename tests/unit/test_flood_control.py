"""The receiver's flood control (bot.adapters.telegram.flood.FloodControl) and the per-chat
outbox cap (bot.usecases.unit_of_work.run_unit):

- a queued press still waiting after ``NPSBOT_PRESS_ANSWER_SECONDS`` is answered "one
  moment", once (its handler then leaves it be); one handled in time gets no such answer;
- presses dropped by the limits are answered one at a time per chat, the latest one
  waiting: a flood costs a few answers, not one each;
- the receiver asks before it parses an update: those kept out are stored done with,
  unparsed;
- replies beyond ``NPSBOT_FLOOD_OUTBOX_PER_CHAT`` queued for a chat are dropped, counted
  (the log, ``/stats``), and other chats are not affected.

The timers are driven by hand and the bot's answers recorded: nothing sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Update

from bot.adapters.telegram import receiver as receiving
from bot.adapters.telegram.bot_data import press_answers
from bot.adapters.telegram.flood import FloodControl
from bot.adapters.telegram.receiver import Receiver
from bot.adapters.telegram.wiring import FailedUpdates
from bot.core.delivery import Urgency
from bot.core.flood import FloodCounters, Verdict
from bot.core.nps import STANDARD_CUTOFFS
from bot.core.records import SurveyStatus
from bot.core.texts import admin_texts
from bot.reports.stats_text import stats_text
from bot.settings import Settings
from bot.usecases.services import Services
from bot.usecases.unit_of_work import Replies, run_unit
from storage import Database, Tx, outbox
from storage.reports import DeliveryHealth
from tests.support.clock import Clock

NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)
CHAT = 501
OTHER = 502


def settings(**extra: str) -> Settings:
    return Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
            **extra,
        }
    )


class AnsweringBot:
    """Records answerCallbackQuery."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str | None]] = []
        self.release = asyncio.Event()
        self.held: set[str] = set()  # answers to these presses wait for ``release``
        self.started = asyncio.Event()  # an answer to a held press was asked for

    async def answer_callback_query(
        self, callback_query_id: str, text: str | None = None, **_: Any
    ) -> bool:
        if callback_query_id in self.held:
            self.started.set()
            await self.release.wait()
        self.answers.append((callback_query_id, text))
        return True


class FlushRecorder:
    """The sender's side of run_unit: which chats were asked to flush."""

    def __init__(self) -> None:
        self.flushed: list[int] = []

    def schedule_flush(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        self.flushed.append(chat_id)


class Timers:
    """call_later by hand: ``fire()`` runs the callbacks not cancelled."""

    def __init__(self) -> None:
        self.started: list[tuple[float, Callable[[], None], Handle]] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> Handle:
        handle = Handle()
        self.started.append((delay, callback, handle))
        return handle

    def fire(self) -> None:
        for _, callback, handle in self.started:
            if not handle.cancelled:
                callback()


class Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Rig:
    """A FloodControl as the receiver builds it, its background work collected."""

    def __init__(self, db: Database, **extra: str) -> None:
        self.bot = AnsweringBot()
        self.sender = FlushRecorder()
        self.svc = Services(
            settings=settings(**extra),
            db=db,
            sender=self.sender,  # type: ignore[arg-type]
            cutoffs=STANDARD_CUTOFFS,
            clock=Clock(NOW),
        )
        self.bot_data: dict[Any, Any] = {}
        self.timers = Timers()
        self.work: list[asyncio.Task[None]] = []
        self.flood = FloodControl(
            self.svc,
            self.bot,  # type: ignore[arg-type]
            self.bot_data,
            self.spawn,
            later=self.timers,
        )
        self._ids = iter(range(1, 1_000_000))

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> object:
        task = asyncio.create_task(coro, name=name)
        self.work.append(task)
        return task

    async def settle(self) -> None:
        """Let the background work started so far finish."""
        while not all(task.done() for task in self.work):
            await asyncio.gather(*self.work)

    def press(self, chat: int = CHAT, message_id: int = 10, language: str = "en") -> dict[str, Any]:
        """A press's JSON, as getUpdates returns it (the flood control decides on that)."""
        update_id = next(self._ids)
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"q{update_id}",
                "from": {"id": chat, "is_bot": False, "first_name": "A", "language_code": language},
                "chat_instance": "1",
                "data": "nps:1:9",
                "message": {
                    "message_id": message_id,
                    "date": 0,
                    "chat": {"id": chat, "type": "private"},
                },
            },
        }

    def admit(self, chat: int, raw: dict[str, Any], pending: int) -> bool:
        """What the receiver does with ``raw`` around its batch's transaction: decide, then
        carry the decision out; True if it joins the queue."""
        verdict = self.flood.decide(chat, raw, pending)
        self.flood.carry_out(chat, raw, verdict)
        return verdict is Verdict.QUEUE

    def parsed(self, raw: dict[str, Any]) -> Update:
        """The update as the receiver hands it to its chat's worker."""
        update = Update.de_json(raw, None)
        assert update is not None
        return update


# --- the "one moment" answer -----------------------------------------------------------


async def test_a_press_still_waiting_after_the_setting_is_answered_one_moment_once(
    db: Database,
) -> None:
    rig = Rig(db, NPSBOT_PRESS_ANSWER_SECONDS="3")
    update = rig.press()
    assert rig.admit(CHAT, update, pending=0)  # queued behind the chat's backlog
    assert [delay for delay, _, _ in rig.timers.started] == [3.0]
    assert rig.bot.answers == []  # not before the time is up
    rig.timers.fire()
    await rig.settle()
    assert rig.bot.answers == [("q1", "One moment…")]
    # When the handler finally runs, the press is answered already: it leaves it be.
    assert not press_answers(rig.bot_data).claim("q1")


async def test_a_press_handled_in_time_gets_no_one_moment(db: Database) -> None:
    rig = Rig(db)
    update = rig.press()
    assert rig.admit(CHAT, update, pending=0)
    assert [delay for delay, _, _ in rig.timers.started] == [5.0]  # the default
    assert press_answers(rig.bot_data).claim("q1")  # the handler answers it
    rig.flood.done(CHAT, update["update_id"], rig.parsed(update))
    rig.timers.fire()
    await rig.settle()
    assert rig.bot.answers == []
    assert press_answers(rig.bot_data).claim("q1")  # forgotten: bounded memory


async def test_one_moment_is_in_the_customers_telegram_language(db: Database) -> None:
    rig = Rig(db)
    rig.admit(CHAT, rig.press(language="zh-hans"), pending=0)
    rig.timers.fire()
    await rig.settle()
    assert rig.bot.answers == [("q1", "请稍候…")]


# --- dropped presses ----------------------------------------------------------------------


async def test_a_flood_of_dropped_presses_costs_a_few_answers_each_the_latest(
    db: Database,
) -> None:
    rig = Rig(db, NPSBOT_FLOOD_PENDING_UPDATES="2")
    busy = "Too many presses: one moment, please."
    presses = [rig.press(message_id=10 + i) for i in range(50)]  # one fetched batch
    assert not any(rig.admit(CHAT, p, pending=10) for p in presses)  # beyond 2 x cap
    await rig.settle()
    assert rig.bot.answers == [("q50", busy)]
    assert rig.svc.flood.presses_dropped == 50
    # While an answer is in flight, later presses wait; only the latest is answered next.
    rig.bot.held = {"q51"}
    rig.admit(CHAT, rig.press(message_id=99), pending=10)
    await rig.bot.started.wait()
    for i in range(9):
        rig.admit(CHAT, rig.press(message_id=100 + i), pending=10)
    rig.bot.release.set()
    await rig.settle()
    assert rig.bot.answers == [("q50", busy), ("q51", busy), ("q60", busy)]


async def test_each_chat_has_its_own_lane_for_dropped_presses(db: Database) -> None:
    rig = Rig(db, NPSBOT_FLOOD_PENDING_UPDATES="1")
    rig.bot.held = {"q1"}
    rig.admit(CHAT, rig.press(chat=CHAT), pending=5)
    await rig.bot.started.wait()  # the flooding chat's answer hangs
    rig.admit(OTHER, rig.press(chat=OTHER), pending=5)
    await asyncio.wait_for(asyncio.gather(*rig.work[1:]), 5)  # the other chat's lane
    assert rig.bot.answers == [("q2", "Too many presses: one moment, please.")]
    rig.bot.release.set()
    await rig.settle()
    assert sorted(q for q, _ in rig.bot.answers) == ["q1", "q2"]


# --- the per-chat outbox cap -----------------------------------------------------------


def replying(count: int) -> Callable[[Tx, Replies, datetime], Coroutine[Any, Any, None]]:
    async def work(tx: Tx, replies: Replies, now: datetime) -> None:
        for i in range(count):
            replies.send(f"reply {i}")

    return work


async def pending_texts(db: Database, chat: int) -> list[str]:
    async with db.read() as tx:
        return [item.params["text"] for item in await outbox.pending_for_chat(tx, chat)]


async def test_replies_over_the_outbox_cap_are_dropped_and_counted(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(db, NPSBOT_FLOOD_OUTBOX_PER_CHAT="3")
    fresh, _ = await run_unit(rig.svc, 1, CHAT, replying(2))
    assert fresh
    with caplog.at_level(logging.WARNING):
        await run_unit(rig.svc, 2, CHAT, replying(3))  # room for one more
    assert await pending_texts(db, CHAT) == ["reply 0", "reply 1", "reply 0"]
    assert rig.svc.flood.replies_dropped == 2
    assert f"chat {CHAT}: 2 replies over the outbox cap" in caplog.text
    await run_unit(rig.svc, 3, CHAT, replying(1))  # full: dropped whole
    assert len(await pending_texts(db, CHAT)) == 3
    assert rig.svc.flood.replies_dropped == 3


async def test_the_outbox_cap_counts_only_the_chats_own_pending_replies(db: Database) -> None:
    rig = Rig(db, NPSBOT_FLOOD_OUTBOX_PER_CHAT="2")
    await run_unit(rig.svc, 1, CHAT, replying(5))
    await run_unit(rig.svc, 2, OTHER, replying(2))
    assert len(await pending_texts(db, CHAT)) == 2
    assert await pending_texts(db, OTHER) == ["reply 0", "reply 1"]
    assert rig.svc.flood.replies_dropped == 3
    # Once the chat's replies are sent, it has room again.
    async with db.transaction() as tx:
        for item in await outbox.pending_for_chat(tx, CHAT):
            await outbox.mark_done(tx, item.id, NOW)
    await run_unit(rig.svc, 3, CHAT, replying(1))
    assert await pending_texts(db, CHAT) == ["reply 0"]
    assert rig.sender.flushed == [CHAT, OTHER, CHAT]


def test_stats_shows_the_replies_dropped_over_the_cap() -> None:
    class Limiter:
        rate = 25.0
        configured_rate = 25.0

    class SenderFigures:
        rate_limited = 0
        last_success = None
        limiter = Limiter()

    health = DeliveryHealth(0, None, 0, None, None, 0, 0)
    text = stats_text(
        admin_texts("en"),
        UTC,
        {SurveyStatus.SENT: 1},
        health,
        None,
        SenderFigures(),  # type: ignore[arg-type]
        None,
        FloodCounters(replies_dropped=7),
    )
    assert "7 replies over the per-chat outbox cap" in text


# --- in the receiver ---------------------------------------------------------------------


class HeldApp:
    """The application behind a receiver: handles updates once ``release`` is set."""

    def __init__(self) -> None:
        self.bot = None
        self.release = asyncio.Event()
        self.handled: list[int] = []

    async def process_update(self, update: Update) -> None:
        await self.release.wait()
        self.handled.append(update.update_id)


def text(update_id: int, chat: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "B"},
            "text": "hello",
        },
    }


async def outcomes(db: Database) -> dict[str | None, int]:
    """How many inbox rows have each outcome (None: stored, not handled yet)."""
    async with db.read() as tx:
        rows = await tx.fetchall("SELECT outcome, COUNT(*) FROM inbox GROUP BY outcome")
    return {r[0]: int(r[1]) for r in rows}


async def test_the_receiver_stores_updates_kept_out_done_with_and_never_parses_them(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(db, NPSBOT_FLOOD_PENDING_UPDATES="2")
    parsed: list[int] = []
    real_parse = receiving._parse

    def counting_parse(raw: Any, bot: Any) -> Update | None:
        parsed.append(raw["update_id"])
        return real_parse(raw, bot)

    monkeypatch.setattr(receiving, "_parse", counting_parse)
    app = HeldApp()
    receiver = Receiver(
        app,  # type: ignore[arg-type]
        db,
        FailedUpdates(),
        rig.svc.clock,
        flood=lambda spawn: FloodControl(
            rig.svc,
            rig.bot,  # type: ignore[arg-type]
            rig.bot_data,
            spawn,
            later=rig.timers,
        ),
    )
    await receiver.resume()
    flood = [rig.press() for _ in range(50)]  # ids 1-50, one message
    assert await receiver.receive([*flood, text(51, OTHER)]) == 51
    # Two presses fill the chat's queue; the other 48 collapse unparsed, stored done with in
    # the batch's transaction; the other chat's text is queued as usual.
    assert parsed == [1, 2, 51]
    assert await outcomes(db) == {None: 3, "collapsed": 48}
    app.release.set()
    await receiver.drain()
    assert sorted(app.handled) == [1, 2, 51]
    assert rig.bot.answers == [("q50", "Too many presses: one moment, please.")]
    assert await outcomes(db) == {"handled": 3, "collapsed": 48}


async def test_a_queued_press_that_cannot_be_parsed_is_marked_malformed_and_forgotten(
    db: Database,
) -> None:
    rig = Rig(db, NPSBOT_FLOOD_PENDING_UPDATES="1")
    app = HeldApp()
    receiver = Receiver(
        app,  # type: ignore[arg-type]
        db,
        FailedUpdates(),
        rig.svc.clock,
        flood=lambda spawn: FloodControl(
            rig.svc,
            rig.bot,  # type: ignore[arg-type]
            rig.bot_data,
            spawn,
            later=rig.timers,
        ),
    )
    await receiver.resume()
    broken = rig.press()  # id 1
    broken["callback_query"]["message"]["chat"] = "not a chat"  # PTB refuses it
    assert await receiver.receive([text(100, CHAT), broken]) == 2
    # Its press was withdrawn from the limits: no timer, and a later press on the same
    # message behind the full queue is queued, not collapsed onto a press that never ran.
    assert rig.timers.started == []
    assert await receiver.receive([rig.press()]) == 1  # id 2
    app.release.set()
    await receiver.drain()
    assert app.handled == [100, 2]
    assert await outcomes(db) == {"malformed": 1, "handled": 2}
