"""The receiver's flood control: the limits of :mod:`bot.core.flood` applied to real
updates, and presses answered before Telegram's 15 s deadline whatever waits ahead of them.

An update that the limits keep out of its chat's queue is done with at once: it is stored
in the inbox already handled, with its outcome (collapsed, dropped, slowed), in the
transaction that stores its batch; a collapsed or dropped press gets its answer
(answerCallbackQuery, never a message), the first text over the budget gets one "slow
down" message (written to the outbox in that same transaction, paced like every reply),
later ones nothing. Only the flooding chat is touched: other chats have their own queues
and budgets.

Both are cheap, and kept so: the decision is taken on the update's JSON, before PTB parses
it (parsing a press with its message and keyboard costs about 0.4 ms, most of what a flood
of presses would otherwise cost; a kept-out update is never parsed); and each chat has at
most one answer to a kept-out press in flight, a press kept out meanwhile replacing the one
waiting, so only the latest is answered. Thousands of forged presses cost a few dozen
answers, and the HTTP connections stay free for the other chats' calls; a superseded
press's spinner ends on its own after Telegram's 15 s, as a person pressing again would
see anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from telegram import Bot, Update

from bot.adapters.telegram.bot_data import press_answers
from bot.adapters.telegram.callbacks import PressAnswers, answer_press
from bot.adapters.telegram.raw import field, language_code
from bot.core.flood import FloodGate, FloodLimits, Verdict
from bot.core.records import InboxOutcome
from bot.usecases.services import Services
from storage import Tx, outbox

log = logging.getLogger(__name__)

LOG_EVERY = 100  # one log line per this many dropped updates (a flood is thousands)


class Timer(Protocol):
    """What ``call_later`` returns: a timer that can be cancelled."""

    def cancel(self) -> None: ...


#: ``loop.call_later``'s shape: run a callback after so many seconds.
Later = Callable[[float, Callable[[], None]], Timer]


@dataclass(frozen=True)
class Press:
    """What the flood control needs of a press, read from the update's JSON."""

    message_id: int
    query_id: str
    language_code: str | None


def press_of(raw: Mapping[str, Any]) -> Press | None:
    """The press ``raw`` carries, if it is a press on a message (one without a message is
    no concern of the limits: its handler answers it "invalid" at once)."""
    query = raw.get("callback_query")
    message_id = field(query, "message", "message_id")
    if not isinstance(query, Mapping) or not isinstance(message_id, int):
        return None
    return Press(message_id, str(query.get("id", "")), language_code(query.get("from")))


