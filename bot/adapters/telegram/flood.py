"""The receiver's flood control: the limits of :mod:`bot.core.flood` applied to real
updates, and presses answered before Telegram's 15 s deadline whatever waits ahead of them.

An update that the limits keep out of its chat's queue is done with at once: it is stored
in the inbox already handled, with its outcome (collapsed, dropped, slowed), in the
transaction that stores its batch; a collapsed or dropped press gets its answer
(answerCallbackQuery, never a message), the first text over the budget gets one "slow
down" message (written to the outbox in that same transaction, paced like every reply),
later ones nothing. Only the flooding chat is touched: other chats have their own queues
and budgets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Update

from bot.adapters.telegram.bot_data import press_answers
from bot.adapters.telegram.callbacks import PressAnswers, answer_query
from bot.core.flood import FloodGate, FloodLimits, Verdict
from bot.core.records import InboxOutcome
from bot.usecases.services import Services
from storage import Tx, outbox

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


#: What the inbox records for an update the limits kept out of its chat's queue.
OUTCOMES: dict[Verdict, InboxOutcome] = {
    Verdict.COLLAPSE: InboxOutcome.COLLAPSED,
    Verdict.DROP_PRESS: InboxOutcome.DROPPED,
    Verdict.SLOW_DOWN: InboxOutcome.SLOWED,
    Verdict.DROP_TEXT: InboxOutcome.DROPPED,
}


class FloodControl:
    """Decides, for the receiver, which updates join their chat's queue; answers presses
    that wait too long. ``spawn`` runs the cheap answers in the background (the receiver
    awaits them before it stops).

    The receiver asks :meth:`decide` inside the transaction that stores the batch,
    :meth:`record` writes a kept-out update's reply in that transaction, and
    :meth:`carry_out` acts once it committed (or :meth:`withdraw` if it did not)."""

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
        self._kept_out = 0  # updates kept out of their queue so far (one log line a LOG_EVERY)

    def decide(self, chat: int, update: Update, pending: int) -> Verdict:
        """Whether ``update`` joins its chat's queue (``pending`` updates wait there)."""
        query = update.callback_query
        if query is not None:
            if query.message is None:
                return Verdict.QUEUE  # the handler answers it "invalid" at once
            return self.gate.admit_press(chat, query.message.message_id, pending)
        if update.effective_message is None or chat in self.admin_chats:
            return Verdict.QUEUE  # admins type many commands in a row, and are trusted
        return self.gate.admit_text(chat, self.monotonic())

    async def record(
        self, tx: Tx, chat: int, update: Update, verdict: Verdict, now: datetime
    ) -> None:
        """Inside the batch's transaction: the "slow down" reply of the first text over the
        budget (sent like every reply, paced, after the commit)."""
        if verdict is not Verdict.SLOW_DOWN:
            return
        user = update.effective_user
        lang = self.svc.catalog.language_for(None, user.language_code if user else None)
        text = self.svc.catalog.render("flood_slow_down", lang)
        await outbox.enqueue(tx, chat, "sendMessage", {"chat_id": chat, "text": text}, now)

    def carry_out(self, chat: int, update: Update, verdict: Verdict) -> None:
        """The batch is stored: a queued press gets its "one moment" timer; a press kept
        out is answered at once, a slow-down reply flushed; each kept-out one counted."""
        query = update.callback_query
        if verdict is Verdict.QUEUE:
            if query is not None and query.message is not None:
                self._start_timer(update.update_id, query)
            return
        self._count(chat, verdict)
        if query is not None:
            self.spawn(self._answer(query, "press_busy"), f"press-busy-{chat}")
        elif verdict is Verdict.SLOW_DOWN:
            self.svc.sender.schedule_flush(chat)

    def withdraw(self, chat: int, update: Update, verdict: Verdict) -> None:
        """The batch was not stored (it will be received again): forget the decision."""
        if verdict is Verdict.QUEUE:
            self.done(chat, update)

    def resume(self, chat: int, update: Update) -> None:
        """An update stored before a restart and not handled yet joins its queue again."""
        query = update.callback_query
        if query is not None and query.message is not None:
            self.gate.admit_press(chat, query.message.message_id, 0)
            self._start_timer(update.update_id, query)

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

    def _count(self, chat: int, verdict: Verdict) -> None:
        counters = self.svc.flood
        self._kept_out += 1
        if verdict is Verdict.SLOW_DOWN:
            log.warning(
                "chat %s: over %d texts a minute; slowing it down",
                chat,
                self.gate.limits.texts_per_minute,
            )
        if self._kept_out % LOG_EVERY == 1:
            log.warning(
                "flood limits: %d presses collapsed, %d presses and %d texts dropped so far "
                "(latest: chat %s)",
                counters.presses_collapsed,
                counters.presses_dropped,
                counters.texts_dropped,
                chat,
            )
