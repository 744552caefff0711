"""One way to write a handler: commands, messages and button presses alike.

Every handler does the same things in the same order, written here once:

1. parse: a press's callback data through its :class:`~bot.core.callback_data.Kind`
   (data that is not exactly ours is answered "invalid" and changes nothing);
2. an optional guard that may refuse or pass the update on before anything is claimed;
3. claim the update and run the body in the update's transaction
   (:func:`bot.usecases.unit_of_work.run_unit`: a redelivered update does nothing);
4. find who is speaking and in which language (:func:`speaker`; admins are spoken to in
   the admin language);
5. the body decides (with the pure flow in :mod:`bot.core.flow`) and records its replies,
   which reach the outbox with the claim;
6. once committed: answer the press (answerCallbackQuery) with the body's text, then run
   what the body left for after the commit (files, background sends);
7. admin handlers stop the update there, so the customers' handlers never see it.

The handler body receives a :class:`Turn` and is only what differs.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from telegram import CallbackQuery, Message, Update, User
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.adapters.telegram.bot_data import press_answers, services
from bot.adapters.telegram.callbacks import answer_query
from bot.core.callback_data import Kind
from bot.core.records import Customer
from bot.usecases.log_context import log_context
from bot.usecases.services import Services
from bot.usecases.timing import log_update, timing_on
from bot.usecases.unit_of_work import Replies, run_unit
from storage import Tx, customers

log = logging.getLogger(__name__)

P = TypeVar("P")

# PTB wants a coroutine function.
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class Skip:
    """A guard's verdict: not this handler's update after all. Nothing is claimed or
    answered, and later handlers (of other groups) still see it."""


SKIP = Skip()

#: Before the claim: None to go on, a text to refuse with (a press's answer), or SKIP.
Guard = Callable[[Services, Update, P], Awaitable[str | Skip | None]]
#: The answer to callback data that is not of the handler's kind: (services, language).
Invalid = Callable[[Services, str], str]


async def speaker(
    svc: Services, tx: Tx, chat_id: int, user: User | None, now: datetime
) -> tuple[Customer | None, str]:
    """The customer linked to ``chat_id`` (if any) and the language to answer them in.

    Inside the update's transaction: a changed ``language_code`` is stored on the customer.
    """
    code = user.language_code if user is not None else None
    customer = await customers.get_by_chat(tx, chat_id)
    if customer is None:
        return None, svc.catalog.language_for(None, code)
    if await customers.note_telegram_language(tx, customer, code, now):
        log.info(
            "chat %s: Telegram language now %r (was %r)",
            chat_id,
            code,
            customer.telegram_language,
        )
    return customer, svc.catalog.language_for(customer.language, code or customer.telegram_language)


async def _answer(
    context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, text: str | None
) -> None:
    """Answer the press unless it was answered already (the receiver's "one moment" for a
    press kept waiting behind its chat's backlog)."""
    if press_answers(context.application.bot_data).claim(query.id):
        await answer_query(query, text)


def fallback_language(svc: Services, update: Update) -> str:
    """The language to refuse in before anything is read (Telegram's, else the default)."""
    user = update.effective_user
    return svc.catalog.language_for(None, user.language_code if user is not None else None)


@dataclass
class Turn(Generic[P]):
    """Everything a handler body works with, inside the update's transaction."""

    svc: Services
    tx: Tx
    replies: Replies
    now: datetime
    update: Update
    chat_id: int
    message_id: int  # the update's message, or the message whose button was pressed
    message: Message | None  # None only for a press on a message too old to be accessible
    user: User | None
    press: P  # the parsed callback data; None for commands and messages
    args: list[str]  # a command's arguments
    customer: Customer | None  # None: the chat is not linked (always None for admins)
    lang: str
    _after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def text(self, key: str, **params: object) -> str:
        """The catalog's text for ``key`` in the speaker's language."""
        return self.svc.catalog.render(key, self.lang, **params)

    def say(self, key: str, **params: object) -> None:
        """Reply with the catalog's text for ``key`` in the speaker's language."""
        self.replies.send(self.text(key, **params))

    def then(self, step: Callable[[], Awaitable[None]]) -> None:
        """Await ``step`` once the update's transaction has committed (never if it fails,
        nor for a redelivered update), after the press is answered."""
        self._after.append(step)

    def background(self, name: str, start: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``start()`` as a background task once the transaction has committed: files
        and sends that must not hold back the other updates of the poller's batch."""

        async def launch() -> None:
            self.svc.supervisor.spawn(start(), name)

        self._after.append(launch)


Work = Callable[[Turn[P]], Awaitable[str | None]]


#: A handler's outcome when its guard (or a missing message) left the update to others.
PASSED = "passed"


def update_kind(update: Update, kind: Kind[Any] | None) -> str:
    """The ``kind`` label of an update in the metrics: ``press:<button prefix>``,
    ``command`` or ``message`` (a small, fixed set: never user-supplied text)."""
    if kind is not None:
        return f"press:{kind.prefix}"
    message = update.effective_message
    text = message.text if message is not None else None
    return "command" if text is not None and text.startswith("/") else "message"


def _press_invalid(svc: Services, lang: str) -> str:
    return svc.catalog.render("press_invalid", lang)


@overload
def handler(
    kind: None = None,
    *,
    admin: bool = False,
    guard: Guard[None] | None = None,
    chat_scoped: bool = False,
) -> Callable[[Work[None]], Handler]: ...


@overload
def handler(
    kind: Kind[P],
    *,
    admin: bool = False,
    guard: Guard[P] | None = None,
    invalid: Invalid = _press_invalid,
    chat_scoped: bool = False,
) -> Callable[[Work[P]], Handler]: ...


def handler(
    kind: Kind[Any] | None = None,
    *,
    admin: bool = False,
    guard: Guard[Any] | None = None,
    invalid: Invalid = _press_invalid,
    chat_scoped: bool = False,
) -> Callable[[Work[Any]], Handler]:
    """Turn ``work(turn)`` into a PTB handler for presses of ``kind`` (or, without a kind,
    for commands and messages). ``work`` returns the press's answer (None for commands).

    ``admin``: spoken to in the admin language, no customer looked up, and the update
    stops here (the wiring's admin filter, or ``guard``, decides who gets this far).
    ``chat_scoped``: the update's transaction is scoped to its chat (runs beside other
    chats' on PostgreSQL); only for bodies checked to change nothing but the chat's own
    rows and atomic upserts and inserts (the table in storage/postgres.py). The default
    is an exclusive transaction.
    """

    def decorate(work: Work[Any]) -> Handler:
        @functools.wraps(work)
        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            svc = services(context)
            label = update_kind(update, kind)
            started = time.perf_counter()
            outcome = "failed"  # unless _run returns: it raised
            chat = update.effective_chat
            try:
                with log_context(chat_id=chat.id if chat is not None else None):
                    outcome = await _run(svc, update, context, work)
            finally:
                svc.metrics.updates.labels(label, outcome).inc()
                svc.metrics.handling_seconds.labels(label).observe(time.perf_counter() - started)
            if outcome != PASSED and admin:
                raise ApplicationHandlerStop

        return run

    async def _run(
        svc: Services, update: Update, context: ContextTypes.DEFAULT_TYPE, work: Work[Any]
    ) -> str:
        """Handle the update; its outcome for the metrics (PASSED: left to other handlers)."""
        query = update.callback_query
        press: Any = None
        if kind is not None:
            assert query is not None
            press = kind.parse(query.data)
            pressed = query.message
            if press is None or pressed is None:
                await _answer(context, query, invalid(svc, fallback_language(svc, update)))
                return "invalid"
            chat_id, message_id = pressed.chat.id, pressed.message_id
            message = pressed if isinstance(pressed, Message) else None
        else:
            message = update.effective_message
            if message is None:
                return PASSED
            chat_id, message_id = message.chat.id, message.message_id
        if guard is not None:
            verdict = await guard(svc, update, press)
            if isinstance(verdict, Skip):
                return PASSED
            if verdict is not None:
                if query is not None:
                    await _answer(context, query, verdict)
                return "refused"
        user = update.effective_user
        args = list(context.args or [])
        # Stage times for NPSBOT_TIMING_LOG: entered, body began and ended, committed.
        stamps = [time.monotonic()] if timing_on() else None

        async def unit(
            tx: Tx, replies: Replies, now: datetime
        ) -> tuple[str | None, list[Callable[[], Awaitable[None]]]]:
            if stamps is not None:
                stamps.append(time.monotonic())
            if admin:
                customer, lang = None, svc.settings.admin_language
            else:
                customer, lang = await speaker(svc, tx, chat_id, user, now)
            turn = Turn(
                svc,
                tx,
                replies,
                now,
                update,
                chat_id,
                message_id,
                message,
                user,
                press,
                args,
                customer,
                lang,
            )
            outcome = await work(turn), turn._after
            if stamps is not None:
                stamps.append(time.monotonic())
            return outcome

        fresh, result = await run_unit(
            svc, update.update_id, chat_id, unit, chat_scoped=chat_scoped
        )
        if not fresh or result is None:
            return "redelivered"  # its first handling answered it
        answer, after = result
        if stamps is not None:
            stamps.append(time.monotonic())
        if query is not None:
            # Answered in every case: Telegram shows a spinner until the press is answered.
            await _answer(context, query, answer)
        if stamps is not None and len(stamps) == 4:
            start, body, done, committed = stamps
            log_update(
                update.update_id,
                chat_id,
                update_kind(update, kind),
                start,
                body - start,
                done - body,
                committed - done,
                time.monotonic() - committed,
            )
        for step in after:
            await step()
        return "handled"

    return decorate


async def answer_unknown_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Callback data of no kind of ours (old versions, forgeries): say so, change nothing."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    await _answer(context, query, _press_invalid(svc, fallback_language(svc, update)))
