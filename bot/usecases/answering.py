"""Storing a score, the drivers and a reason, shared by button presses and typed answers.

Every text is rendered by the catalog in the customer's language (``lang``), which the
handlers work out once per update (see :mod:`bot.adapters.telegram.handlers.language`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.core.drivers import drivers_keyboard
from bot.core.flow import MAX_REASON_CHARS
from bot.core.nps import Category, categorize
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.model import Driver
from bot.core.records import Answer, Survey
from bot.core.texts import followup_key, thanks_key
from bot.usecases.alerts import record_detractor_event
from bot.usecases.services import Services
from bot.usecases.unit_of_work import Replies
from bot.usecases.webhook_events import notify
from storage import Tx, answers, surveys

log = logging.getLogger(__name__)


def _alerts_on(svc: Services) -> bool:
    return svc.settings.admin.alerts_enabled and bool(svc.settings.admin_chat_ids)


def question_text(catalog: Catalog, survey: Survey, lang: str) -> str:
    """The question as the dispatcher asks it (re-rendered to edit the message): worded
    for the survey's kind and event type, with the event's properties as snapshotted."""
    return catalog.question(survey.kind.value, lang, survey.event_type, survey.attributes)


def drivers_markup(
    catalog: Catalog, survey_id: int, drivers: Sequence[Driver], selected: Sequence[int], lang: str
) -> dict[str, object]:
    """The drivers keyboard in ``lang`` with ``selected`` ticked."""
    labels = [catalog.driver_label(d, lang) for d in drivers]
    done = catalog.render("drivers_done_button", lang)
    return drivers_keyboard(survey_id, labels, selected, done)


def chosen_text(catalog: Catalog, drivers: Sequence[Driver], ids: Sequence[str], lang: str) -> str:
    """What the drivers message says once the step is over."""
    by_id = {d.id: d for d in drivers}
    labels = [catalog.driver_label(by_id[i], lang) if i in by_id else i for i in ids]
    if not labels:
        return catalog.render("drivers_none", lang)
    separator = "、" if lang == "zh" else ", "
    return catalog.render("drivers_chosen", lang, drivers=separator.join(labels))


def selected_indexes(drivers: Sequence[Driver], ids: Sequence[str]) -> tuple[int, ...]:
    """Positions of the stored driver ids in the category's current list."""
    position = {d.id: i for i, d in enumerate(drivers)}
    return tuple(sorted(position[i] for i in ids if i in position))


async def record_score(
    svc: Services,
    tx: Tx,
    replies: Replies,
    survey: Survey,
    score: int,
    now: datetime,
    lang: str,
    *,
    pressed_message_id: int | None = None,
) -> bool:
    """sent → answered with ``score``; edit away the buttons, then either the drivers
    keyboard (when the questionnaire lists drivers for the category) or the follow-up.

    Returns False (and changes nothing) if the survey was not awaiting a score.
    """
    if not await surveys.mark_answered(tx, survey.id, now):
        return False
    catalog = svc.catalog
    category = categorize(score, svc.cutoffs)
    await answers.record_score(tx, survey.id, score, category.value, now)
    if category is Category.DETRACTOR and _alerts_on(svc):
        # Same transaction as the answer: an alert exists exactly when the answer does.
        await record_detractor_event(tx, survey.id, "score", now)
    await notify(tx, svc.settings.webhooks, "answer.scored", survey.id, now)
    question = question_text(catalog, survey, lang)
    answered = catalog.render("question_answered", lang, question=question, score=score)
    edited = {m for m in (survey.message_id, pressed_message_id) if m is not None}
    for message_id in sorted(edited):
        replies.edit(message_id, answered)
    drivers = catalog.drivers(category)
    if drivers:
        await answers.start_drivers(tx, survey.id)
        replies.send(
            catalog.render("drivers_prompt", lang),
            reply_markup=drivers_markup(catalog, survey.id, drivers, (), lang),
            drivers_keyboard_of=survey.id,
        )
    else:
        replies.send(catalog.render(followup_key(category), lang))
    log.info(
        "survey %s scored %d (%s) in chat %s%s",
        survey.id,
        score,
        category.value,
        replies.chat_id,
        ", drivers step" if drivers else "",
    )
    return True


async def finish_drivers(
    svc: Services,
    tx: Tx,
    replies: Replies,
    answer: Answer,
    selected: Sequence[int],
    message_id: int | None,
    now: datetime,
    lang: str,
    *,
    ask_follow_up: bool,
) -> bool:
    """End the drivers step with ``selected``: store it, turn the keyboard into a line
    saying what was chosen, and (after Done) ask the category's follow-up. False if the
    step had already ended (nothing changed)."""
    catalog = svc.catalog
    category = Category(answer.category)
    drivers = catalog.drivers(category)
    ids = [drivers[i].id for i in selected if 0 <= i < len(drivers)]
    if not await answers.finish_drivers(tx, answer.survey_id, ids, message_id, now):
        return False
    keyboard_message = answer.drivers_message_id or message_id
    if keyboard_message is not None:
        replies.edit(keyboard_message, chosen_text(catalog, drivers, ids, lang))
    if ask_follow_up:
        replies.send(catalog.render(followup_key(category), lang))
    log.info(
        "survey %s drivers done in chat %s: %s", answer.survey_id, replies.chat_id, ids or "none"
    )
    return True


async def record_reason(
    svc: Services,
    tx: Tx,
    replies: Replies,
    survey_id: int,
    category: str,
    text: str,
    message_id: int,
    truncated: bool,
    now: datetime,
    lang: str,
) -> bool:
    """Store the customer's reason, thank them; False if the conversation already ended."""
    if not await answers.record_reason(tx, survey_id, text, message_id, now):
        return False
    if category == Category.DETRACTOR.value and _alerts_on(svc):
        await record_detractor_event(tx, survey_id, "reason", now)
    await notify(tx, svc.settings.webhooks, "answer.reason", survey_id, now)
    catalog = svc.catalog
    thanks = catalog.render(thanks_key(Category(category)), lang)
    if truncated:
        thanks += "\n" + catalog.render("reason_truncated", lang, limit=f"{MAX_REASON_CHARS:,}")
    link = catalog.questionnaire.promoter_link
    markup = None
    if link and category == Category.PROMOTER.value:
        # The questionnaire's public-review link, offered to promoters only.
        button = {"text": catalog.render("promoter_link_button", lang), "url": link}
        markup = {"inline_keyboard": [[button]]}
    replies.send(thanks, reply_markup=markup)
    log.info("survey %s reason stored (%d chars) in chat %s", survey_id, len(text), replies.chat_id)
    return True
