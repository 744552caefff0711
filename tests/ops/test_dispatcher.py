"""The dispatcher in-process on a controllable clock, sending to the Telegram stand-in:
delays, quiet hours, 429 storms, blocked users, transient errors, crash windows."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.adapters.telegram.sender import MAX_TRANSIENT_RETRIES
from bot.core.records import SurveyStatus
from bot.core.validation import EventRequest
from bot.settings import QuietHours
from bot.usecases.dispatching import MAX_SEND_ATTEMPTS, Dispatcher
from bot.usecases.events import trigger_event
from bot.usecases.queueing import queue_survey
from standin import SimUser
from storage import customers, surveys
from tests.ops.conftest import COMPANY, Rig, rules_for


def questions(user: SimUser, survey_id: int | None = None) -> list[object]:
    """The survey questions the user received (optionally for one survey)."""
    marker = f"nps:{survey_id}:0" if survey_id is not None else "nps:"
    return [m for m in user.messages if any(d.startswith(marker) for d in m.button_data)]


async def status(rig: Rig, survey_id: int) -> tuple[SurveyStatus, str | None]:
    async with rig.db.read() as tx:
        survey = await surveys.get(tx, survey_id)
    assert survey is not None
    return survey.status, survey.status_reason


async def event(rig: Rig, customer: str, event_id: str, **kwargs: object) -> int:
    event_type = str(kwargs.pop("event_type", "delivery"))
    request = EventRequest(customer, event_type, event_id, **kwargs)  # type: ignore[arg-type]
    outcome = await trigger_event(rig.db, request, rig.rules, rig.clock())
    assert outcome.outcome == "queued", outcome
    return outcome.survey_id


async def test_a_delay_per_event_type_holds_the_survey_back_exactly_that_long(rig: Rig) -> None:
    rig.rules = rules_for(event_delays={"delivery": timedelta(hours=2)})
    user = await rig.link("delay-1")
    survey_id = await event(rig, "delay-1", "d-1")
    await rig.drain()
    rig.clock.advance(hours=1, minutes=59, seconds=59)
    await rig.drain()
    assert questions(user) == []
    rig.clock.advance(seconds=1)
    await rig.drain()
    assert len(questions(user, survey_id)) == 1
    assert (await status(rig, survey_id))[0] is SurveyStatus.SENT


async def test_the_delay_counts_from_when_the_event_occurred(rig: Rig) -> None:
    rig.rules = rules_for(event_delays={"delivery": timedelta(hours=2)})
    user = await rig.link("delay-2")
    occurred = rig.clock() - timedelta(hours=1, minutes=30)
    survey_id = await event(rig, "delay-2", "d-2", occurred_at=occurred)
    rig.clock.advance(minutes=29)
    await rig.drain()
    assert questions(user) == []
    rig.clock.advance(minutes=1)
    await rig.drain()
    assert len(questions(user, survey_id)) == 1


async def test_quiet_hours_follow_the_customers_time_zone(rig: Rig) -> None:
    quiet = QuietHours(start=time(21), end=time(9))
    rig.rules = rules_for(quiet_hours=quiet)
    rig.dispatcher.rules = rig.rules
    # 12:00 UTC is 21:00 in Tokyo (quiet) and noon for a customer on the bot's zone (UTC).
    tokyo = await rig.link("tz-tokyo", timezone="Asia/Tokyo")
    local = await rig.link("tz-none")
    tokyo_survey = await event(rig, "tz-tokyo", "q-1")
    local_survey = await event(rig, "tz-none", "q-2")
    await rig.drain()
    assert len(questions(local, local_survey)) == 1
    assert questions(tokyo) == []
    rig.clock.advance(hours=11, minutes=59)  # 23:59 UTC = 08:59 in Tokyo
    await rig.drain()
    assert questions(tokyo) == []
    rig.clock.advance(minutes=1)  # 09:00 in Tokyo
    await rig.drain()
    assert len(questions(tokyo, tokyo_survey)) == 1


async def test_the_dispatcher_defers_a_due_survey_that_falls_in_quiet_hours(rig: Rig) -> None:
    rig.dispatcher.rules = rules_for(quiet_hours=QuietHours(time(11), time(13)))
    user = await rig.link("late-1")
    # Queued without the rules (as `npsbot survey` does), so only the dispatcher can catch it.
    result = await queue_survey(rig.db, "late-1", rig.clock())
    await rig.drain()
    assert questions(user) == []
    async with rig.db.read() as tx:
        survey = await surveys.get(tx, result.survey_id)
    assert survey is not None and survey.send_attempts == 0
    assert survey.send_at == rig.clock().replace(hour=13)
    rig.clock.advance(hours=1)
    await rig.drain()
    assert len(questions(user, result.survey_id)) == 1


async def test_a_429_storm_delays_but_every_survey_arrives_exactly_once(rig: Rig) -> None:
    users = {f"storm-{i}": await rig.link(f"storm-{i}") for i in range(40)}
    ids = {c: (await queue_survey(rig.db, c, rig.clock())).survey_id for c in users}
    rig.server.inject_faults(p_429=0.3, retry_after=1, seed=11)
    await rig.drain()
    rig.server.inject_faults()
    assert rig.server.stats.rate_limited > 5  # it really was a storm
    assert rig.sender.rate_limited == rig.server.stats.rate_limited
    for customer, user in users.items():
        assert len(questions(user)) == 1, customer
        assert len(questions(user, ids[customer])) == 1
        assert (await status(rig, ids[customer]))[0] is SurveyStatus.SENT
    assert rig.server.stats.total_deliveries == 40


async def test_a_customer_who_blocked_the_bot_is_marked_and_never_sent_to_again(
    rig: Rig,
) -> None:
    user = await rig.link("blocker")
    user.block()
    first = await queue_survey(rig.db, "blocker", rig.clock())
    second = await queue_survey(rig.db, "blocker", rig.clock())
    await rig.drain()
    assert await status(rig, first.survey_id) == (SurveyStatus.FAILED, "blocked")
    assert await status(rig, second.survey_id) == (SurveyStatus.SKIPPED, "blocked")
    assert rig.server.stats.forbidden == 1  # the second survey never reached Telegram
    async with rig.db.read() as tx:
        customer = await customers.get_by_external_id(tx, "blocker")
    assert customer is not None and customer.blocked
    later = await trigger_event(
        rig.db, EventRequest("blocker", "delivery", "b-3"), rig.rules, rig.clock()
    )
    assert (later.outcome, later.reason) == ("skipped", "blocked")
    await rig.drain()
    assert rig.server.stats.forbidden == 1


async def test_5xx_errors_are_retried_with_bounded_backoff_then_the_survey_fails(
    rig: Rig,
) -> None:
    user = await rig.link("flaky-1")
    survey_id = (await queue_survey(rig.db, "flaky-1", rig.clock())).survey_id
    rig.server.fail_next("sendMessage", 500, count=1000)
    calls_per_attempt = MAX_TRANSIENT_RETRIES + 1
    for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
        await rig.drain()
        assert rig.server.stats.calls["sendMessage"] == attempt * calls_per_attempt
        if attempt < MAX_SEND_ATTEMPTS:
            assert (await status(rig, survey_id))[0] is SurveyStatus.PENDING
            async with rig.db.read() as tx:
                survey = await surveys.get(tx, survey_id)
            assert survey is not None
            wait = survey.send_at - rig.clock()
            assert timedelta(seconds=30) <= wait <= timedelta(minutes=15)
            rig.clock.advance(seconds=wait.total_seconds())
    state, reason = await status(rig, survey_id)
    assert state is SurveyStatus.FAILED
    assert reason is not None and reason.startswith("transient:")
    rig.clock.advance(days=1)
    await rig.drain()
    assert rig.server.stats.calls["sendMessage"] == MAX_SEND_ATTEMPTS * calls_per_attempt
    assert questions(user) == []


async def test_a_transient_outage_that_ends_delivers_the_survey_once(rig: Rig) -> None:
    user = await rig.link("flaky-2")
    survey_id = (await queue_survey(rig.db, "flaky-2", rig.clock())).survey_id
    rig.server.fail_next("sendMessage", 502, count=MAX_TRANSIENT_RETRIES + 2)
    await rig.drain()
    assert (await status(rig, survey_id))[0] is SurveyStatus.PENDING
    rig.clock.advance(seconds=30)
    await rig.drain()
    assert (await status(rig, survey_id))[0] is SurveyStatus.SENT
    assert len(questions(user, survey_id)) == 1


class Crash(BaseException):
    """Stands for the process dying at a chosen line (BaseException: nothing catches it)."""


async def test_a_crash_after_telegram_accepted_but_before_the_commit_resends_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one documented duplicate window (docs/delivery-guarantees.md, step 3)."""
    user = await rig.link("crash-1")
    survey_id = (await queue_survey(rig.db, "crash-1", rig.clock())).survey_id
    real_mark_sent = surveys.mark_sent

    async def die(*args: object, **kwargs: object) -> bool:
        raise Crash

    monkeypatch.setattr(surveys, "mark_sent", die)
    with pytest.raises(Crash):
        await rig.dispatcher.run_once()
    assert len(questions(user, survey_id)) == 1  # Telegram has it; the database does not
    monkeypatch.setattr(surveys, "mark_sent", real_mark_sent)
    restarted = Dispatcher(rig.db, rig.sender, COMPANY, rig.clock, rules=rig.rules)
    await restarted.run_once()
    assert restarted.possible_duplicates == 1
    assert len(questions(user, survey_id)) == 2  # the at-least-once duplicate, same survey id
    assert (await status(rig, survey_id))[0] is SurveyStatus.SENT
    await restarted.run_once()
    assert len(questions(user, survey_id)) == 2


