"""The customer's side of a survey: button presses, typed scores, reasons, everything else."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.admin.relay import relay_customer_message
from bot.domain.nps import Category
from bot.survey.drivers import parse_driver_callback
from bot.survey.flow import (
    DriversState,
    EditIn,
    FinishDrivers,
    FinishDriversWithReason,
    Incoming,
    MediaIn,
    RecordReason,
    RecordScore,
    Reply,
    Step,
    TextIn,
    ToggleDrivers,
    UpdateReason,
    decide,
    decide_driver_press,
)
from bot.survey.keyboards import parse_score_callback
from bot.telegram.callbacks import answer_query
from bot.telegram.commands import speaker
from bot.telegram.handlers.answering import (
    drivers_markup,
    finish_drivers,
    record_reason,
    record_score,
    selected_indexes,
)
from bot.telegram.services import services
from bot.telegram.unit_of_work import Replies, run_unit
from storage import Tx, answers, surveys
from storage.records import OpenConversation, SurveyStatus

log = logging.getLogger(__name__)


async def on_score_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on a 0–10 button. The survey named in the data must belong to this chat."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    press = parse_score_callback(query.data)
    message = query.message
    if press is None or message is None:
        lang = svc.catalog.language_for(None, query.from_user.language_code)
        await answer_query(query, svc.catalog.render("press_invalid", lang))
        return
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> str:
        _, lang = await speaker(svc, tx, chat_id, query.from_user, now)

        def say(key: str) -> str:
            return svc.catalog.render(key, lang, score=press.score)

        found = await surveys.get_with_customer(tx, press.survey_id)
        if found is None:
            log.warning("chat %s pressed a button for unknown survey %s", chat_id, press.survey_id)
            return say("press_invalid")
        survey, customer = found
        if survey.chat_id != chat_id or customer.chat_id != chat_id:
            log.warning(
                "chat %s pressed a button for survey %s of another chat", chat_id, survey.id
            )
            return say("press_invalid")
        if survey.status is SurveyStatus.ANSWERED:
            return say("press_already_answered")
        if survey.status is not SurveyStatus.SENT:
            return say("press_closed")
        await record_score(
            svc, tx, replies, survey, press.score, now, lang, pressed_message_id=message.message_id
        )
        return say("press_recorded")

    fresh, answer = await run_unit(svc, update, chat_id, work)
    if fresh and answer is not None:
        await answer_query(query, answer[:200])


async def on_driver_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on the drivers keyboard: toggle a driver, or Done.

    The survey named in the data must belong to this chat and be at the drivers step;
    anything else gets a short answer and stores nothing. The selection lives in the
    database, so a restart between presses loses nothing.
    """
    query = update.callback_query
    assert query is not None
    svc = services(context)
    catalog = svc.catalog
    press = parse_driver_callback(query.data)
    message = query.message
    if press is None or message is None:
        lang = catalog.language_for(None, query.from_user.language_code)
        await answer_query(query, catalog.render("press_invalid", lang))
        return
    chat_id = message.chat.id

    async def work(tx: Tx, replies: Replies, now: datetime) -> str | None:
        _, lang = await speaker(svc, tx, chat_id, query.from_user, now)
        found = await surveys.get_with_customer(tx, press.survey_id)
        answer = await answers.get_for_survey(tx, press.survey_id) if found else None
        owned = (
            found is not None
            and found[0].chat_id == chat_id
            and found[1].chat_id == chat_id
            and answer is not None
        )
        if found is not None and not owned:
            log.warning(
                "chat %s pressed a drivers button for survey %s it does not own",
                chat_id,
                press.survey_id,
            )
        drivers = catalog.drivers(Category(answer.category)) if answer is not None else ()
        state = DriversState(
            owned=owned,
            at_step=answer is not None and answer.awaiting_drivers,
            selected=selected_indexes(drivers, answer.drivers or ()) if answer else (),
            count=len(drivers),
        )
        decision = decide_driver_press(state, press.index)
        if isinstance(decision, Reply):
            key = decision.key
            if key == "press_closed":
                key = "press_already_answered"  # the step is over: the answer is in
            return catalog.render(key, lang)
        assert answer is not None
        if isinstance(decision, ToggleDrivers):
            ids = [drivers[i].id for i in decision.selected]
            if await answers.set_drivers(tx, answer.survey_id, ids, message.message_id):
                replies.edit(
                    message.message_id,
                    catalog.render("drivers_prompt", lang),
                    reply_markup=drivers_markup(
                        catalog, answer.survey_id, drivers, decision.selected, lang
                    ),
                )
            return None
        assert isinstance(decision, FinishDrivers)
        await finish_drivers(
            svc,
            tx,
            replies,
            answer,
            decision.selected,
            message.message_id,
            now,
            lang,
            ask_follow_up=True,
        )
        return None

    fresh, _answer = await run_unit(svc, update, chat_id, work)
    if fresh:
        # Answered in every case: Telegram shows a spinner until the press is answered.
        await answer_query(query, _answer[:200] if _answer else None)


