"""/start (with or without a signed payload), /stop and /help in private chats."""

from __future__ import annotations

import logging

from bot.adapters.telegram.handler import Turn, handler
from bot.core.linking import LinkError, read_payload
from bot.core.records import Customer
from bot.usecases.webhook_events import notify_customer
from storage import Tx, customers, outbox

log = logging.getLogger(__name__)


@handler()
async def on_start(turn: Turn[None]) -> None:
    """Link the chat to a customer (signed payload), opt back in, or greet."""
    payload = turn.args[0] if turn.args else None
    if payload is not None:
        await _open_link(turn, payload)
        return
    customer = turn.customer
    if customer is None:
        turn.say("greeting")
        return
    if customer.blocked:  # writing to us again means they unblocked the bot
        await customers.set_blocked(turn.tx, customer.id, False, turn.now)
    if customer.opted_out:
        await customers.set_opted_out(turn.tx, customer.id, False, turn.now)
        log.info("chat %s opted back in", turn.chat_id)
        turn.say("opted_back_in")
        return
    turn.say("linked")


async def _open_link(turn: Turn[None], payload: str) -> None:
    """A deep link was opened: link the chat if the link allows it, else say why not.

    A link is a bearer credential, so it is honoured only when it is genuine, not expired,
    not used before (by another chat), and the customer is not linked to another chat, or
    an ops relink minted this very link to move them. A refusal changes nothing but a
    record of the attempt for ops.
    """
    svc, tx, now, chat_id = turn.svc, turn.tx, turn.now, turn.chat_id
    try:
        link = read_payload(svc.settings.link_secret.get_secret_value(), payload)
    except LinkError as exc:
        # Not the payload: a genuine one that fails (an old secret) holds a customer id.
        log.warning("chat %s sent an invalid link payload (%s)", chat_id, exc)
        turn.say("link_invalid")
        return
    if link.expired(now, svc.settings.link_ttl_days):
        log.warning("chat %s opened an expired link (issued %s)", chat_id, link.issued_at)
        turn.say("link_expired")
        return
    existing = await customers.get_by_external_id(tx, link.customer_id)
    # The chat that holds the customer may open their links again (a second tap): that
    # re-links it, which is also how a customer who sent /stop opts back in.
    if existing is not None and existing.chat_id != chat_id:
        refusal = await _refusal(tx, existing, link.key)
        if refusal is not None:
            await customers.record_link_refusal(tx, existing.id, refusal, now)
            log.warning(
                "chat %s was refused customer #%s's link (%s)", chat_id, existing.id, refusal
            )
            turn.say("link_used" if refusal == "used" else "link_taken")
            return
    code = turn.user.language_code if turn.user is not None else None
    linked, previous = await customers.link_chat(tx, link.customer_id, chat_id, code, now)
    await customers.record_link_use(tx, linked.id, link.key, now)
    await customers.set_relink_key(tx, linked.id, None, now)
    if previous is not None:
        log.info("chat %s moved from another customer to customer #%s", chat_id, linked.id)
    lang = svc.catalog.language_for(linked.language, linked.telegram_language)
    old_chat = existing.chat_id if existing is not None else None
    if old_chat is not None and old_chat != chat_id:
        # An ops relink: the old chat learns that surveys go elsewhere now (if it was not
        # the owner's wish, they know whom to ask).
        text = svc.catalog.render("moved_away", lang)
        await outbox.enqueue(tx, old_chat, "sendMessage", {"chat_id": old_chat, "text": text}, now)

        async def flush_old_chat() -> None:
            svc.sender.schedule_flush(old_chat)

        turn.then(flush_old_chat)
        log.info("customer #%s moved from chat %s to chat %s", linked.id, old_chat, chat_id)
    log.info("chat %s linked to customer #%s", chat_id, linked.id)
    turn.replies.send(svc.catalog.render("linked", lang))


async def _refusal(tx: Tx, customer: Customer, link_key: str) -> str | None:
    """Why this link may not link a new chat to ``customer`` (None: it may)."""
    if await customers.link_used(tx, customer.id, link_key):
        return "used"
    if customer.chat_id is not None and await customers.relink_key(tx, customer.id) != link_key:
        return "linked_elsewhere"
    return None


@handler(chat_scoped=True)
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


@handler(chat_scoped=True)
async def on_help(cmd: Turn[None]) -> None:
    """/help and unknown commands: explain what the bot is for."""
    cmd.say("no_open_survey" if cmd.customer is not None else "greeting")
