"""``/mydata`` and ``/delete_me``: customers see and erase what is stored about them.

``/mydata`` answers with messages (split under Telegram's 4,096 characters at line breaks)
and a JSON document. Both are sent right after the update's claim commits, straight to
Telegram and not through the outbox, so the export is never copied into the database; a
crash in between loses that one answer (the customer asks again), never duplicates it.

``/delete_me`` asks for confirmation with Yes/No buttons (see :mod:`bot.core.erasure_confirmation`
for why a press cannot be forged, replayed into another chat or used after it expired).
Yes erases in the transaction that claims the update; the prompt is then edited, again
straight to Telegram, so that the erased customer's chat id is not written back into the
outbox by the very message that confirms its erasure.
"""

from __future__ import annotations

import logging

from telegram import InputFile, Update

from bot.adapters.telegram.handler import Turn, fallback_language, handler
from bot.core import erasure_confirmation as confirm
from bot.core.callback_data import ERASURE
from bot.core.privacy_export import build_document, compose_text, document_bytes, split_text
from bot.usecases.privacy import checkpoint, erase_in
from bot.usecases.services import Services
from storage import privacy

log = logging.getLogger(__name__)

EXPORT_FILE_NAME = "my-data.json"


@handler()
async def on_mydata(turn: Turn[None]) -> None:
    """Send the customer everything stored about them."""
    svc, chat_id = turn.svc, turn.chat_id
    if turn.customer is None:
        turn.say("mydata_not_linked")
        return
    data = await privacy.customer_data(turn.tx, turn.customer.id)
    assert data is not None  # the customer was read in this transaction
    document = build_document(
        data.customer, data.surveys, data.answers, svc.settings.company_name, turn.now
    )
    parts = split_text(compose_text(document, turn.text))
    log.info("chat %s asked for their data: %d surveys", chat_id, len(data.surveys))
    content, caption = document_bytes(document), turn.text("mydata_document_caption")
    turn.background(
        f"mydata-{chat_id}", lambda: _send_export(svc, chat_id, parts, content, caption)
    )


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


@handler()
async def on_delete_me(cmd: Turn[None]) -> None:
    """Ask the customer to confirm the erasure of their data."""
    if cmd.customer is None:
        cmd.say("mydata_not_linked")
        return
    svc = cmd.svc
    expires = confirm.expiry(cmd.now, svc.settings.privacy.confirm_minutes)
    markup = confirm.keyboard(
        confirm.confirmation_key(svc.settings.link_secret.get_secret_value()),
        cmd.chat_id,
        cmd.customer.id,
        expires,
        cmd.text("delete_yes_button"),
        cmd.text("delete_no_button"),
    )
    cmd.replies.send(cmd.text("delete_confirm"), reply_markup=markup)
    log.info("chat %s asked to erase their data: confirmation sent", cmd.chat_id)


async def _made_for_this_chat(
    svc: Services, update: Update, press: confirm.Confirmation
) -> str | None:
    """A private chat's id is its user's id: a press from anyone else, or with data made
    for another chat (copied, forged), is refused before anything is read."""
    query = update.callback_query
    assert query is not None and query.message is not None
    chat_id = query.message.chat.id
    user = update.effective_user
    key = confirm.confirmation_key(svc.settings.link_secret.get_secret_value())
    if user is not None and user.id == chat_id and confirm.verify(key, press, chat_id):
        return None
    log.warning("chat %s pressed an erasure button that was not made for it", chat_id)
    return svc.catalog.render("press_invalid", fallback_language(svc, update))


@handler(ERASURE, guard=_made_for_this_chat)
async def on_erase_press(turn: Turn[confirm.Confirmation]) -> str:
    """Yes or No on the confirmation: honoured only as described in the module doc."""
    svc, press, chat_id, message_id = turn.svc, turn.press, turn.chat_id, turn.message_id
    customer = turn.customer
    if press.expired(turn.now):
        outcome = "delete_expired"
    elif customer is None or customer.id != press.customer_id:
        outcome = "delete_nothing"  # already erased, or the chat was linked anew
    elif not press.erase:
        outcome = "delete_cancelled"
    else:
        erased = await erase_in(turn.tx, customer.id, turn.now, "customer")
        if not erased:
            return turn.text("delete_nothing")
        text = turn.text("delete_done")

        async def after_erasure() -> None:
            await checkpoint(svc.db)
            edit = {"chat_id": chat_id, "message_id": message_id, "text": text}
            svc.supervisor.spawn(
                svc.sender.call(chat_id, "editMessageText", edit), f"erased-{chat_id}"
            )

        turn.then(after_erasure)
        return text
    turn.replies.edit(message_id, turn.text(outcome))
    log.info("chat %s: erasure confirmation answered (%s)", chat_id, outcome)
    return turn.text(outcome)
