"""Specification of the /nps and /export argument parsing (bot.core.periods)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.periods import (
    FilterError,
    Period,
    PeriodError,
    ReportArgumentError,
    ReportFilter,
    local_today,
    parse_filter,
    parse_filters,
    parse_period,
    parse_report_args,
)

TODAY = date(2026, 11, 23)
BERLIN = ZoneInfo("Europe/Berlin")


# --- periods -----------------------------------------------------------------------------


def test_today_and_yesterday_are_single_days() -> None:
    assert parse_period("today", TODAY) == Period(TODAY, TODAY)
    assert parse_period("yesterday", TODAY) == Period(date(2026, 11, 22), date(2026, 11, 22))


def test_n_days_means_the_last_n_days_including_today() -> None:
    assert parse_period("7d", TODAY) == Period(date(2026, 11, 17), TODAY)
    assert parse_period("30d", TODAY) == Period(date(2026, 10, 25), TODAY)
    assert parse_period("1d", TODAY) == Period(TODAY, TODAY)
    assert parse_period("366d", TODAY).days == 366


def test_period_words_are_case_and_space_insensitive() -> None:
    assert parse_period("  Today ", TODAY) == Period(TODAY, TODAY)
    assert parse_period("7D", TODAY) == parse_period("7d", TODAY)


def test_missing_argument_uses_the_default_period() -> None:
    assert parse_period(None, TODAY) == parse_period("7d", TODAY)
    assert parse_period("  ", TODAY, default="today") == Period(TODAY, TODAY)


def test_a_single_date_is_that_day() -> None:
    assert parse_period("2026-11-01", TODAY) == Period(date(2026, 11, 1), date(2026, 11, 1))


def test_a_date_range_is_inclusive() -> None:
    period = parse_period("2026-11-01..2026-11-30", date(2026, 12, 5))
    assert period == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert period.days == 30


def test_a_range_may_be_a_single_day() -> None:
    assert parse_period("2026-11-01..2026-11-01", TODAY).days == 1


def test_a_leap_year_fits_in_the_366_day_limit() -> None:
    assert parse_period("2024-01-01..2024-12-31", TODAY).days == 366


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0d", "1 to 366"),
        ("367d", "1 to 366"),
        ("-7d", "not a period"),
        ("week", "not a period"),
        ("2026-13-01", "not a valid calendar date"),
        ("2026-02-30", "not a valid calendar date"),
        ("20261101", "not a period"),
        ("2026-11-30..2026-11-01", "after it ends"),
        ("2024-01-01..2025-01-01", "367 days"),
        ("2026-11-01..", "form YYYY-MM-DD"),
        ("2026-12-01", "future"),
        ("2026-11-24..2026-11-30", "future"),
    ],
)
def test_invalid_periods_raise_an_error_that_explains_itself(text: str, fragment: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(text, TODAY)
    assert fragment in str(info.value)


def test_a_range_that_started_already_may_end_in_the_future() -> None:
    assert parse_period("2026-11-20..2026-12-31", TODAY).end == date(2026, 12, 31)


def test_period_errors_are_value_errors_for_callers_that_do_not_care() -> None:
    assert issubclass(PeriodError, ReportArgumentError)
    assert issubclass(PeriodError, ValueError)
    assert issubclass(FilterError, ValueError)


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(PeriodError):
        Period(date(2026, 11, 2), date(2026, 11, 1))


def test_labels_say_what_was_asked_and_which_dates() -> None:
    assert parse_period("today", TODAY).label == "today (2026-11-23)"
    assert parse_period("7d", TODAY).label == "last 7 days (2026-11-17 – 2026-11-23)"
    assert parse_period("2026-11-01", TODAY).label == "2026-11-01"
    assert parse_period("2026-11-01..2026-11-03", TODAY).label == "2026-11-01 – 2026-11-03"


def test_description_does_not_affect_equality() -> None:
    assert parse_period("1d", TODAY) == parse_period("today", TODAY)


def test_contains_is_inclusive() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 3))
    assert period.contains(date(2026, 11, 1)) and period.contains(date(2026, 11, 3))
    assert not period.contains(date(2026, 11, 4))


# --- UTC bounds --------------------------------------------------------------------------


def test_utc_bounds_are_half_open_local_midnights() -> None:
    start, end = Period(date(2026, 11, 23), date(2026, 11, 23)).utc_bounds(BERLIN)
    assert start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_spring_forward_day_is_23_hours_long() -> None:
    start, end = Period(date(2026, 3, 29), date(2026, 3, 29)).utc_bounds(BERLIN)
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)


def test_fall_back_day_is_25_hours_long() -> None:
    start, end = Period(date(2026, 10, 25), date(2026, 10, 25)).utc_bounds(BERLIN)
    assert end - start == timedelta(hours=25)


def test_a_skipped_midnight_starts_the_day_at_its_first_existing_instant() -> None:
    # Havana jumps from 00:00 to 01:00 on 2026-03-08: local midnight does not exist.
    havana = ZoneInfo("America/Havana")
    start, _ = Period(date(2026, 3, 8), date(2026, 3, 8)).utc_bounds(havana)
    assert start.astimezone(havana).replace(tzinfo=None) == datetime(2026, 3, 8, 1, 0)
    assert (start - timedelta(seconds=1)).astimezone(havana).date() == date(2026, 3, 7)


def test_a_repeated_midnight_starts_the_day_at_its_first_occurrence() -> None:
    # Havana falls back from 01:00 to 00:00 on 2026-11-01: midnight happens twice.
    havana = ZoneInfo("America/Havana")
    start, end = Period(date(2026, 11, 1), date(2026, 11, 1)).utc_bounds(havana)
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=25)


ZONES = ["Europe/Berlin", "America/Havana", "America/Santiago", "Australia/Lord_Howe", "UTC"]


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31)),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(ZONES),
)
def test_utc_bounds_cover_exactly_the_local_days(day: date, extra: int, zone: str) -> None:
    tz = ZoneInfo(zone)
    period = Period(day, day + timedelta(days=extra))
    start, end = period.utc_bounds(tz)
    one_second = timedelta(seconds=1)
    assert start.astimezone(tz).date() == period.start
    assert (start - one_second).astimezone(tz).date() == period.start - timedelta(days=1)
    assert (end - one_second).astimezone(tz).date() == period.end
    assert end.astimezone(tz).date() == period.end + timedelta(days=1)


def test_local_today_uses_the_company_time_zone() -> None:
    late_utc = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert local_today(late_utc, BERLIN) == date(2026, 11, 24)
    assert local_today(late_utc, ZoneInfo("UTC")) == date(2026, 11, 23)
    with pytest.raises(ValueError):
        local_today(datetime(2026, 11, 23), BERLIN)


# --- filters -----------------------------------------------------------------------------


def test_event_key_filters_on_event_type() -> None:
    assert parse_filter("event=delivery") == ReportFilter(event_type="delivery")
    assert parse_filter("event_type=ticket_closed") == ReportFilter(event_type="ticket_closed")
    assert parse_filter("EVENT=delivery") == ReportFilter(event_type="delivery")


def test_any_other_key_filters_on_a_customer_attribute() -> None:
    assert parse_filter("plan=pro") == ReportFilter(attribute=("plan", "pro"))
    assert parse_filter("segment=smb") == ReportFilter(attribute=("segment", "smb"))
    assert parse_filter(" region = North Europe ") == ReportFilter(
        attribute=("region", "North Europe")
    )


def test_filter_values_may_contain_equals_signs_and_unicode() -> None:
    assert parse_filter("city=Zürich=ZH") == ReportFilter(attribute=("city", "Zürich=ZH"))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("plan", "not a filter"),
        ("=pro", "not a valid filter name"),
        ("pl an=pro", "not a valid filter name"),
        ("plän=pro", "not a valid filter name"),
        ("k" * 33 + "=v", "not a valid filter name"),
        ("plan=", "needs a value"),
        ("plan=   ", "needs a value"),
        ("plan=" + "x" * 65, "too long"),
        ("plan=a\x00b", "control characters"),
    ],
)
def test_invalid_filters_raise_an_error_that_explains_itself(text: str, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert fragment in str(info.value)


def test_filter_limits_are_inclusive() -> None:
    assert parse_filter("k" * 32 + "=" + "v" * 64).attribute == ("k" * 32, "v" * 64)


def test_filters_combine_one_event_and_one_attribute() -> None:
    combined = parse_filters(["event=delivery", "plan=pro"])
    assert combined == ReportFilter(event_type="delivery", attribute=("plan", "pro"))
    assert combined.label == "event=delivery, plan=pro"
    assert parse_filters([]).is_empty
    assert parse_filters([]).label == ""
    with pytest.raises(FilterError):
        parse_filters(["event=a", "event_type=b"])
    with pytest.raises(FilterError):
        parse_filters(["plan=pro", "segment=smb"])


def test_report_args_take_a_period_and_filters_in_any_order() -> None:
    period, report_filter = parse_report_args(["plan=pro", "30d"], TODAY)
    assert period == parse_period("30d", TODAY)
    assert report_filter == ReportFilter(attribute=("plan", "pro"))
    assert parse_report_args([], TODAY) == (parse_period("7d", TODAY), ReportFilter())
    with pytest.raises(PeriodError):
        parse_report_args(["7d", "30d"], TODAY)
