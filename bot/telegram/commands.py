"""The shape every customer command shares, written once.

A command handler reads the message, opens the update's unit of work, finds who is speaking
and in which language, and replies through the outbox. :func:`customer_command` does all of
that; the command itself is only what differs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Message, Update, User
from telegram.ext import ContextTypes

from bot.telegram.services import Services, services
from bot.telegram.unit_of_work import Replies, run_unit
from storage import Tx, customers
from storage.records import Customer

# PTB wants a coroutine function.
log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


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


@dataclass(frozen=True)
class Command:
    """Everything a customer command works with, inside the update's transaction."""

    svc: Services
    tx: Tx
    replies: Replies
    now: datetime
    message: Message
    args: list[str]
    customer: Customer | None  # None: the chat is not linked to a customer
    lang: str

    @property
    def chat_id(self) -> int:
        return self.message.chat.id

    def say(self, key: str, **params: object) -> None:
        """Reply with the catalog's text for ``key`` in the speaker's language."""
        self.replies.send(self.svc.catalog.render(key, self.lang, **params))


def customer_command(work: Callable[[Command], Awaitable[None]]) -> Handler:
    """Turn ``work(command)`` into a PTB handler that runs it once per update."""

    @functools.wraps(work)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        svc = services(context)
        chat_id = message.chat.id
        args = list(context.args or [])

        async def unit(tx: Tx, replies: Replies, now: datetime) -> None:
            customer, lang = await speaker(svc, tx, chat_id, message.from_user, now)
            await work(Command(svc, tx, replies, now, message, args, customer, lang))

        await run_unit(svc, update, chat_id, unit)

    return handler
