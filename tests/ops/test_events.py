"""Events into surveys: idempotency, skip reasons and the contact rules, end to end in the
database (no sends)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.records import SurveyStatus
from bot.core.validation import EventRequest
from bot.usecases.events import EventConflict, trigger_event
from bot.usecases.queueing import queue_survey
from storage import Database, customers, surveys
from tests.ops.conftest import rules_for
from tests.support.clock import Clock


async def linked(db: Database, customer_id: str, clock: Clock, chat_id: int) -> None:
    async with db.transaction() as tx:
        await customers.link_chat(tx, customer_id, chat_id, "en", clock())


async def survey_count(db: Database) -> int:
    async with db.read() as tx:
        return sum((await surveys.count_by_status(tx)).values())


async def test_the_same_event_id_twice_gives_one_survey_and_the_same_answer(
    db: Database, clock: Clock
) -> None:
    await linked(db, "idem-1", clock, 501)
    rules = rules_for()
    request = EventRequest("idem-1", "delivery", "evt-1", properties={"plan": "pro"})
    first = await trigger_event(db, request, rules, clock())
    clock.advance(minutes=5)
    changed = EventRequest("idem-1", "delivery", "evt-1", properties={"plan": "free"})
    second = await trigger_event(db, changed, rules, clock())
    assert first.as_json() == second.as_json()
    assert (first.replayed, second.replayed) == (False, True)
    assert first.outcome == "queued"
    assert await survey_count(db) == 1
    async with db.read() as tx:
        customer = await customers.get_by_external_id(tx, "idem-1")
    assert customer is not None and customer.attributes == {"plan": "pro"}  # repeat changed nothing


async def test_an_event_id_reused_for_another_customer_is_a_conflict(
    db: Database, clock: Clock
) -> None:
    await trigger_event(db, EventRequest("c-a", "delivery", "evt-x"), rules_for(), clock())
    with pytest.raises(EventConflict):
        await trigger_event(db, EventRequest("c-b", "delivery", "evt-x"), rules_for(), clock())
    assert await survey_count(db) == 1


async def test_an_event_id_already_used_by_a_cli_survey_is_a_duplicate(
    db: Database, clock: Clock
) -> None:
    await linked(db, "dup-1", clock, 502)
    queued = await queue_survey(db, "dup-1", clock(), event_id="evt-cli")
    outcome = await trigger_event(
        db, EventRequest("dup-1", "delivery", "evt-cli"), rules_for(), clock()
    )
    assert (outcome.survey_id, outcome.outcome, outcome.reason) == (
        queued.survey_id,
        "skipped",
        "duplicate",
    )
    assert await survey_count(db) == 1


@pytest.mark.parametrize("state", ["not_linked", "opted_out", "blocked"])
async def test_customers_who_cannot_be_surveyed_get_a_skipped_survey_with_the_reason(
    db: Database, clock: Clock, state: str
) -> None:
    if state != "not_linked":
        await linked(db, "who", clock, 503)
        async with db.transaction() as tx:
            customer = await customers.get_by_external_id(tx, "who")
            assert customer is not None
            if state == "opted_out":
                await customers.set_opted_out(tx, customer.id, True, clock())
            else:
                await customers.set_blocked(tx, customer.id, True, clock())
    outcome = await trigger_event(db, EventRequest("who", "delivery", "e"), rules_for(), clock())
    assert (outcome.outcome, outcome.reason, outcome.send_at is not None) == (
        "skipped",
        state,
        True,
    )
    assert outcome.as_json()["send_at"] is None
    async with db.read() as tx:
        survey = await surveys.get(tx, outcome.survey_id)
    assert survey is not None and survey.status is SurveyStatus.SKIPPED


async def test_at_most_one_survey_per_customer_per_interval(db: Database, clock: Clock) -> None:
    await linked(db, "freq-1", clock, 504)
    rules = rules_for(interval=timedelta(days=30))
    first = await trigger_event(db, EventRequest("freq-1", "delivery", "f-1"), rules, clock())
    assert first.outcome == "queued"
    clock.advance(days=29, hours=23)
    second = await trigger_event(db, EventRequest("freq-1", "support", "f-2"), rules, clock())
    assert (second.outcome, second.reason) == ("skipped", "contact_rule")
    clock.advance(hours=1)
    third = await trigger_event(db, EventRequest("freq-1", "support", "f-3"), rules, clock())
    assert third.outcome == "queued"


async def test_skipped_and_failed_surveys_do_not_count_as_contact(
    db: Database, clock: Clock
) -> None:
    await linked(db, "freq-2", clock, 505)
    rules = rules_for(interval=timedelta(days=30))
    first = await trigger_event(db, EventRequest("freq-2", "delivery", "g-1"), rules, clock())
    async with db.transaction() as tx:
        await surveys.close(tx, first.survey_id, SurveyStatus.FAILED, "rejected: x", clock())
    again = await trigger_event(db, EventRequest("freq-2", "delivery", "g-2"), rules, clock())
    assert again.outcome == "queued"


async def test_an_interval_per_event_type(db: Database, clock: Clock) -> None:
    await linked(db, "freq-3", clock, 506)
    rules = rules_for(interval=timedelta(days=30), interval_by_event={"support": timedelta(days=7)})
    assert (
        await trigger_event(db, EventRequest("freq-3", "support", "h-1"), rules, clock())
    ).outcome == "queued"
    clock.advance(days=6)
    blocked = await trigger_event(db, EventRequest("freq-3", "support", "h-2"), rules, clock())
    assert blocked.reason == "contact_rule"
    clock.advance(days=1)
    assert (
        await trigger_event(db, EventRequest("freq-3", "support", "h-3"), rules, clock())
    ).outcome == "queued"


async def test_properties_are_stored_on_the_customer_and_snapshotted_on_the_survey(
    db: Database, clock: Clock
) -> None:
    await linked(db, "props-1", clock, 507)
    request = EventRequest("props-1", "delivery", "p-1", properties={"segment": "smb"})
    outcome = await trigger_event(db, request, rules_for(), clock())
    clock.advance(days=40)
    later = EventRequest("props-1", "delivery", "p-2", properties={"segment": "enterprise"})
    await trigger_event(db, later, rules_for(), clock())
    async with db.read() as tx:
        first = await surveys.get(tx, outcome.survey_id)
        customer = await customers.get_by_external_id(tx, "props-1")
    assert first is not None and first.attributes == {"segment": "smb"}
    assert customer is not None and customer.attributes == {"segment": "enterprise"}
