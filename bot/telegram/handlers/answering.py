"""Storing a score and a reason, shared by button presses and typed answers."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.admin.alerts import record_detractor_event
from bot.domain.nps import Category, categorize
from bot.survey.flow import MAX_REASON_CHARS
from bot.survey.texts import followup_key, render, thanks_key
from bot.telegram.services import Services
from bot.telegram.unit_of_work import Replies
from storage import Tx, answers, surveys
from storage.records import Survey

log = logging.getLogger(__name__)


def _alerts_on(svc: Services) -> bool:
    return svc.settings.admin.alerts_enabled and bool(svc.settings.admin_chat_ids)


def question_text(svc: Services, survey: Survey) -> str:
    """The question as it was asked (re-rendered to edit the message)."""
    return render("question", company=svc.settings.company_name)


async def record_score(
    svc: Services,
    tx: Tx,
    replies: Replies,
    survey: Survey,
    score: int,
    now: datetime,
    *,
    pressed_message_id: int | None = None,
) -> bool:
    """sent → answered with ``score``; edit away the buttons and ask the follow-up.

    Returns False (and changes nothing) if the survey was not awaiting a score.
    """
    if not await surveys.mark_answered(tx, survey.id, now):
        return False
    category = categorize(score, svc.cutoffs)
    await answers.record_score(tx, survey.id, score, category.value, now)
    if category is Category.DETRACTOR and _alerts_on(svc):
        # Same transaction as the answer: an alert exists exactly when the answer does.
        await record_detractor_event(tx, survey.id, "score", now)
    answered = render("question_answered", question=question_text(svc, survey), score=score)
    edited = {m for m in (survey.message_id, pressed_message_id) if m is not None}
    for message_id in sorted(edited):
        replies.edit(message_id, answered)
    replies.send(render(followup_key(category), company=svc.settings.company_name))
    log.info(
        "survey %s scored %d (%s) in chat %s", survey.id, score, category.value, replies.chat_id
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
) -> bool:
    """Store the customer's reason, thank them; False if the conversation already ended."""
    if not await answers.record_reason(tx, survey_id, text, message_id, now):
        return False
    if category == Category.DETRACTOR.value and _alerts_on(svc):
        await record_detractor_event(tx, survey_id, "reason", now)
    thanks = render(thanks_key(Category(category)))
    if truncated:
        thanks += "\n" + render("reason_truncated", limit=f"{MAX_REASON_CHARS:,}")
    replies.send(thanks)
    log.info("survey %s reason stored (%d chars) in chat %s", survey_id, len(text), replies.chat_id)
    return True
