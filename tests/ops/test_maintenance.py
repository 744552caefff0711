"""Reminders, expiry and the relationship cycle, on a controllable clock against the stand-in."""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

from bot.core.records import SurveyKind, SurveyStatus
from bot.settings import QuietHours
from bot.usecases.maintenance import expire_surveys, send_reminders
from bot.usecases.queueing import queue_survey
from bot.usecases.relationship import event_id_for, queue_due_relationship_surveys
from storage import answers, customers, surveys
from tests.ops.conftest import COMPANY, Rig, rules_for


async def sent_survey(rig: Rig, customer_id: str, **attributes: object) -> tuple[int, object]:
    user = await rig.link(customer_id, **attributes)
    survey_id = (await queue_survey(rig.db, customer_id, rig.clock())).survey_id
    await rig.drain()
    return survey_id, user


async def test_one_reminder_after_the_configured_time_as_a_reply_to_the_question(rig: Rig) -> None:
    rules = rules_for(reminder_after=timedelta(hours=24), expiry=timedelta(hours=72))
    _, user = await sent_survey(rig, "rem-1")
    question = user.messages[-1]  # type: ignore[attr-defined]
    rig.clock.advance(hours=23, minutes=59)
    assert await send_reminders(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 0
    rig.clock.advance(minutes=1)
    assert await send_reminders(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 1
    reminder = user.messages[-1]  # type: ignore[attr-defined]
    assert "reminder" in reminder.text and reminder.reply_to_message_id == question.message_id
    rig.clock.advance(hours=10)
    assert await send_reminders(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 0
    assert sum("reminder" in (m.text or "") for m in user.messages) == 1  # type: ignore[attr-defined]


async def test_no_reminder_in_quiet_hours_or_after_an_answer(rig: Rig) -> None:
    rules = rules_for(quiet_hours=QuietHours(time(11), time(13)))
    quiet_id, _ = await sent_survey(rig, "rem-2")
    answered_id, _ = await sent_survey(rig, "rem-3")
    async with rig.db.transaction() as tx:
        await surveys.mark_answered(tx, answered_id, rig.clock())
        await answers.record_score(tx, answered_id, 9, "promoter", rig.clock())
    rig.clock.advance(hours=23)  # 11:00 next day: quiet
    assert await send_reminders(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 0
    rig.clock.advance(hours=2)  # 13:00
    assert await send_reminders(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 1
    async with rig.db.read() as tx:
        assert await surveys.reminded_at(tx, quiet_id) == rig.clock()
        assert await surveys.reminded_at(tx, answered_id) is None


async def test_expiry_closes_the_survey_and_removes_its_buttons(rig: Rig) -> None:
    rules = rules_for(expiry=timedelta(hours=72))
    survey_id, user = await sent_survey(rig, "exp-1")
    question_id = user.messages[-1].message_id  # type: ignore[attr-defined]
    rig.clock.advance(hours=71, minutes=59)
    assert await expire_surveys(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 0
    rig.clock.advance(minutes=1)
    assert await expire_surveys(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 1
    question = user.message(question_id)  # type: ignore[attr-defined]
    assert question.button_data == [] and "closed" in question.text
    async with rig.db.read() as tx:
        survey = await surveys.get(tx, survey_id)
    assert survey is not None and survey.status is SurveyStatus.EXPIRED
    assert await expire_surveys(rig.db, rules, COMPANY, rig.clock(), rig.sender) == 0


async def test_an_answered_survey_never_expires(rig: Rig) -> None:
    survey_id, _ = await sent_survey(rig, "exp-2")
    async with rig.db.transaction() as tx:
        await surveys.mark_answered(tx, survey_id, rig.clock())
    rig.clock.advance(days=10)
    assert await expire_surveys(rig.db, rules_for(), COMPANY, rig.clock(), rig.sender) == 0


async def test_relationship_cycle_asks_every_surveyable_customer_once_spread_over_the_cycle(
    rig: Rig,
) -> None:
    cycle = timedelta(days=30)
    rules = rules_for(interval=timedelta(days=0))
    async with rig.db.transaction() as tx:
        for i in range(300):
            await customers.link_chat(tx, f"rel-{i}", 10_000 + i, "en", rig.clock())
        await customers.upsert(tx, "rel-unlinked", rig.clock())
        opted = await customers.link_chat(tx, "rel-opted", 9_999, "en", rig.clock())
        await customers.set_opted_out(tx, opted[0].id, True, rig.clock())
    per_day: Counter[int] = Counter()
    for day in range(31):
        for _ in range(2):  # a second pass the same day creates nothing more
            per_day[day] += await queue_due_relationship_surveys(rig.db, rules, cycle, rig.clock())
        rig.clock.advance(days=1)
    async with rig.db.read() as tx:
        rows = await tx.fetchall(
            "SELECT s.event_id, c.external_id FROM surveys s JOIN customers c "
            "ON c.id = s.customer_id WHERE s.kind = ?",
            (SurveyKind.RELATIONSHIP.value,),
        )
    askers = Counter(r[1] for r in rows)
    # Over one cycle (plus a day) everyone is asked; nobody twice in the same cycle.
    assert set(askers) == {f"rel-{i}" for i in range(300)}
    assert len({r[0] for r in rows}) == len(rows)
    assert max(askers.values()) <= 2
    # The first day catches up on two days of slots; after that ~10 a day, never a burst.
    assert max(per_day[d] for d in range(1, 31)) <= 30


async def test_relationship_surveys_respect_the_contact_rules(rig: Rig) -> None:
    cycle = timedelta(days=90)
    rules = rules_for(interval=timedelta(days=30))
    async with rig.db.transaction() as tx:
        customer, _ = await customers.link_chat(tx, "rel-busy", 42, "en", rig.clock())
    await queue_survey(rig.db, "rel-busy", rig.clock())  # a transactional survey just queued
    for _ in range(92):
        await queue_due_relationship_surveys(rig.db, rules, cycle, rig.clock())
        rig.clock.advance(days=1)
    async with rig.db.read() as tx:
        rows = [
            tuple(r)
            for r in await tx.fetchall(
                "SELECT event_id, status, status_reason, send_at FROM surveys "
                "WHERE customer_id = ? AND kind = 'relationship' ORDER BY id",
                (customer.id,),
            )
        ]
    assert rows, "the customer's slot came round once in 92 days"
    for event_id, state, reason, send_at in rows:
        assert event_id.startswith("relationship:rel-busy:")
        if send_at < "2024-07-03":  # within 30 days of the transactional survey
            assert (state, reason) == ("skipped", "contact_rule")
        else:
            assert state == "pending"
    assert event_id_for("rel-busy", 1) == "relationship:rel-busy:1"