async def test_a_crash_before_the_call_loses_nothing_and_sends_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await rig.link("crash-2")
    survey_id = (await queue_survey(rig.db, "crash-2", rig.clock())).survey_id

    async def die(*args: object, **kwargs: object) -> object:
        raise Crash

    monkeypatch.setattr(rig.sender, "call", die)
    with pytest.raises(Crash):
        await rig.dispatcher.run_once()
    monkeypatch.undo()
    assert questions(user) == []
    restarted = Dispatcher(rig.db, rig.sender, COMPANY, rig.clock, rules=rig.rules)
    await restarted.run_once()
    assert len(questions(user, survey_id)) == 1
    assert (await status(rig, survey_id))[0] is SurveyStatus.SENT


async def test_a_lost_response_is_the_other_documented_duplicate_window(rig: Rig) -> None:
    """Telegram delivered, but the answer never came back (a 5xx or timeout after the
    fact): the retry sends a second copy. Documented; both copies name the same survey."""
    user = await rig.link("lost-1")
    survey_id = (await queue_survey(rig.db, "lost-1", rig.clock())).survey_id
    rig.server.fail_next("sendMessage", 502, after_delivery=True)
    await rig.drain()
    assert len(questions(user, survey_id)) == 2
    assert (await status(rig, survey_id))[0] is SurveyStatus.SENT
