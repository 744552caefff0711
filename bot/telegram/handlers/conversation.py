"""The customer's side of a survey: button presses, typed scores, reasons, everything else."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.admin.relay import relay_customer_message
from bot.survey.flow import (
    EditIn,
    Incoming,
    MediaIn,
    RecordReason,
    RecordScore,
    Reply,
    Step,
    TextIn,
    UpdateReason,
    decide,
)
from bot.survey.keyboards import parse_score_callback
from bot.survey.texts import render
from bot.telegram.handlers.answering import record_reason, record_score
from bot.telegram.services import services
from bot.telegram.unit_of_work import Replies, run_unit
from storage import Tx, answers, customers, surveys
from storage.records import SurveyStatus

log = logging.getLogger(__name__)


async def on_score_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on a 0–10 button. The survey named in the data must belong to this chat."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    press = parse_score_callback(query.data)
    message = query.message
    if press is None or message is None:
        await query.answer(render("press_invalid"))
        return
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> str:
        found = await surveys.get_with_customer(tx, press.survey_id)
        if found is None:
            log.warning("chat %s pressed a button for unknown survey %s", chat_id, press.survey_id)
            return "press_invalid"
        survey, customer = found
        if survey.chat_id != chat_id or customer.chat_id != chat_id:
            log.warning(
                "chat %s pressed a button for survey %s of another chat", chat_id, survey.id
            )
            return "press_invalid"
        if survey.status is SurveyStatus.ANSWERED:
            return "press_already_answered"
        if survey.status is not SurveyStatus.SENT:
            return "press_closed"
        await record_score(
            svc, tx, replies, survey, press.score, now, pressed_message_id=message.message_id
        )
        return "press_recorded"

    fresh, key = await run_unit(svc, update, chat_id, work)
    if fresh and key is not None:
        await query.answer(render(key, score=press.score))


async def on_unknown_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Callback data that is not ours (old versions, forgeries): say so, change nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer(render("press_invalid"))


def _incoming(message: Message, edited: bool) -> Incoming:
    if edited:
        return EditIn(text=message.text, message_id=message.message_id)
    if message.text is not None:
        return TextIn(text=message.text, message_id=message.message_id)
    kind = next(
        (
            k
            for k in (
                "sticker",
                "photo",
                "voice",
                "video",
                "video_note",
                "document",
                "audio",
                "animation",
                "location",
                "contact",
                "poll",
            )
            if getattr(message, k)
        ),
        "other",
    )
    return MediaIn(kind=kind)


async def _handle(update: Update, context: ContextTypes.DEFAULT_TYPE, edited: bool) -> None:
    message = update.edited_message if edited else update.message
    if message is None:
        return
    svc = services(context)
    chat_id = message.chat.id
    incoming = _incoming(message, edited)

    async def work(tx: Tx, replies: Replies, now: datetime) -> None:
        conversation = await surveys.open_conversation(tx, chat_id)
        if conversation is None:
            step = Step.NO_SURVEY
        elif conversation.awaiting_score:
            step = Step.AWAITING_SCORE
        else:
            step = Step.AWAITING_REASON
        if step is Step.NO_SURVEY and not isinstance(incoming, EditIn):
            # No survey is waiting for an answer, so the message may answer an admin's
            # reply (see bot.admin.relay for the precise rule).
            media = incoming.kind if isinstance(incoming, MediaIn) else None
            text = incoming.text if isinstance(incoming, TextIn) else None
            if await relay_customer_message(svc, tx, replies, chat_id, text, media, now):
                return
        decision = decide(step, incoming)
        if isinstance(decision, UpdateReason):
            updated = await answers.update_reason_from_edit(
                tx, chat_id, decision.message_id, decision.text, now
            )
            replies.send(render("reason_updated" if updated else "edit_ignored"))
            return
        if isinstance(decision, Reply):
            key = decision.key
            if step is Step.NO_SURVEY and await customers.get_by_chat(tx, chat_id) is None:
                key = "not_linked"
            replies.send(render(key, company=svc.settings.company_name))
            return
        assert conversation is not None
        if isinstance(decision, RecordScore):
            await record_score(svc, tx, replies, conversation.survey, decision.score, now)
        elif isinstance(decision, RecordReason):
            assert conversation.answer is not None
            await record_reason(
                svc,
                tx,
                replies,
                conversation.survey.id,
                conversation.answer.category,
                decision.text,
                message.message_id,
                decision.truncated,
                now,
            )

    await run_unit(svc, update, chat_id, work)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any new non-command message in a private chat."""
    await _handle(update, context, edited=False)


async def on_edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edit: updates the stored reason if that message was the reason."""
    await _handle(update, context, edited=True)
