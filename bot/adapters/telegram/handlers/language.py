"""Which language a customer is spoken to in, and ``/language`` to choose it.

The language is the customer's stored choice, else Telegram's ``language_code`` (the app's
language, stored on the customer whenever it changes so the dispatcher and the periodic
jobs, which have no update to read it from, know it too), else the questionnaire's default.

``/language`` shows an inline keyboard of the questionnaire's languages; a press carries
the code (:data:`bot.core.callback_data.LANGUAGE`). Callback data is client-controlled,
so it is parsed strictly and only a language the questionnaire offers is stored.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update

from bot.adapters.telegram.handler import Turn, fallback_language, handler
from bot.core.callback_data import LANGUAGE, LanguagePress
from bot.core.questionnaire.catalog import Catalog
from bot.usecases.services import Services
from storage import customers

log = logging.getLogger(__name__)


def language_keyboard(catalog: Catalog) -> dict[str, Any]:
    """One button per offered language, named in its own language, two per row."""
    buttons = [
        {"text": catalog.language_name(code), "callback_data": LANGUAGE.encode(LanguagePress(code))}
        for code in catalog.languages
    ]
    return {"inline_keyboard": [buttons[i : i + 2] for i in range(0, len(buttons), 2)]}


@handler(chat_scoped=True)
async def on_language(turn: Turn[None]) -> None:
    """/language: offer the questionnaire's languages."""
    if turn.customer is None:
        # Nowhere to store a choice: the chat is not linked to a customer yet.
        turn.say("not_linked")
        return
    catalog = turn.svc.catalog
    turn.replies.send(
        catalog.render("language_prompt", turn.lang), reply_markup=language_keyboard(catalog)
    )


async def _offered(svc: Services, update: Update, press: LanguagePress) -> str | None:
    """Only a language the questionnaire offers can be chosen."""
    if press.code in svc.catalog.languages:
        return None
    return svc.catalog.render("language_invalid", fallback_language(svc, update))


def _language_invalid(svc: Services, lang: str) -> str:
    return svc.catalog.render("language_invalid", lang)


@handler(LANGUAGE, guard=_offered, invalid=_language_invalid, chat_scoped=True)
async def on_language_press(turn: Turn[LanguagePress]) -> str:
    """A press on the /language keyboard: store the choice and confirm in that language."""
    customer, chosen = turn.customer, turn.press.code
    if customer is None:
        return turn.text("press_invalid")
    await customers.set_language(turn.tx, customer.id, chosen, turn.now)
    log.info("chat %s (customer #%s) chose language %r", turn.chat_id, customer.id, chosen)
    confirmation = turn.svc.catalog.render("language_set", chosen)
    turn.replies.edit(turn.message_id, confirmation)
    return confirmation