async def on_unknown_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Callback data that is not ours (old versions, forgeries): say so, change nothing."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    lang = svc.catalog.language_for(None, query.from_user.language_code)
    await answer_query(query, svc.catalog.render("press_invalid", lang))


def _step(conversation: OpenConversation | None) -> Step:
    if conversation is None:
        return Step.NO_SURVEY
    if conversation.awaiting_score:
        return Step.AWAITING_SCORE
    if conversation.awaiting_drivers:
        return Step.AWAITING_DRIVERS
    return Step.AWAITING_REASON


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
        customer, lang = await speaker(svc, tx, chat_id, message.from_user, now)
        catalog = svc.catalog
        conversation = await surveys.open_conversation(tx, chat_id)
        step = _step(conversation)
        if step is Step.NO_SURVEY and not isinstance(incoming, EditIn):
            # No survey is waiting for an answer, so the message may answer an admin's
            # reply (see bot.admin.relay for the precise rule).
            media = incoming.kind if isinstance(incoming, MediaIn) else None
            text = incoming.text if isinstance(incoming, TextIn) else None
            if await relay_customer_message(svc, tx, replies, chat_id, text, media, now, lang):
                return
        decision = decide(step, incoming)
        if isinstance(decision, UpdateReason):
            updated = await answers.update_reason_from_edit(
                tx, chat_id, decision.message_id, decision.text, now
            )
            replies.send(catalog.render("reason_updated" if updated else "edit_ignored", lang))
            return
        if isinstance(decision, Reply):
            key = decision.key
            if step is Step.NO_SURVEY and customer is None:
                key = "not_linked"
            replies.send(catalog.render(key, lang))
            return
        assert conversation is not None
        if isinstance(decision, RecordScore):
            await record_score(svc, tx, replies, conversation.survey, decision.score, now, lang)
            return
        answer = conversation.answer
        assert answer is not None
        if isinstance(decision, FinishDriversWithReason):
            drivers = catalog.drivers(Category(answer.category))
            await finish_drivers(
                svc,
                tx,
                replies,
                answer,
                selected_indexes(drivers, answer.drivers or ()),
                None,
                now,
                lang,
                ask_follow_up=False,
            )
            decision = RecordReason(decision.text, decision.truncated)
        if isinstance(decision, RecordReason):
            await record_reason(
                svc,
                tx,
                replies,
                conversation.survey.id,
                answer.category,
                decision.text,
                message.message_id,
                decision.truncated,
                now,
                lang,
            )

    await run_unit(svc, update, chat_id, work)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any new non-command message in a private chat."""
    await _handle(update, context, edited=False)


async def on_edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edit: updates the stored reason if that message was the reason."""
    await _handle(update, context, edited=True)
