"""``/mydata`` and ``/delete_me``: customers see and erase what is stored about them.

``/mydata`` answers with messages (split under Telegram's 4,096 characters at line breaks)
and a JSON document. Both are sent right after the update's claim commits, straight to
Telegram and not through the outbox, so the export is never copied into the database; a
crash in between loses that one answer (the customer asks again), never duplicates it.

``/delete_me`` asks for confirmation with Yes/No buttons (see :mod:`bot.privacy.confirm`
for why a press cannot be forged, replayed into another chat or used after it expired).
Yes erases in the transaction that claims the update; the prompt is then edited, again
straight to Telegram, so that the erased customer's chat id is not written back into the
outbox by the very message that confirms its erasure.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.admin.common import spawn
from bot.privacy import confirm
from bot.privacy.export import build_document, compose_text, document_bytes, split_text
from bot.privacy.service import checkpoint, erase_in
from bot.telegram.callbacks import answer_query
from bot.telegram.commands import Command, customer_command, speaker
from bot.telegram.services import Services, services
from bot.telegram.unit_of_work import Replies, run_unit
from storage import Tx, privacy

log = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^pd:"
CALLBACK_TEXT_LIMIT = 200  # answerCallbackQuery's limit
EXPORT_FILE_NAME = "my-data.json"


async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the customer everything stored about them."""
    message = update.message
    assert message is not None
    svc = services(context)
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> tuple[list[str], bytes, str] | None:
        customer, lang = await speaker(svc, tx, chat_id, message.from_user, now)
        if customer is None:
            replies.send(svc.catalog.render("mydata_not_linked", lang))
            return None
        data = await privacy.customer_data(tx, customer.id)
        assert data is not None  # the customer was read in this transaction
        document = build_document(
            data.customer, data.surveys, data.answers, svc.settings.company_name, now
        )

        def render(key: str, **params: Any) -> str:
            return svc.catalog.render(key, lang, **params)

        parts = split_text(compose_text(document, render))
        log.info("chat %s asked for their data: %d surveys", chat_id, len(data.surveys))
        return parts, document_bytes(document), render("mydata_document_caption")

    fresh, result = await run_unit(svc, update, chat_id, work)
    if fresh and result is not None:
        parts, document, caption = result
        spawn(_send_export(svc, chat_id, parts, document, caption), f"mydata-{chat_id}")


async def _send_export(
    svc: Services, chat_id: int, parts: list[str], document: bytes, caption: str
) -> None:
    for part in parts:
        sent = await svc.sender.call(chat_id, "sendMessage", {"chat_id": chat_id, "text": part})
        if not sent.ok:
            log.warning("/mydata to chat %s stopped: %s", chat_id, sent.description)
            return
    sent = await svc.sender.call(
        chat_id,
        "sendDocument",
        {
            "chat_id": chat_id,
            "document": InputFile(document, filename=EXPORT_FILE_NAME),
            "caption": caption,
        },
    )
    if not sent.ok:
        log.warning("/mydata document to chat %s failed: %s", chat_id, sent.description)


@customer_command
async def on_delete_me(cmd: Command) -> None:
    """Ask the customer to confirm the erasure of their data."""
    if cmd.customer is None:
        cmd.say("mydata_not_linked")
        return
    svc, lang = cmd.svc, cmd.lang
    expires = confirm.expiry(cmd.now, svc.settings.privacy.confirm_minutes)
    markup = confirm.keyboard(
        confirm.confirmation_key(svc.settings.link_secret.get_secret_value()),
        cmd.chat_id,
        cmd.customer.id,
        expires,
        svc.catalog.render("delete_yes_button", lang),
        svc.catalog.render("delete_no_button", lang),
    )
    cmd.replies.send(svc.catalog.render("delete_confirm", lang), reply_markup=markup)
    log.info("chat %s asked to erase their data: confirmation sent", cmd.chat_id)


async def on_erase_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes or No on the confirmation: honoured only as described in the module doc."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    press = confirm.parse(query.data)
    message = query.message
    user = query.from_user
    fallback = svc.catalog.language_for(None, user.language_code if user else None)
    if press is None or message is None:
        await answer_query(query, svc.catalog.render("press_invalid", fallback))
        return
    chat_id = message.chat.id
    key = confirm.confirmation_key(svc.settings.link_secret.get_secret_value())
    # A private chat's id is its user's id: a press from anyone else, or with data made
    # for another chat (copied, forged), is refused before anything is read.
    if user is None or user.id != chat_id or not confirm.verify(key, press, chat_id):
        log.warning("chat %s pressed an erasure button that was not made for it", chat_id)
        await answer_query(query, svc.catalog.render("press_invalid", fallback))
        return
    message_id = message.message_id

    async def work(tx: Tx, replies: Replies, now: datetime) -> tuple[str, str]:
        customer, lang = await speaker(svc, tx, chat_id, user, now)
        if press.expired(now):
            outcome = "delete_expired"
        elif customer is None or customer.id != press.customer_id:
            outcome = "delete_nothing"  # already erased, or the chat was linked anew
        elif not press.erase:
            outcome = "delete_cancelled"
        else:
            erased = await erase_in(tx, customer.id, now, "customer")
            return ("delete_done" if erased else "delete_nothing"), lang
        replies.edit(message_id, svc.catalog.render(outcome, lang))
        log.info("chat %s: erasure confirmation answered (%s)", chat_id, outcome)
        return outcome, lang

    fresh, result = await run_unit(svc, update, chat_id, work)
    if not fresh or result is None:
        return  # a redelivered press: the first handling answered it
    outcome, lang = result
    text = svc.catalog.render(outcome, lang)
    await answer_query(query, text[:CALLBACK_TEXT_LIMIT])
    if outcome == "delete_done":
        await checkpoint(svc.db)
        edit = {"chat_id": chat_id, "message_id": message_id, "text": text}
        spawn(svc.sender.call(chat_id, "editMessageText", edit), f"erased-{chat_id}")
