"""Which language a customer is spoken to in, and ``/language`` to choose it.

The language is the customer's stored choice, else Telegram's ``language_code`` (the app's
language, stored on the customer whenever it changes so the dispatcher and the periodic
jobs, which have no update to read it from, know it too), else the questionnaire's default.

``/language`` shows an inline keyboard of the questionnaire's languages; a press carries
the code (:data:`bot.telegram.callback_data.LANGUAGE`). Callback data is client-controlled,
so it is parsed strictly and only a language the questionnaire offers is stored.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.questionnaire.catalog import Catalog
from bot.telegram.callback_data import LANGUAGE, LanguagePress
from bot.telegram.callbacks import answer_query
from bot.telegram.commands import Command, customer_command, speaker
from bot.telegram.services import services
from bot.telegram.unit_of_work import Replies, run_unit
from storage import Tx, customers
from storage.records import Customer

log = logging.getLogger(__name__)


def customer_language(catalog: Catalog, customer: Customer | None) -> str:
    """The language to write to a stored customer in (no update at hand)."""
    if customer is None:
        return catalog.default_language
    return catalog.language_for(customer.language, customer.telegram_language)


def parse_language_callback(data: str | None, available: tuple[str, ...]) -> str | None:
    """The language code of a press if the questionnaire offers it, else None."""
    press = LANGUAGE.parse(data)
    if press is None or press.code not in available:
        return None
    return press.code


def language_keyboard(catalog: Catalog) -> dict[str, Any]:
    """One button per offered language, named in its own language, two per row."""
    buttons = [
        {"text": catalog.language_name(code), "callback_data": LANGUAGE.encode(LanguagePress(code))}
        for code in catalog.languages
    ]
    return {"inline_keyboard": [buttons[i : i + 2] for i in range(0, len(buttons), 2)]}


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: offer the questionnaire's languages."""

    async def offer(cmd: Command) -> None:
        if cmd.customer is None:
            # Nowhere to store a choice: the chat is not linked to a customer yet.
            cmd.say("not_linked")
            return
        catalog = cmd.svc.catalog
        prompt = catalog.render("language_prompt", cmd.lang)
        cmd.replies.send(prompt, reply_markup=language_keyboard(catalog))

    await customer_command(offer)(update, context)


async def on_language_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on the /language keyboard: store the choice and confirm in that language."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    message = query.message
    chosen = parse_language_callback(query.data, svc.catalog.languages)
    if message is None or chosen is None:
        lang = svc.catalog.language_for(None, query.from_user.language_code)
        await answer_query(query, svc.catalog.render("language_invalid", lang))
        return
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> str:
        customer, lang = await speaker(svc, tx, chat_id, query.from_user, now)
        if customer is None:
            return svc.catalog.render("press_invalid", lang)
        await customers.set_language(tx, customer.id, chosen, now)
        log.info("chat %s (customer %r) chose language %r", chat_id, customer.external_id, chosen)
        confirmation = svc.catalog.render("language_set", chosen)
        replies.edit(message.message_id, confirmation)
        return confirmation

    fresh, answer = await run_unit(svc, update, chat_id, work)
    if fresh and answer is not None:
        await answer_query(query, answer[:200])
