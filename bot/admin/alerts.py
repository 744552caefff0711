"""Detractor alerts: recording them with the answer, posting them (batched) to the admin
chats, and the Reply / Mark resolved buttons.

Recording: :func:`record_detractor_event` runs inside the answer's transaction, so an
alert exists exactly when the answer does.

Posting: :func:`flush_alerts` runs every couple of seconds. It posts to each admin chat
only while that chat's outbox is empty, so while a group is being paced (Telegram allows
20 messages a minute in a group; the sender keeps to 19) new alerts wait in the database
and the next message carries all of them: a burst is batched, never dropped.

Buttons: Reply and Mark resolved, whose callback data is
:data:`bot.telegram.callback_data.ALERT`, honoured only from admins.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.admin.common import admin_name, esc, update_is_admin
from bot.reports.alert_text import compose_alert_messages, unreachable_reason
from bot.reports.telegram_text import MESSAGE_LIMIT
from bot.telegram.callback_data import ALERT, ALERT_REPLY, AlertPress
from bot.telegram.handler import SKIP, Skip, Turn, handler
from bot.telegram.handlers.language import customer_language
from bot.telegram.services import Services
from bot.texts import AdminTexts, admin_texts
from bot.webhooks.events import notify
from storage import Tx, alerts, customers, outbox

log = logging.getLogger(__name__)


def _t(svc: Services) -> AdminTexts:
    """The admin texts in NPSBOT_ADMIN_LANGUAGE."""
    return admin_texts(svc.settings.admin_language)


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
    """Callback data of an alert button (:data:`bot.telegram.callback_data.ALERT`)."""
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
            messages = compose_alert_messages(items, tz, _t(svc), alert_callback)
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
    await asyncio.gather(*(svc.sender.flush_chat(chat_id) for chat_id in chats))
    return queued


async def _from_an_admin(svc: Services, update: Update, press: AlertPress) -> str | None:
    """Alert buttons are honoured only from admins (a group's non-admin members see them)."""
    if update_is_admin(svc.settings, update):
        return None
    query = update.callback_query
    assert query is not None and query.message is not None
    log.warning(
        "user %s pressed an alert button in non-admin chat %s",
        query.from_user.id,
        query.message.chat.id,
    )
    return _t(svc).render("not_admin_button")


def _button_invalid(svc: Services, _lang: str) -> str:
    return _t(svc).render("button_invalid")


@handler(ALERT, admin=True, guard=_from_an_admin, invalid=_button_invalid)
async def on_alert_press(turn: Turn[AlertPress]) -> str:
    """Reply / Mark resolved on an alert, honoured only from admins."""
    svc, tx, now, chat_id = turn.svc, turn.tx, turn.now, turn.chat_id
    action, alert_id = turn.press.action, turn.press.alert_id
    user = turn.user
    assert user is not None  # a press always has its presser
    message_id = turn.message_id
    view = await alerts.get(tx, alert_id)
    if view is None:
        return _t(svc).render(
"alert_unknown", alert_id=alert_id)
    if action == ALERT_REPLY:
        why = unreachable_reason(view, _t(svc))
        if why is not None:
            return _t(svc).render(
"customer_unreachable", customer=view.customer_ref, why=why)
        await alerts.set_draft(tx, chat_id, user.id, alert_id, message_id, now)
        turn.replies.send(
            _t(svc).render(
"reply_prompt", admin=esc(user.full_name or "admin", 64),
                customer=esc(view.customer_ref, 64),
                alert_id=alert_id,
            ),
            parse_mode="HTML",
            reply_to=message_id,
            reply_markup={"force_reply": True, "selective": True},
            about=view.survey_id,
        )
        log.info("admin %s in chat %s is replying to alert %s", user.id, chat_id, alert_id)
        return _t(svc).render("reply_prompt_answer")
    if view.resolved_at is not None:
        when = view.resolved_at.astimezone(svc.settings.timezone).strftime("%Y-%m-%d %H:%M")
        return _t(svc).render(
"already_resolved", who=view.resolved_by or "?", when=when)
    await alerts.resolve(tx, alert_id, admin_name(user), None, now)
    resolution = {"resolution": {"alert_id": alert_id, "by": admin_name(user)}}
    await notify(tx, svc.settings.webhooks, "detractor.resolved", view.survey_id, now, resolution)
    turn.replies.send(
        _t(svc).render(
"resolved", alert_id=alert_id,
            customer=esc(view.customer_ref, 64),
            admin=esc(user.full_name or "admin", 64),
        ),
        parse_mode="HTML",
        reply_to=message_id,
        about=view.survey_id,
    )
    log.info("alert %s resolved by %s in chat %s", alert_id, user.id, chat_id)
    return _t(svc).render("resolved_answer")


async def _has_a_draft(svc: Services, update: Update, _press: None) -> Skip | None:
    """Messages of admins without a live draft are left alone (not claimed), so that in an
    admin's private chat the customer handlers still see them."""
    message = update.message
    if message is None or message.from_user is None:
        return SKIP
    async with svc.db.read() as tx:
        draft = await alerts.get_draft(
            tx, message.chat.id, message.from_user.id, svc.clock() - REPLY_DRAFT_TTL
        )
    return SKIP if draft is None else None


@handler(admin=True, guard=_has_a_draft)
async def on_admin_message(turn: Turn[None]) -> None:
    """An admin's message after pressing Reply: relay it to the customer."""
    svc, tx, now, chat_id, replies = turn.svc, turn.tx, turn.now, turn.chat_id, turn.replies
    message, user = turn.message, turn.user
    assert message is not None and user is not None  # checked by the guard
    user_id = user.id
    current = await alerts.get_draft(tx, chat_id, user_id, now - REPLY_DRAFT_TTL)
    if current is None:
        return
    text = message.text
    if text is None:
        replies.send(_t(svc).render("reply_not_text"), reply_to=message.message_id)
        return
    if len(text) > MAX_REPLY_CHARS:
        replies.send(
            _t(svc).render(
"reply_too_long", length=len(text), limit=MAX_REPLY_CHARS),
            reply_to=message.message_id,
        )
        return
    await alerts.delete_draft(tx, chat_id, user_id)
    view = await alerts.get(tx, current.alert_id)
    why = None if view is None else unreachable_reason(view, _t(svc))
    if view is None or view.customer_chat_id is None or why is not None:
        replies.send(
            _t(svc).render(
                "customer_unreachable",
                customer=view.customer_ref if view else "?",
                why=why or _t(svc).render("unreachable_unknown_alert"),
            ),
            reply_to=message.message_id,
            about=view.survey_id if view else None,
        )
        return
    customer_chat = view.customer_chat_id
    customer = await customers.get(tx, view.customer_id)
    lang = customer_language(svc.catalog, customer)
    await outbox.enqueue(
        tx,
        customer_chat,
        "sendMessage",
        {
            "chat_id": customer_chat,
            "text": svc.catalog.render("relay_from_team", lang, text=text),
        },
        now,
    )
    expires = now + timedelta(hours=svc.settings.admin.relay_hours)
    await alerts.open_relay(
        tx, view.customer_id, view.id, chat_id, current.alert_message_id, now, expires
    )
    await alerts.mark_followed_up(tx, view.id, now)
    replies.send(
        _t(svc).render(
"reply_sent", customer=esc(view.customer_ref, 64), alert_id=view.id),
        parse_mode="HTML",
        reply_to=message.message_id,
        about=view.survey_id,
    )
    log.info(
        "admin %s in chat %s replied to alert %s (survey %s)",
        user_id,
        chat_id,
        view.id,
        view.survey_id,
    )
    # The customer's chat is another chat than this update's: flush it once committed.
    turn.background(f"flush-{customer_chat}", lambda: svc.sender.flush_chat(customer_chat))
