"""/start (with or without a signed payload), /stop and /help in private chats."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.linking import LinkError, read_payload
from bot.telegram.handlers.language import speaker
from bot.telegram.services import services
from bot.telegram.unit_of_work import Replies, run_unit
from bot.webhooks.events import notify_customer
from storage import Tx, customers

log = logging.getLogger(__name__)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link the chat to a customer (signed payload), opt back in, or greet."""
    message = update.message
    assert message is not None and message.from_user is not None
    svc = services(context)
    chat_id = message.chat.id
    catalog = svc.catalog
    payload = context.args[0] if context.args else None
    user = message.from_user

    async def work(tx: Tx, replies: Replies, now: datetime) -> None:
        if payload is not None:
            try:
                external_id = read_payload(svc.settings.link_secret, payload)
            except LinkError as exc:
                log.warning(
                    "chat %s sent an invalid link payload (%s): %.64r", chat_id, exc, payload
                )
                _, lang = await speaker(svc, tx, chat_id, user, now)
                replies.send(catalog.render("link_invalid", lang))
                return
            linked, previous = await customers.link_chat(
                tx, external_id, chat_id, user.language_code, now
            )
            if previous is not None:
                log.info("chat %s moved from customer %r to %r", chat_id, previous, external_id)
            log.info("chat %s linked to customer %r", chat_id, external_id)
            lang = catalog.language_for(linked.language, linked.telegram_language)
            replies.send(catalog.render("linked", lang))
            return
        customer, lang = await speaker(svc, tx, chat_id, user, now)
        if customer is None:
            replies.send(catalog.render("greeting", lang))
            return
        if customer.blocked:  # writing to us again means they unblocked the bot
            await customers.set_blocked(tx, customer.id, False, now)
        if customer.opted_out:
            await customers.set_opted_out(tx, customer.id, False, now)
            log.info("chat %s opted back in", chat_id)
            replies.send(catalog.render("opted_back_in", lang))
            return
        replies.send(catalog.render("linked", lang))

    await run_unit(svc, update, chat_id, work)


async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Opt out of all surveys, and confirm."""
    message = update.message
    assert message is not None
    svc = services(context)
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> None:
        customer, lang = await speaker(svc, tx, chat_id, message.from_user, now)
        if customer is None or customer.opted_out:
            replies.send(svc.catalog.render("already_stopped", lang))
            return
        await customers.set_opted_out(tx, customer.id, True, now)
        await notify_customer(tx, svc.settings.webhooks, "customer.opted_out", customer, now)
        log.info("chat %s (customer %r) opted out", chat_id, customer.external_id)
        replies.send(svc.catalog.render("stopped", lang))

    await run_unit(svc, update, chat_id, work)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help and unknown commands: explain what the bot is for."""
    message = update.message
    assert message is not None
    svc = services(context)
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> None:
        customer, lang = await speaker(svc, tx, chat_id, message.from_user, now)
        key = "no_open_survey" if customer is not None else "greeting"
        replies.send(svc.catalog.render(key, lang))

    await run_unit(svc, update, chat_id, work)
