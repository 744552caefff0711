"""Detractor alerts: recording them with the answer, posting them (batched) to the admin
chats, and the Reply / Mark resolved buttons.

Recording: :func:`record_detractor_event` runs inside the answer's transaction, so an
alert exists exactly when the answer does.

Posting: :func:`flush_alerts` runs every couple of seconds. It posts to each admin chat
only while that chat's outbox is empty, so while a group is being paced (Telegram allows
20 messages a minute in a group; the sender keeps to 19) new alerts wait in the database
and the next message carries all of them: a burst is batched, never dropped.

Buttons: callback data ``al:r:<alert id>`` (Reply) and ``al:x:<alert id>`` (Mark resolved),
at most 21 bytes, parsed strictly and honoured only from admins.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.admin.common import admin_name, admin_unit, esc, spawn, update_is_admin
from bot.reports.alert_text import compose_alert_messages, unreachable_reason
from bot.telegram.callbacks import answer_query
from bot.telegram.handlers.language import customer_language
from bot.telegram.services import Services, services
from bot.telegram.unit_of_work import Replies
from bot.texts import AdminTexts, admin_texts
from bot.webhooks.events import notify
from storage import Tx, alerts, customers, outbox

log = logging.getLogger(__name__)


def _t(svc: Services) -> AdminTexts:
    """The admin texts in NPSBOT_ADMIN_LANGUAGE."""
    return admin_texts(svc.settings.admin_language)


CALLBACK_RE = re.compile(r"al:([rx]):([1-9][0-9]{0,15})", re.ASCII)
MAX_EVENTS_PER_FLUSH = 400
#: An admin's Reply lapses if they do not write within this time.
REPLY_DRAFT_TTL = timedelta(minutes=30)
#: Longest admin reply relayed to a customer (the customer text adds a short preamble).
MAX_REPLY_CHARS = 3500


def alert_callback(action: str, alert_id: int) -> str:
    """Callback data of an alert button: ``al:r:<id>`` or ``al:x:<id>``."""
    if action not in ("r", "x") or alert_id < 1:
        raise ValueError(f"invalid alert button {action!r} {alert_id!r}")
    data = f"al:{action}:{alert_id}"
    assert len(data.encode()) <= 64
    return data


def parse_alert_callback(data: str | None) -> tuple[str, int] | None:
    """``(action, alert id)`` from callback data, or None for anything not exactly ours."""
    if data is None or len(data) > 64:
        return None
    match = CALLBACK_RE.fullmatch(data)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


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
                await outbox.enqueue(tx, chat_id, "sendMessage", params, now)
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


async def on_alert_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply / Mark resolved on an alert, honoured only from admins."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    parsed = parse_alert_callback(query.data)
    message = query.message
    if parsed is None or message is None:
        await answer_query(query, _t(svc).render("button_invalid"))
        raise ApplicationHandlerStop
    if not update_is_admin(svc.settings, update):
        log.warning(
            "user %s pressed an alert button in non-admin chat %s",
            query.from_user.id,
            message.chat.id,
        )
        await answer_query(query, _t(svc).render("not_admin_button"))
        raise ApplicationHandlerStop
    action, alert_id = parsed
    chat_id = message.chat.id
    user = query.from_user

    async def work(tx: Tx, replies: Replies, now: datetime) -> str:
        view = await alerts.get(tx, alert_id)
        if view is None:
            return _t(svc).render("alert_unknown", alert_id=alert_id)
        if action == "r":
            why = unreachable_reason(view, _t(svc))
            if why is not None:
                return _t(svc).render("customer_unreachable", customer=view.customer_ref, why=why)
            await alerts.set_draft(tx, chat_id, user.id, alert_id, message.message_id, now)
            replies.send(
                _t(svc).render(
                    "reply_prompt",
                    admin=esc(user.full_name or "admin", 64),
                    customer=esc(view.customer_ref, 64),
                    alert_id=alert_id,
                ),
                parse_mode="HTML",
                reply_to=message.message_id,
                reply_markup={"force_reply": True, "selective": True},
            )
            log.info("admin %s in chat %s is replying to alert %s", user.id, chat_id, alert_id)
            return _t(svc).render("reply_prompt_answer")
        if view.resolved_at is not None:
            when = view.resolved_at.astimezone(svc.settings.timezone).strftime("%Y-%m-%d %H:%M")
            return _t(svc).render("already_resolved", who=view.resolved_by or "?", when=when)
        await alerts.resolve(tx, alert_id, admin_name(user), None, now)
        resolution = {"resolution": {"alert_id": alert_id, "by": admin_name(user)}}
        await notify(
            tx, svc.settings.webhooks, "detractor.resolved", view.survey_id, now, resolution
        )
        replies.send(
            _t(svc).render(
                "resolved",
                alert_id=alert_id,
                customer=esc(view.customer_ref, 64),
                admin=esc(user.full_name or "admin", 64),
            ),
            parse_mode="HTML",
            reply_to=message.message_id,
        )
        log.info("alert %s resolved by %s in chat %s", alert_id, user.id, chat_id)
        return _t(svc).render("resolved_answer")

    fresh, answer = await admin_unit(svc, update, chat_id, work)
    if fresh and answer:
        await answer_query(query, answer[:200])
    raise ApplicationHandlerStop


async def on_admin_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's message after pressing Reply: relay it to the customer.

    Messages of admins without a live draft are left alone (not claimed), so that in an
    admin's private chat the customer handlers still see them.
    """
    message = update.message
    if message is None or message.from_user is None:
        return
    svc = services(context)
    if not update_is_admin(svc.settings, update):
        return
    chat_id = message.chat.id
    user_id = message.from_user.id
    async with svc.db.read() as tx:
        draft = await alerts.get_draft(tx, chat_id, user_id, svc.clock() - REPLY_DRAFT_TTL)
    if draft is None:
        return

    async def work(tx: Tx, replies: Replies, now: datetime) -> int | None:
        current = await alerts.get_draft(tx, chat_id, user_id, now - REPLY_DRAFT_TTL)
        if current is None:
            return None
        text = message.text
        if text is None:
            replies.send(_t(svc).render("reply_not_text"), reply_to=message.message_id)
            return None
        if len(text) > MAX_REPLY_CHARS:
            replies.send(
                _t(svc).render("reply_too_long", length=len(text), limit=MAX_REPLY_CHARS),
                reply_to=message.message_id,
            )
            return None
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
            )
            return None
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
            _t(svc).render("reply_sent", customer=esc(view.customer_ref, 64), alert_id=view.id),
            parse_mode="HTML",
            reply_to=message.message_id,
        )
        log.info(
            "admin %s in chat %s replied to alert %s (survey %s)",
            user_id,
            chat_id,
            view.id,
            view.survey_id,
        )
        return customer_chat

    _, customer_chat = await admin_unit(svc, update, chat_id, work)
    if customer_chat is not None:
        spawn(svc.sender.flush_chat(customer_chat), f"flush-{customer_chat}")
    raise ApplicationHandlerStop
