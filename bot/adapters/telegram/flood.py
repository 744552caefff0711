"""The poller's flood control: the limits of :mod:`bot.core.flood` applied to real updates,
and presses answered before Telegram's 15 s deadline whatever waits ahead of them.

An update that the limits keep out of its chat's queue is done with at once (and then
confirmed like a handled one): a collapsed or dropped press gets its answer
(answerCallbackQuery, never a message), the first text over the budget gets one "slow
down" message (through the outbox, paced like every reply), later ones nothing. Only the
flooding chat is touched: other chats have their own queues and budgets.

Both are cheap, and kept so: the decision is taken on the update's JSON, before PTB parses
it (parsing a press with its message and keyboard costs about 0.4 ms, most of what a flood
of presses would otherwise cost); and each chat has at most one answer to a kept-out press
in flight, a press kept out meanwhile replacing the one waiting, so only the latest is
answered. Thousands of forged presses cost a few dozen answers, and the HTTP connections
stay free for the other chats' calls; a superseded press's spinner ends on its own after
Telegram's 15 s, as a person pressing again would see anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from telegram import Bot, Update

from bot.adapters.telegram.bot_data import press_answers
from bot.adapters.telegram.callbacks import PressAnswers, answer_press
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


@dataclass(frozen=True)
class Press:
    """What answering a press needs, read from the update's JSON."""

    query_id: str
    language_code: str | None


class _Lane:
    """A chat's answers to dropped presses: one in flight, the latest one waiting."""

    __slots__ = ("waiting",)

    def __init__(self, first: Press) -> None:
        self.waiting: Press | None = first


def _field(raw: Mapping[str, Any], *path: str) -> Any:
    """``raw[path[0]][path[1]]...``, or None where the JSON has no such object."""
    value: Any = raw
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _language(sender: Any) -> str | None:
    code = _field(sender, "language_code") if isinstance(sender, Mapping) else None
    return code if isinstance(code, str) else None


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

    def admit(self, chat: int, raw: Mapping[str, Any], pending: int) -> bool:
        """True: queue the update ``raw`` (its JSON; ``pending`` updates of its chat wait
        already). False: it is dealt with."""
        query = raw.get("callback_query")
        if isinstance(query, Mapping):
            message_id = _field(query, "message", "message_id")
            if not isinstance(message_id, int):
                return True  # the handler answers it "invalid" at once
            press = Press(str(query.get("id", "")), _language(query.get("from")))
            verdict = self.gate.admit_press(chat, message_id, pending, self.monotonic())
            if verdict is Verdict.QUEUE:
                self._start_timer(raw["update_id"], press)
                return True
            self._count(chat, verdict)
            self._answer_dropped(chat, press)
            return False
        message = raw.get("message") or raw.get("edited_message")
        if not isinstance(message, Mapping) or chat in self.admin_chats:
            return True  # admins type many commands in a row, and are trusted
        verdict = self.gate.admit_text(chat, self.monotonic())
        if verdict is Verdict.QUEUE:
            return True
        self._count(chat, verdict)
        if verdict is Verdict.SLOW_DOWN:
            language = _language(message.get("from"))
            self.spawn(self._slow_down(chat, language), f"slow-down-{chat}")
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

    async def _slow_down(self, chat: int, language_code: str | None) -> None:
        lang = self.svc.catalog.language_for(None, language_code)
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
