"""The customer's side of a survey: button presses, typed scores, reasons, everything else."""

from __future__ import annotations

import logging

from telegram import Message

from bot.adapters.telegram.handler import Turn, handler
from bot.core.callback_data import DRIVER, SCORE, DriverPress, ScorePress
from bot.core.flow import (
    DriversState,
    EditIn,
    FinishDrivers,
    FinishDriversWithReason,
    Incoming,
    MediaIn,
    RecordReason,
    RecordScore,
    Reply,
    ScorePressIn,
    Step,
    TextIn,
    ToggleDrivers,
    UpdateReason,
    decide,
    decide_driver_press,
)
from bot.core.nps import Category
from bot.core.records import Customer, OpenConversation, Survey, SurveyStatus
from bot.usecases.answering import (
    drivers_markup,
    finish_drivers,
    record_reason,
    record_score,
    selected_indexes,
)
from bot.usecases.relay import relay_customer_message
from storage import answers, surveys

log = logging.getLogger(__name__)


def _delivered_unrecorded(survey: Survey, customer: Customer, chat_id: int) -> bool:
    """A pending survey whose send was started to this (its customer's) chat."""
    return (
        survey.status is SurveyStatus.PENDING
        and survey.send_started_at is not None
        and survey.chat_id is None
        and customer.chat_id == chat_id
    )


def _pressed_step(survey: Survey) -> Step:
    """Where a survey named by a score button stands."""
    if survey.status is SurveyStatus.SENT:
        return Step.AWAITING_SCORE
    if survey.status is SurveyStatus.ANSWERED:
        return Step.ANSWERED
    return Step.CLOSED


@handler(SCORE, chat_scoped=True)
async def on_score_press(turn: Turn[ScorePress]) -> str:
    """A press on a 0–10 button. The survey named in the data must belong to this chat."""
    press, chat_id = turn.press, turn.chat_id
    found = await surveys.get_with_customer(turn.tx, press.survey_id)
    if found is not None and _delivered_unrecorded(found[0], found[1], chat_id):
        # The process died between Telegram accepting the question and recording it: the
        # press proves where it landed. Record it now, so the dispatcher does not send the
        # question again and the score counts.
        await surveys.mark_sent(turn.tx, found[0].id, chat_id, turn.message_id, turn.now)
        log.info("survey %s: a press proves its question reached chat %s", found[0].id, chat_id)
        found = await surveys.get_with_customer(turn.tx, press.survey_id)
    step = Step.NO_SURVEY
    if found is None:
        log.warning("chat %s pressed a button for unknown survey %s", chat_id, press.survey_id)
    elif found[0].chat_id != chat_id or found[1].chat_id != chat_id:
        log.warning("chat %s pressed a button for survey %s of another chat", chat_id, found[0].id)
    else:
        step = _pressed_step(found[0])
    decision = decide(step, ScorePressIn(press.score))
    if isinstance(decision, Reply):
        return turn.text(decision.key, score=press.score)
    assert isinstance(decision, RecordScore) and found is not None
    await record_score(
        turn.svc,
        turn.tx,
        turn.replies,
        found[0],
        decision.score,
        turn.now,
        turn.lang,
        pressed_message_id=turn.message_id,
    )
    return turn.text("press_recorded", score=press.score)


@handler(DRIVER, chat_scoped=True)
async def on_driver_press(turn: Turn[DriverPress]) -> str | None:
    """A press on the drivers keyboard: toggle a driver, or Done.

    The survey named in the data must belong to this chat and be at the drivers step;
    anything else gets a short answer and stores nothing. The selection lives in the
    database, so a restart between presses loses nothing.
    """
    svc, tx, press, chat_id, lang = turn.svc, turn.tx, turn.press, turn.chat_id, turn.lang
    catalog = svc.catalog
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
        return turn.text(key)
    assert answer is not None
    if isinstance(decision, ToggleDrivers):
        ids = [drivers[i].id for i in decision.selected]
        if await answers.set_drivers(tx, answer.survey_id, ids, turn.message_id):
            turn.replies.edit(
                turn.message_id,
                turn.text("drivers_prompt"),
                reply_markup=drivers_markup(
                    catalog, answer.survey_id, drivers, decision.selected, lang
                ),
            )
        return None
    assert isinstance(decision, FinishDrivers)
    await finish_drivers(
        svc,
        tx,
        turn.replies,
        answer,
        decision.selected,
        turn.message_id,
        turn.now,
        lang,
        ask_follow_up=True,
    )
    return None


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


@handler(chat_scoped=True)
async def on_message(turn: Turn[None]) -> None:
    """Any message in a private chat that no command took: a new one, or an edit (which
    updates the stored reason if that message was the reason)."""
    svc, tx, replies, now, chat_id, lang = (
        turn.svc,
        turn.tx,
        turn.replies,
        turn.now,
        turn.chat_id,
        turn.lang,
    )
    message = turn.message
    assert message is not None
    incoming = _incoming(message, edited=turn.update.edited_message is not None)
    catalog = svc.catalog
    conversation = await surveys.open_conversation(tx, chat_id)
    step = _step(conversation)
    if step is Step.NO_SURVEY and not isinstance(incoming, EditIn):
        # No survey is waiting for an answer, so the message may answer an admin's
        # reply (see bot.usecases.relay for the precise rule).
        media = incoming.kind if isinstance(incoming, MediaIn) else None
        text = incoming.text if isinstance(incoming, TextIn) else None
        if await relay_customer_message(svc, tx, replies, chat_id, text, media, now, lang):
            return
    decision = decide(step, incoming)
    if isinstance(decision, UpdateReason):
        updated = await answers.update_reason_from_edit(
            tx, chat_id, decision.message_id, decision.text, now
        )
        turn.say("reason_updated" if updated else "edit_ignored")
        return
    if isinstance(decision, Reply):
        key = decision.key
        if step is Step.NO_SURVEY and turn.customer is None:
            key = "not_linked"
        turn.say(key)
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


#: Edits are handled like new messages (the flow tells them apart).
on_edited_message = on_message
