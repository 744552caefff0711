"""Reminders to non-responders and expiry of unanswered surveys.

Both write their Bot API call to the outbox in the same transaction as the state change
(``reminded_at`` set, status ``expired``), so a crash can neither lose the call nor make it
twice from a second pass: the guarded UPDATE lets exactly one pass win.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.core.contact_rules import ContactRules, customer_timezone, expired, reminder_due
from bot.core.delivery import Urgency
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.startup import builtin_catalog
from bot.core.records import SurveyStatus
from bot.settings import WebhookSettings
from bot.usecases.ports import Outbound
from bot.usecases.webhook_events import notify
from storage import Database, customers, outbox, surveys

log = logging.getLogger(__name__)

BATCH = 500


async def _flush(sender: Outbound | None, chat_ids: set[int]) -> None:
    """Each chat's calls in parallel, as bulk: one chat's backlog holds up no other chat."""
    if sender is not None:
        await asyncio.gather(*(sender.flush_chat(c, Urgency.BULK) for c in sorted(chat_ids)))


async def expire_surveys(
    db: Database,
    rules: ContactRules,
    company: str,
    now: datetime,
    sender: Outbound | None = None,
    *,
    catalog: Catalog | None = None,
    webhooks: WebhookSettings | None = None,
) -> int:
    """Close surveys unanswered for longer than the expiry and take their buttons away
    (the question message is edited, in the customer's language, to say the survey has
    closed). Returns how many."""
    catalog = catalog or builtin_catalog(company)
    closed = 0
    chats: set[int] = set()
    while True:
        async with db.read() as tx:
            batch = await surveys.sent_before(tx, now - rules.expiry, BATCH)
        if not batch:
            break
        async with db.transaction() as tx:
            for survey in batch:
                assert survey.sent_at is not None
                if not expired(survey.sent_at, now, rules):
                    continue
                if not await surveys.close(
                    tx,
                    survey.id,
                    SurveyStatus.EXPIRED,
                    "no answer",
                    now,
                    from_statuses=(SurveyStatus.SENT,),
                ):
                    continue  # answered meanwhile
                closed += 1
                await notify(tx, webhooks or WebhookSettings(), "survey.expired", survey.id, now)
                if survey.chat_id is not None and survey.message_id is not None:
                    customer = await customers.get(tx, survey.customer_id)
                    lang = (
                        catalog.language_for(customer.language, customer.telegram_language)
                        if customer is not None
                        else catalog.default_language
                    )
                    question = catalog.question(
                        survey.kind.value, lang, survey.event_type, survey.attributes
                    )
                    text = catalog.render("question_expired", lang, question=question)
                    params = {
                        "chat_id": survey.chat_id,
                        "message_id": survey.message_id,
                        "text": text,
                    }
                    await outbox.enqueue(
                        tx, survey.chat_id, "editMessageText", params, now, survey_id=survey.id
                    )
                    chats.add(survey.chat_id)
                log.info("survey %s expired unanswered (chat %s)", survey.id, survey.chat_id)
        if len(batch) < BATCH:
            break
    await _flush(sender, chats)
    return closed


async def send_reminders(
    db: Database,
    rules: ContactRules,
    company: str,
    now: datetime,
    sender: Outbound | None = None,
    *,
    catalog: Catalog | None = None,
) -> int:
    """Record (and send) the one reminder, in the customer's language, to customers who
    have not answered after the configured time; never in their quiet hours, never after
    expiry. Returns how many."""
    if rules.reminder_after is None:
        return 0
    catalog = catalog or builtin_catalog(company)
    reminded = 0
    chats: set[int] = set()
    after = now - rules.expiry
    cutoff = now - rules.reminder_after
    while True:
        async with db.read() as tx:
            batch = await surveys.unreminded_sent_between(tx, after, cutoff, BATCH)
        if not batch:
            break
        async with db.transaction() as tx:
            for survey in batch:
                assert survey.sent_at is not None
                customer = await customers.get(tx, survey.customer_id)
                if customer is None or customer.opted_out or customer.blocked:
                    continue
                if customer.chat_id is None or customer.chat_id != survey.chat_id:
                    continue  # relinked to another chat: the question is not theirs to see
                tz = customer_timezone(customer.attributes, rules.default_tz)
                if not reminder_due(survey.sent_at, now, rules, tz):
                    continue  # quiet hours: a later pass sends it
                if not await surveys.mark_reminded(tx, survey.id, now):
                    continue
                params: dict[str, object] = {
                    "chat_id": customer.chat_id,
                    "text": catalog.render(
                        "reminder",
                        catalog.language_for(customer.language, customer.telegram_language),
                    ),
                }
                if survey.message_id is not None:
                    params["reply_parameters"] = {
                        "message_id": survey.message_id,
                        "allow_sending_without_reply": True,
                    }
                await outbox.enqueue(
                    tx, customer.chat_id, "sendMessage", params, now, survey_id=survey.id
                )
                chats.add(customer.chat_id)
                reminded += 1
                log.info("survey %s: reminder queued for chat %s", survey.id, customer.chat_id)
        if len(batch) < BATCH:
            break
        last = batch[-1].sent_at
        assert last is not None
        after = last
    await _flush(sender, chats)
    return reminded
