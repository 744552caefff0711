"""/start (with or without a signed payload), /stop and /help in private chats."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.linking import LinkError, read_payload
from bot.telegram.commands import Command, customer_command, speaker
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
                external_id = read_payload(svc.settings.link_secret.get_secret_value(), payload)
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


@customer_command
async def on_stop(cmd: Command) -> None:
    """Opt out of all surveys, and confirm."""
    customer = cmd.customer
    if customer is None or customer.opted_out:
        cmd.say("already_stopped")
        return
    await customers.set_opted_out(cmd.tx, customer.id, True, cmd.now)
    await notify_customer(
        cmd.tx, cmd.svc.settings.webhooks, "customer.opted_out", customer, cmd.now
    )
    log.info("chat %s (customer %r) opted out", cmd.chat_id, customer.external_id)
    cmd.say("stopped")


@customer_command
async def on_help(cmd: Command) -> None:
    """/help and unknown commands: explain what the bot is for."""
    cmd.say("no_open_survey" if cmd.customer is not None else "greeting")
