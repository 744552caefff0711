"""The poller's flood control: the limits of :mod:`bot.core.flood` applied to real updates,
and presses answered before Telegram's 15 s deadline whatever waits ahead of them.

An update that the limits keep out of its chat's queue is done with at once (and then
confirmed like a handled one): a collapsed or dropped press gets its answer
(answerCallbackQuery, never a message), the first text over the budget gets one "slow
down" message (through the outbox, paced like every reply), later ones nothing. Only the
flooding chat is touched: other chats have their own queues and budgets.

Those answers are cheap but not free (an HTTP request each, and the connection pool is
shared with every other chat's calls): each chat has at most one in flight, and a press
dropped meanwhile replaces the one waiting for it, so only the latest is answered. A
flood of thousands of presses costs a few dozen answers; a superseded press's spinner
ends on its own (Telegram's 15 s), as a person pressing again would see anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from telegram import CallbackQuery, Update

from bot.adapters.telegram.bot_data import press_answers
from bot.adapters.telegram.callbacks import PressAnswers, answer_query
from bot.core.flood import FloodGate, FloodLimits, Verdict
from bot.usecases.services import Services
from storage import outbox

log = logging.getLogger(__name__)

LOG_EVERY = 100  # one log line per this many dropped updates (a flood is thousands)


class Timer(Protocol):
    """What ``call_later`` returns: a timer that can be cancelled."""

    def cancel(self) -> None: ...


#: ``loop.call_later``'s shape: run a callback after so many seconds.
Later = Callable[[float, Callable[[], None]], Timer]


class _Lane:
    """A chat's answers to dropped presses: one in flight, the latest one waiting."""

    __slots__ = ("waiting",)

    def __init__(self, first: CallbackQuery) -> None:
        self.waiting: CallbackQuery | None = first


def flood_limits(svc: Services) -> FloodLimits:
    """The limits as configured."""
    s = svc.settings
    return FloodLimits(
        pending_cap=s.flood_pending_updates,
        texts_per_minute=s.flood_texts_per_minute,
        outbox_cap=s.flood_outbox_per_chat,
    )


class FloodControl:
    """Decides, for the poller, which updates join their chat's queue; answers presses that
    wait too long. ``spawn`` runs the cheap answers in the background (the poller awaits
    them before it stops); ``later`` starts the "one moment" timers (the running loop's
    ``call_later`` unless a test drives them)."""

    def __init__(
        self,
        svc: Services,
        bot_data: dict[Any, Any],
        spawn: Callable[[Coroutine[Any, Any, None], str], object],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        later: Later | None = None,
    ) -> None:
        self.svc = svc
        self.gate = FloodGate(flood_limits(svc))
        self.gate.counters = svc.flood
        self.answers: PressAnswers = press_answers(bot_data)
        self.spawn = spawn
        self.monotonic = monotonic
        self.answer_after = svc.settings.press_answer_seconds
        self._later = later
        self._timers: dict[int, Timer] = {}
        self._lanes: dict[int, _Lane] = {}
        self.admin_chats = frozenset(svc.settings.admin_chat_ids)

    def admit(self, chat: int, update: Update, pending: int) -> bool:
        """True: queue ``update`` (``pending`` updates of its chat wait already)."""
        query = update.callback_query
        if query is not None:
            if query.message is None:
                return True  # the handler answers it "invalid" at once
            verdict = self.gate.admit_press(
                chat, query.message.message_id, pending, self.monotonic()
            )
            if verdict is Verdict.QUEUE:
                self._start_timer(update.update_id, query)
                return True
            self._count(chat, verdict)
            self._answer_dropped(chat, query)
            return False
        if update.effective_message is None or chat in self.admin_chats:
            return True  # admins type many commands in a row, and are trusted
        verdict = self.gate.admit_text(chat, self.monotonic())
        if verdict is Verdict.QUEUE:
            return True
        self._count(chat, verdict)
        if verdict is Verdict.SLOW_DOWN:
            self.spawn(self._slow_down(chat, update), f"slow-down-{chat}")
        return False

    def done(self, chat: int, update: Update) -> None:
        """A queued update is handled (or given up on)."""
        timer = self._timers.pop(update.update_id, None)
        if timer is not None:
            timer.cancel()
        query = update.callback_query
        if query is not None and query.message is not None:
            self.gate.press_done(chat, query.message.message_id)
            self.answers.forget(query.id)

    def idle(self, chat: int) -> None:
        """The chat's queue is empty."""
        self.gate.forget_idle(chat, self.monotonic())

    def _start_timer(self, update_id: int, query: CallbackQuery) -> None:
        def fire() -> None:
            self.spawn(self._answer_waiting(query), "press-wait")

        later = self._later or asyncio.get_running_loop().call_later
        self._timers[update_id] = later(self.answer_after, fire)

    async def _answer_waiting(self, query: CallbackQuery) -> None:
        """A queued press waits too long: "one moment", unless its handler answered it."""
        if self.answers.claim(query.id):
            await self._answer(query, "press_wait")

    def _answer_dropped(self, chat: int, query: CallbackQuery) -> None:
        """Answer a press kept out of the queue: no handler will (see the module's text)."""
        lane = self._lanes.get(chat)
        if lane is not None:
            lane.waiting = query  # the one waiting before is superseded: left unanswered
            return
        lane = self._lanes[chat] = _Lane(query)
        self.spawn(self._drain_lane(chat, lane), f"press-busy-{chat}")

    async def _drain_lane(self, chat: int, lane: _Lane) -> None:
        try:
            while lane.waiting is not None:
                query, lane.waiting = lane.waiting, None
                await self._answer(query, "press_busy")
        finally:
            del self._lanes[chat]

    async def _answer(self, query: CallbackQuery, key: str) -> None:
        lang = self.svc.catalog.language_for(None, query.from_user.language_code)
        await answer_query(query, self.svc.catalog.render(key, lang))

    async def _slow_down(self, chat: int, update: Update) -> None:
        user = update.effective_user
        lang = self.svc.catalog.language_for(None, user.language_code if user else None)
        text = self.svc.catalog.render("flood_slow_down", lang)
        async with self.svc.db.transaction() as tx:
            await outbox.enqueue(
                tx, chat, "sendMessage", {"chat_id": chat, "text": text}, self.svc.clock()
            )
        self.svc.sender.schedule_flush(chat)

    def _count(self, chat: int, verdict: Verdict) -> None:
        counters = self.svc.flood
        if verdict is Verdict.SLOW_DOWN:
            log.warning(
                "chat %s: over %d texts a minute; slowing it down",
                chat,
                self.gate.limits.texts_per_minute,
            )
        if counters.dropped % LOG_EVERY == 1:
            log.warning(
                "flood limits: %d presses collapsed, %d presses and %d texts dropped so far "
                "(latest: chat %s)",
                counters.presses_collapsed,
                counters.presses_dropped,
                counters.texts_dropped,
                chat,
            )
