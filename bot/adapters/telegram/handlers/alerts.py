"""The admins' side of a detractor alert: the Reply and Mark resolved buttons (callback data
:data:`bot.core.callback_data.ALERT`, honoured only from admins) and the reply an admin writes
after pressing Reply, relayed to the customer."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update

from bot.adapters.telegram.admin_filter import admin_name, update_is_admin
from bot.adapters.telegram.handler import SKIP, Skip, Turn, handler
from bot.core.callback_data import ALERT, ALERT_REPLY, AlertPress
from bot.core.questionnaire.catalog import customer_language
from bot.reports.alert_text import unreachable_reason
from bot.reports.telegram_text import esc
from bot.usecases.alerts import MAX_REPLY_CHARS, REPLY_DRAFT_TTL
from bot.usecases.services import Services
from bot.usecases.webhook_events import notify
from storage import alerts, customers, outbox

log = logging.getLogger(__name__)


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
    return svc.admin_texts.render("not_admin_button")


def _button_invalid(svc: Services, _lang: str) -> str:
    return svc.admin_texts.render("button_invalid")


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
        return svc.admin_texts.render("alert_unknown", alert_id=alert_id)
    if action == ALERT_REPLY:
        why = unreachable_reason(view, svc.admin_texts)
        if why is not None:
            return svc.admin_texts.render(
                "customer_unreachable", customer=view.customer_ref, why=why
            )
        await alerts.set_draft(tx, chat_id, user.id, alert_id, message_id, now)
        turn.replies.send(
            svc.admin_texts.render(
                "reply_prompt",
                admin=esc(user.full_name or "admin", 64),
                customer=esc(view.customer_ref, 64),
                alert_id=alert_id,
            ),
            parse_mode="HTML",
            reply_to=message_id,
            reply_markup={"force_reply": True, "selective": True},
            about=view.survey_id,
        )
        log.info("admin %s in chat %s is replying to alert %s", user.id, chat_id, alert_id)
        return svc.admin_texts.render("reply_prompt_answer")
    if view.resolved_at is not None:
        when = view.resolved_at.astimezone(svc.settings.timezone).strftime("%Y-%m-%d %H:%M")
        return svc.admin_texts.render("already_resolved", who=view.resolved_by or "?", when=when)
    await alerts.resolve(tx, alert_id, admin_name(user), None, now)
    resolution = {"resolution": {"alert_id": alert_id, "by": admin_name(user)}}
    await notify(tx, svc.settings.webhooks, "detractor.resolved", view.survey_id, now, resolution)
    turn.replies.send(
        svc.admin_texts.render(
            "resolved",
            alert_id=alert_id,
            customer=esc(view.customer_ref, 64),
            admin=esc(user.full_name or "admin", 64),
        ),
        parse_mode="HTML",
        reply_to=message_id,
        about=view.survey_id,
    )
    log.info("alert %s resolved by %s in chat %s", alert_id, user.id, chat_id)
    return svc.admin_texts.render("resolved_answer")


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
        replies.send(svc.admin_texts.render("reply_not_text"), reply_to=message.message_id)
        return
    if len(text) > MAX_REPLY_CHARS:
        replies.send(
            svc.admin_texts.render("reply_too_long", length=len(text), limit=MAX_REPLY_CHARS),
            reply_to=message.message_id,
        )
        return
    await alerts.delete_draft(tx, chat_id, user_id)
    view = await alerts.get(tx, current.alert_id)
    why = None if view is None else unreachable_reason(view, svc.admin_texts)
    if view is None or view.customer_chat_id is None or why is not None:
        replies.send(
            svc.admin_texts.render(
                "customer_unreachable",
                customer=view.customer_ref if view else "?",
                why=why or svc.admin_texts.render("unreachable_unknown_alert"),
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
        svc.admin_texts.render("reply_sent", customer=esc(view.customer_ref, 64), alert_id=view.id),
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
