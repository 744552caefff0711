"""The poller's flood control: the limits of :mod:`bot.core.flood` applied to real updates,
and presses answered before Telegram's 15 s deadline whatever waits ahead of them.

An update that the limits keep out of its chat's queue is done with at once (and then
confirmed like a handled one): a collapsed or dropped press gets its answer
(answerCallbackQuery, never a message), the first text over the budget gets one "slow
down" message (through the outbox, paced like every reply), later ones nothing. Only the
flooding chat is touched: other chats have their own queues and budgets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, Update

from bot.adapters.telegram.bot_data import press_answers
from bot.adapters.telegram.callbacks import PressAnswers, answer_query
from bot.core.flood import FloodGate, FloodLimits, Verdict
from bot.usecases.services import Services
from storage import outbox

log = logging.getLogger(__name__)

LOG_EVERY = 100  # one log line per this many dropped updates (a flood is thousands)


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
    them before it stops)."""

    def __init__(
        self,
        svc: Services,
        bot_data: dict[Any, Any],
        spawn: Callable[[Coroutine[Any, Any, None], str], object],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.svc = svc
        self.gate = FloodGate(flood_limits(svc))
        self.gate.counters = svc.flood
        self.answers: PressAnswers = press_answers(bot_data)
        self.spawn = spawn
        self.monotonic = monotonic
        self.answer_after = svc.settings.press_answer_seconds
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self.admin_chats = frozenset(svc.settings.admin_chat_ids)

    def admit(self, chat: int, update: Update, pending: int) -> bool:
        """True: queue ``update`` (``pending`` updates of its chat wait already)."""
        query = update.callback_query
        if query is not None:
            if query.message is None:
                return True  # the handler answers it "invalid" at once
            verdict = self.gate.admit_press(chat, query.message.message_id, pending)
            if verdict is Verdict.QUEUE:
                self._start_timer(update.update_id, query)
                return True
            self._count(chat, verdict)
            self.spawn(self._answer(query, "press_busy"), f"press-busy-{chat}")
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
        loop = asyncio.get_running_loop()
        self._timers[update_id] = loop.call_later(
            self.answer_after,
            lambda: self.spawn(self._answer(query, "press_wait"), "press-wait"),
        )

    async def _answer(self, query: CallbackQuery, key: str) -> None:
        if not self.answers.claim(query.id):
            return
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
