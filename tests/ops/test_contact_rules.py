"""The contact rules as pure functions of ``now``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.contact_rules import (
    Contact,
    customer_timezone,
    end_of_quiet_hours,
    expired,
    frequency_allows,
    in_quiet_hours,
    planned_send_time,
    reminder_due,
)
from bot.settings import QuietHours
from bot.usecases.relationship import EPOCH, due_cycle, slot_offset
from tests.ops.conftest import rules_for

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(21), time(9))
T0 = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- frequency ------------------------------------------------------------------------


def test_one_survey_per_interval_counts_sent_and_queued_surveys_on_both_sides() -> None:
    rules = rules_for(interval=timedelta(days=30))
    assert frequency_allows(T0, "delivery", [], rules)
    before = [Contact(T0 - timedelta(days=29, hours=23), "support")]
    assert not frequency_allows(T0, "delivery", before, rules)
    assert frequency_allows(T0, "delivery", [Contact(T0 - timedelta(days=30), "x")], rules)
    after = [Contact(T0 + timedelta(days=3), None)]  # a queued one later on blocks too
    assert not frequency_allows(T0, "delivery", after, rules)


def test_an_interval_of_zero_turns_the_rule_off() -> None:
    rules = rules_for(interval=timedelta(0))
    assert frequency_allows(T0, None, [Contact(T0, None)], rules)


def test_an_interval_per_event_type_counts_only_that_type_and_replaces_the_global_one() -> None:
    rules = rules_for(interval=timedelta(days=30), interval_by_event={"support": timedelta(days=7)})
    other_type = [Contact(T0 - timedelta(days=1), "delivery")]
    assert frequency_allows(T0, "support", other_type, rules)
    same_type = [Contact(T0 - timedelta(days=6), "support")]
    assert not frequency_allows(T0, "support", same_type, rules)
    assert frequency_allows(T0, "support", [Contact(T0 - timedelta(days=7), "support")], rules)
    # Other event types still follow the global interval, and support surveys count for it.
    assert not frequency_allows(T0, "delivery", same_type, rules)


# --- delays and quiet hours -----------------------------------------------------------


def test_planned_time_uses_send_at_else_the_delay_from_the_event_never_the_past() -> None:
    rules = rules_for(event_delays={"delivery": timedelta(hours=2)})
    assert planned_send_time(T0, rules, UTC_ZONE, event_type="delivery") == T0 + timedelta(hours=2)
    assert planned_send_time(T0, rules, UTC_ZONE, event_type="other") == T0
    occurred = T0 - timedelta(hours=3)
    assert planned_send_time(T0, rules, UTC_ZONE, event_type="delivery", occurred_at=occurred) == T0
    explicit = planned_send_time(
        T0, rules, UTC_ZONE, event_type="delivery", delay=timedelta(minutes=5)
    )
    assert explicit == T0 + timedelta(minutes=5)
    fixed = T0 + timedelta(days=1)
    assert planned_send_time(T0, rules, UTC_ZONE, event_type="delivery", send_at=fixed) == fixed


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ("2024-06-03T20:59:59", False),
        ("2024-06-03T21:00:00", True),
        ("2024-06-04T03:00:00", True),
        ("2024-06-04T08:59:59", True),
        ("2024-06-04T09:00:00", False),
    ],
)
def test_quiet_hours_spanning_midnight(local: str, quiet: bool) -> None:
    moment = datetime.fromisoformat(local).replace(tzinfo=BERLIN)
    assert in_quiet_hours(moment, NIGHT, BERLIN) is quiet


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(time(12), time(14))
    assert in_quiet_hours(T0, lunch, UTC_ZONE)
    assert end_of_quiet_hours(T0, lunch, UTC_ZONE) == T0 + timedelta(hours=2)
    assert end_of_quiet_hours(T0 - timedelta(seconds=1), lunch, UTC_ZONE) == T0 - timedelta(
        seconds=1
    )


def test_a_survey_planned_in_the_evening_waits_for_the_next_morning_local_time() -> None:
    evening = at("2024-06-03T22:30:00+02:00")  # Berlin summer time
    assert end_of_quiet_hours(evening, NIGHT, BERLIN) == at("2024-06-04T09:00:00+02:00")
    early = at("2024-06-04T06:00:00+02:00")
    assert end_of_quiet_hours(early, NIGHT, BERLIN) == at("2024-06-04T09:00:00+02:00")
    assert end_of_quiet_hours(evening, None, BERLIN) == evening


def test_quiet_hours_across_a_daylight_saving_change() -> None:
    # Night of 30-31 March 2024: Berlin moves from +01:00 to +02:00 at 02:00.
    evening = at("2024-03-30T22:00:00+01:00")
    assert end_of_quiet_hours(evening, NIGHT, BERLIN) == at("2024-03-31T09:00:00+02:00")
    # An end inside the skipped hour still resolves to a moment after the window.
    gap = QuietHours(time(1), time(2, 30))
    inside = at("2024-03-31T01:30:00+01:00")
    end = end_of_quiet_hours(inside, gap, BERLIN)
    assert end > inside and not in_quiet_hours(end, gap, BERLIN)


def test_the_customers_time_zone_attribute_is_used_when_valid() -> None:
    assert customer_timezone({"timezone": "Asia/Tokyo"}, UTC_ZONE) == ZoneInfo("Asia/Tokyo")
    for bad in ({"timezone": "Mars/Base"}, {"timezone": 5}, {"timezone": "../etc"}, {}):
        assert customer_timezone(bad, BERLIN) == BERLIN


# --- reminders and expiry -------------------------------------------------------------


def test_one_reminder_window_between_reminder_time_and_expiry_outside_quiet_hours() -> None:
    rules = rules_for(reminder_after=timedelta(hours=24), expiry=timedelta(hours=72))
    sent = T0
    assert not reminder_due(sent, T0 + timedelta(hours=23, minutes=59), rules, UTC_ZONE)
    assert reminder_due(sent, T0 + timedelta(hours=24), rules, UTC_ZONE)
    assert not reminder_due(sent, T0 + timedelta(hours=72), rules, UTC_ZONE)
    night = rules_for(quiet_hours=QuietHours(time(11), time(13)))
    assert not reminder_due(sent, T0 + timedelta(hours=24), night, UTC_ZONE)
    assert reminder_due(sent, T0 + timedelta(hours=25), night, UTC_ZONE)
    off = rules_for(reminder_after=None)
    assert not reminder_due(sent, T0 + timedelta(hours=30), off, UTC_ZONE)


def test_expiry() -> None:
    rules = rules_for(expiry=timedelta(hours=72))
    assert not expired(T0, T0 + timedelta(hours=71, minutes=59), rules)
    assert expired(T0, T0 + timedelta(hours=72), rules)


# --- relationship cycle ---------------------------------------------------------------


def test_relationship_slots_are_stable_and_spread_evenly_over_the_cycle() -> None:
    cycle = timedelta(days=90)
    assert slot_offset("cust-1", cycle) == slot_offset("cust-1", cycle)
    days = Counter(slot_offset(f"cust-{i}", cycle).days for i in range(9000))
    assert set(days) <= set(range(90))
    # 100 a day on average; a uniform spread keeps every day well within 60-140.
    assert min(days.values()) > 60 and max(days.values()) < 140


def test_a_customer_is_due_once_per_cycle_at_their_slot() -> None:
    cycle = timedelta(days=90)
    offset = slot_offset("cust-7", cycle)
    slot = EPOCH + 5 * cycle + offset
    assert due_cycle("cust-7", slot - timedelta(seconds=1), cycle) in (None, 4)
    assert due_cycle("cust-7", slot, cycle) == 5
    assert due_cycle("cust-7", slot + timedelta(days=1), cycle) == 5
    assert due_cycle("cust-7", slot + timedelta(days=2, seconds=1), cycle) is None
    start = slot - timedelta(days=100)
    moments = [start + timedelta(hours=h) for h in range(24 * 200)]
    hits = {due_cycle("cust-7", m, cycle) for m in moments} - {None}
    expected = {
        k
        for k in range(20)
        if start - timedelta(days=2) < EPOCH + k * cycle + offset <= moments[-1]
    }
    assert hits == expected and 5 in hits
