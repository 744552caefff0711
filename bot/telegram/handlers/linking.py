"""/start (with or without a signed payload), /stop and /help in private chats."""

from __future__ import annotations

import logging

from bot.linking import LinkError, read_payload
from bot.telegram.handler import Turn, handler
from bot.webhooks.events import notify_customer
from storage import customers

log = logging.getLogger(__name__)


@handler()
async def on_start(turn: Turn[None]) -> None:
    """Link the chat to a customer (signed payload), opt back in, or greet."""
    svc, tx, now, chat_id = turn.svc, turn.tx, turn.now, turn.chat_id
    payload = turn.args[0] if turn.args else None
    if payload is not None:
        try:
            external_id = read_payload(svc.settings.link_secret.get_secret_value(), payload)
        except LinkError as exc:
            # Not the payload: a genuine one that fails (an old secret) holds a customer id.
            log.warning("chat %s sent an invalid link payload (%s)", chat_id, exc)
            turn.say("link_invalid")
            return
        code = turn.user.language_code if turn.user is not None else None
        linked, previous = await customers.link_chat(tx, external_id, chat_id, code, now)
        if previous is not None:
            log.info("chat %s moved from another customer to customer #%s", chat_id, linked.id)
        log.info("chat %s linked to customer #%s", chat_id, linked.id)
        lang = svc.catalog.language_for(linked.language, linked.telegram_language)
        turn.replies.send(svc.catalog.render("linked", lang))
        return
    customer = turn.customer
    if customer is None:
        turn.say("greeting")
        return
    if customer.blocked:  # writing to us again means they unblocked the bot
        await customers.set_blocked(tx, customer.id, False, now)
    if customer.opted_out:
        await customers.set_opted_out(tx, customer.id, False, now)
        log.info("chat %s opted back in", chat_id)
        turn.say("opted_back_in")
        return
    turn.say("linked")


@handler()
async def on_stop(cmd: Turn[None]) -> None:
    """Opt out of all surveys, and confirm."""
    customer = cmd.customer
    if customer is None or customer.opted_out:
        cmd.say("already_stopped")
        return
    await customers.set_opted_out(cmd.tx, customer.id, True, cmd.now)
    await notify_customer(
        cmd.tx, cmd.svc.settings.webhooks, "customer.opted_out", customer, cmd.now
    )
    log.info("chat %s (customer #%s) opted out", cmd.chat_id, customer.id)
    cmd.say("stopped")


@handler()
async def on_help(cmd: Turn[None]) -> None:
    """/help and unknown commands: explain what the bot is for."""
    cmd.say("no_open_survey" if cmd.customer is not None else "greeting")
