"""Detractor alerts: recording them with the answer, posting them (batched) to the admin
chats, and the Reply / Mark resolved buttons.

Recording: :func:`record_detractor_event` runs inside the answer's transaction, so an
alert exists exactly when the answer does.

Posting: :func:`flush_alerts` runs every couple of seconds. It posts to each admin chat
only while that chat's outbox is empty, so while a group is being paced (Telegram allows
20 messages a minute in a group; the sender keeps to 19) new alerts wait in the database
and the next message carries all of them: a burst is batched, never dropped.

The Reply and Mark resolved buttons are handled in
:mod:`bot.adapters.telegram.handlers.alerts`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from bot.core.callback_data import ALERT, AlertPress
from bot.core.delivery import Urgency
from bot.reports.alert_text import compose_alert_messages
from bot.reports.telegram_text import MESSAGE_LIMIT
from bot.usecases.services import Services
from storage import Tx, alerts, outbox

log = logging.getLogger(__name__)


MAX_ALERTS_PER_MESSAGE = 8
MAX_EVENTS_PER_FLUSH = 400
REASON_MAX_CHARS = 300
MAX_ATTRIBUTES_SHOWN = 8
#: An admin's Reply lapses if they do not write within this time.
REPLY_DRAFT_TTL = timedelta(minutes=30)
#: Longest admin reply relayed to a customer (the customer text adds a short preamble).
MAX_REPLY_CHARS = 3500
#: Budget for one alert message, below Telegram's 4,096 (the measure is conservative).
_MESSAGE_BUDGET = MESSAGE_LIMIT - 200


def alert_callback(action: str, alert_id: int) -> str:
    """Callback data of an alert button (:data:`bot.core.callback_data.ALERT`)."""
    return ALERT.encode(AlertPress(action, alert_id))


def parse_alert_callback(data: str | None) -> tuple[str, int] | None:
    """``(action, alert id)`` from callback data, or None for anything not exactly ours."""
    press = ALERT.parse(data)
    return None if press is None else (press.action, press.alert_id)


def _alert_ids(keyboard: dict[str, Any]) -> list[int]:
    """The alerts an alert message's keyboard acts on (one row of buttons per alert)."""
    ids: dict[int, None] = {}
    for row in keyboard.get("inline_keyboard", []):
        for button in row:
            parsed = parse_alert_callback(button.get("callback_data"))
            if parsed is not None:
                ids[parsed[1]] = None
    return list(ids)


async def record_detractor_event(tx: Tx, survey_id: int, kind: str, now: datetime) -> int:
    """Inside the answer's transaction: the alert for this survey (created on the score)
    and an event telling the admin chats about ``kind`` ("score" or "reason")."""
    alert_id = await alerts.create(tx, survey_id, now)
    await alerts.add_event(tx, alert_id, kind, now)
    return alert_id


async def flush_alerts(svc: Services, now: datetime) -> int:
    """Post pending alert events to each admin chat whose outbox is empty (chats are paced
    independently: a busy group does not hold back an admin's private chat), then flush
    the admin chats. Returns how many messages were queued in all."""
    chats = svc.settings.admin_chat_ids
    if not chats:
        return 0
    queued = 0
    tz = svc.settings.timezone
    async with svc.db.transaction() as tx:
        for chat_id in chats:
            if await outbox.pending_for_chat(tx, chat_id):
                continue  # still sending: new alerts wait and go out together
            events = await alerts.pending_events(tx, chat_id, MAX_EVENTS_PER_FLUSH)
            if not events:
                continue
            kinds: dict[int, set[str]] = {}
            for event in events:
                kinds.setdefault(event.alert_id, set()).add(event.kind)
            views = await alerts.get_many(tx, list(kinds))
            items = [(view, kinds[view.id]) for view in views]
            messages = compose_alert_messages(items, tz, svc.admin_texts, alert_callback)
            for text, keyboard in messages:
                params = {
                    "chat_id": chat_id,
                    "text": text,
                    "parse_mode": "HTML",
                    "reply_markup": keyboard,
                }
                survey_of = {view.id: view.survey_id for view in views}
                about = [survey_of[a] for a in _alert_ids(keyboard) if a in survey_of]
                await outbox.enqueue(tx, chat_id, "sendMessage", params, now, about=about)
            await alerts.mark_delivered(tx, [event.id for event in events], chat_id, chats, now)
            queued += len(messages)
            log.info(
                "queued %d alert message(s) for %d alert(s) to admin chat %s",
                len(messages),
                len(views),
                chat_id,
            )
    await asyncio.gather(*(svc.sender.flush_chat(chat_id, Urgency.BULK) for chat_id in chats))
    return queued
