"""Weekly and monthly digests: when each period is due (bot/core/digest_schedule.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.digest_schedule import Cadence, due_periods

SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE = time(9, 0)
WEEKLY = Cadence("week", weekday=0)  # Mondays, for Monday..Sunday before
MONTHLY = Cadence("month", day=2)  # the 2nd, for the calendar month before


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "cadence", "expected"),
    [
        (local(2024, 6, 10, 8, 59), WEEKLY, date(2024, 5, 27)),  # Monday before nine
        (local(2024, 6, 10, 9, 0), WEEKLY, date(2024, 6, 3)),  # Monday at nine
        (local(2024, 6, 16, 23, 0), WEEKLY, date(2024, 6, 3)),  # Sunday
        (local(2024, 3, 2, 8, 0), MONTHLY, date(2024, 1, 1)),  # the 2nd before nine
        (local(2024, 3, 2, 9, 0), MONTHLY, date(2024, 2, 1)),
        (local(2024, 3, 1, 12, 0), MONTHLY, date(2024, 1, 1)),  # the 1st: not yet
        (local(2024, 1, 5, 9, 0), MONTHLY, date(2023, 12, 1)),  # across the year
    ],
)
def test_the_latest_due_period(now: datetime, cadence: Cadence, expected: date) -> None:
    assert due_periods(now, SHANGHAI, NINE, cadence, None) == [expected]


def test_periods_are_due_once_and_caught_up_after_downtime() -> None:
    now = local(2024, 6, 10, 9, 0)
    assert due_periods(now, SHANGHAI, NINE, WEEKLY, date(2024, 6, 3)) == []
    assert due_periods(now, SHANGHAI, NINE, WEEKLY, date(2024, 5, 27)) == [date(2024, 6, 3)]
    # Down for three weeks: the latest two are caught up with a limit of two.
    assert due_periods(now, SHANGHAI, NINE, WEEKLY, date(2024, 5, 6), 2) == [
        date(2024, 5, 27),
        date(2024, 6, 3),
    ]
    assert due_periods(local(2024, 5, 2, 9), SHANGHAI, NINE, MONTHLY, date(2024, 2, 1), 3) == [
        date(2024, 3, 1),
        date(2024, 4, 1),
    ]


def test_period_bounds() -> None:
    assert WEEKLY.period_end(date(2024, 6, 3)) == date(2024, 6, 9)
    assert MONTHLY.period_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert MONTHLY.send_date(date(2024, 12, 1)) == date(2025, 1, 2)
    with pytest.raises(ValueError, match="day"):
        Cadence("month", day=31)
