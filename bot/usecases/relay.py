"""The customer's half of the reply relay.

When a customer's message counts as an answer to an admin's reply (and not as a survey
answer), precisely:

1. A survey waiting for this customer's score or reason always takes precedence: the
   message is a survey answer (the conversation handler decides that before asking here).
2. Otherwise, if an admin's reply reached the customer within ``NPSBOT_RELAY_HOURS`` and
   the customer has not answered it yet, this new message (text, or any media, which is
   reported but not forwarded) is the answer: it goes to the admin chat the reply came
   from, as a reply to the alert, and the relay closes. One message answers one reply.
3. Commands (/start, /stop, /help) and edits are never relayed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.reports.telegram_text import esc
from bot.usecases.services import Services
from bot.usecases.unit_of_work import Replies
from storage import Tx, alerts, customers, outbox

log = logging.getLogger(__name__)


RELAYED_TEXT_MAX_CHARS = 3000


async def relay_customer_message(
    svc: Services,
    tx: Tx,
    replies: Replies,
    chat_id: int,
    text: str | None,
    media_kind: str | None,
    now: datetime,
    lang: str,
) -> bool:
    """Inside the customer's update transaction: relay the message if the customer owes an
    answer to an admin's reply; False (nothing changed) otherwise."""
    customer = await customers.get_by_chat(tx, chat_id)
    if customer is None:
        return False
    relay = await alerts.take_relay(tx, customer.id, now)
    if relay is None:
        return False
    if text is not None:
        body = svc.admin_texts.render(
            "customer_replied",
            customer=esc(customer.external_id, 64),
            alert_id=relay.alert_id,
            text=_escape_block(text),
        )
    else:
        body = svc.admin_texts.render(
            "customer_sent_media",
            customer=esc(customer.external_id, 64),
            alert_id=relay.alert_id,
            kind=esc(svc.admin_texts.media(media_kind or "message"), 20),
        )
    alert = await alerts.get(tx, relay.alert_id)
    await outbox.enqueue(
        tx,
        relay.admin_chat_id,
        "sendMessage",
        {
            "chat_id": relay.admin_chat_id,
            "text": body,
            "parse_mode": "HTML",
            "reply_parameters": {
                "message_id": relay.alert_message_id,
                "allow_sending_without_reply": True,
            },
        },
        now,
        about=[alert.survey_id] if alert is not None else (),
    )
    replies.send(svc.catalog.render("relay_received", lang))
    log.info(
        "chat %s (customer #%s) answered alert %s: relayed to admin chat %s",
        chat_id,
        customer.id,
        relay.alert_id,
        relay.admin_chat_id,
    )
    return True


def _escape_block(text: str) -> str:
    """Escape a multi-line message for HTML, keeping its line breaks, capped in length."""
    import html

    if len(text) > RELAYED_TEXT_MAX_CHARS:
        text = text[: RELAYED_TEXT_MAX_CHARS - 1].rstrip() + "…"
    return html.escape(text, quote=False)