class _Lane:
    """A chat's answers to dropped presses: one in flight, the latest one waiting."""

    __slots__ = ("waiting",)

    def __init__(self, first: Press) -> None:
        self.waiting: Press | None = first


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
    awaits them before it stops); ``later`` starts the "one moment" timers (the running
    loop's ``call_later`` unless a test drives them).

    The receiver asks :meth:`decide` (on the update's JSON) inside the transaction that
    stores the batch, :meth:`record` writes a kept-out update's reply in that transaction,
    and :meth:`carry_out` acts once it committed (or :meth:`withdraw` if it did not, or the
    update turned out malformed)."""

    def __init__(
        self,
        svc: Services,
        bot: Bot,
        bot_data: dict[Any, Any],
        spawn: Callable[[Coroutine[Any, Any, None], str], object],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        later: Later | None = None,
    ) -> None:
        self.svc = svc
        self.bot = bot
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
        self._kept_out = 0  # updates kept out of their queue so far (one log line a LOG_EVERY)

    def decide(self, chat: int, raw: Mapping[str, Any], pending: int) -> Verdict:
        """Whether the update ``raw`` (its JSON, not parsed) joins its chat's queue
        (``pending`` updates wait there)."""
        if "callback_query" in raw:
            press = press_of(raw)
            if press is None:
                return Verdict.QUEUE  # the handler answers it "invalid" at once
            return self.gate.admit_press(chat, press.message_id, pending, self.monotonic())
        if not isinstance(_message(raw), Mapping) or chat in self.admin_chats:
            return Verdict.QUEUE  # admins type many commands in a row, and are trusted
        return self.gate.admit_text(chat, self.monotonic())

    async def record(
        self, tx: Tx, chat: int, raw: Mapping[str, Any], verdict: Verdict, now: datetime
    ) -> None:
        """Inside the batch's transaction: the "slow down" reply of the first text over the
        budget (sent like every reply, paced, after the commit)."""
        if verdict is not Verdict.SLOW_DOWN:
            return
        lang = self.svc.catalog.language_for(None, language_code(field(_message(raw), "from")))
        text = self.svc.catalog.render("flood_slow_down", lang)
        await outbox.enqueue(tx, chat, "sendMessage", {"chat_id": chat, "text": text}, now)

    def carry_out(self, chat: int, raw: Mapping[str, Any], verdict: Verdict) -> None:
        """The batch is stored: a queued press gets its "one moment" timer; a press kept
        out is answered in its chat's lane, a slow-down reply flushed; each kept-out one
        counted."""
        press = press_of(raw)
        if verdict is Verdict.QUEUE:
            if press is not None:
                self._start_timer(raw["update_id"], press)
            return
        self._count(chat, verdict)
        if press is not None:
            self._answer_dropped(chat, press)
        elif verdict is Verdict.SLOW_DOWN:
            self.svc.sender.schedule_flush(chat)

    def withdraw(self, chat: int, raw: Mapping[str, Any], verdict: Verdict) -> None:
        """The update will not join its queue after all (its batch was not stored and will
        be received again, or it cannot be parsed): forget the decision."""
        press = press_of(raw)
        if verdict is Verdict.QUEUE and press is not None:
            self._forget(chat, raw["update_id"], press.message_id, press.query_id)

    def resume(self, chat: int, raw: Mapping[str, Any]) -> None:
        """An update stored before a restart and not handled yet joins its queue again."""
        press = press_of(raw)
        if press is not None:
            self.gate.admit_press(chat, press.message_id, 0, self.monotonic())
            self._start_timer(raw["update_id"], press)

    def done(self, chat: int, update_id: int, update: Update | None, raw: Any = None) -> None:
        """A queued update is handled, given up on, or found malformed in its turn (``raw``:
        its JSON object when it waited unparsed)."""
        query = update.callback_query if update is not None else None
        if query is not None and query.message is not None:
            self._forget(chat, update_id, query.message.message_id, query.id)
        elif isinstance(raw, Mapping) and (press := press_of(raw)) is not None:
            self._forget(chat, update_id, press.message_id, press.query_id)

    def idle(self, chat: int) -> None:
        """The chat's queue is empty."""
        self.gate.forget_idle(chat, self.monotonic())

    def _forget(self, chat: int, update_id: int, message_id: int, query_id: str) -> None:
        timer = self._timers.pop(update_id, None)
        if timer is not None:
            timer.cancel()
        self.gate.press_done(chat, message_id)
        self.answers.forget(query_id)

    def _start_timer(self, update_id: int, press: Press) -> None:
        def fire() -> None:
            self.spawn(self._answer_waiting(press), "press-wait")

        later = self._later or asyncio.get_running_loop().call_later
        self._timers[update_id] = later(self.answer_after, fire)

    async def _answer_waiting(self, press: Press) -> None:
        """A queued press waits too long: "one moment", unless its handler answered it."""
        if self.answers.claim(press.query_id):
            await self._answer(press, "press_wait")

    def _answer_dropped(self, chat: int, press: Press) -> None:
        """Answer a press kept out of the queue: no handler will (see the module's text)."""
        lane = self._lanes.get(chat)
        if lane is not None:
            lane.waiting = press  # the one waiting before is superseded: left unanswered
            return
        lane = self._lanes[chat] = _Lane(press)
        self.spawn(self._drain_lane(chat, lane), f"press-busy-{chat}")

    async def _drain_lane(self, chat: int, lane: _Lane) -> None:
        try:
            while lane.waiting is not None:
                press, lane.waiting = lane.waiting, None
                await self._answer(press, "press_busy")
        finally:
            del self._lanes[chat]

    async def _answer(self, press: Press, key: str) -> None:
        lang = self.svc.catalog.language_for(None, press.language_code)
        await answer_press(self.bot, press.query_id, self.svc.catalog.render(key, lang))

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


def _message(raw: Mapping[str, Any]) -> Any:
    """The message a text update carries (a new one or an edit), if any."""
    return raw.get("message") or raw.get("edited_message")
