"""When the daily digest is due, decided by a pure function of the clock and the record.

The digest for local day D is posted at ``at_time`` on day D + 1 (in the configured zone).
The JobQueue fires at that moment, and also once at start-up; both ask
:func:`due_digest_days`, so a digest whose moment passed while the bot was down is sent
when it comes back, and the database record (``storage.digests``) makes sure no day's
digest is sent twice, whichever run gets there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Cadence", "digest_moment", "due_digest_days", "due_periods", "latest_due_day"]


def digest_moment(day: date, tz: ZoneInfo, at_time: time) -> datetime:
    """The aware UTC instant at which ``day``'s digest is due (``at_time`` on the next day).

    A wall time skipped by a DST jump maps to the instant after the jump; an ambiguous one
    (clocks going back) to its first occurrence.
    """
    local = datetime.combine(day + timedelta(days=1), at_time.replace(tzinfo=None), tzinfo=tz)
    # Round-trip through UTC normalises a wall time that does not exist on that day.
    return local.astimezone(UTC)


def latest_due_day(now: datetime, tz: ZoneInfo, at_time: time) -> date:
    """The latest local day whose digest moment is at or before ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    # Compare as UTC instants: aware datetimes sharing a tzinfo compare by wall time.
    if now.astimezone(UTC) >= digest_moment(yesterday, tz, at_time):
        return yesterday
    return yesterday - timedelta(days=1)


def due_digest_days(
    now: datetime,
    tz: ZoneInfo,
    at_time: time,
    last_sent_day: date | None,
    max_days: int = 3,
) -> list[date]:
    """The days whose digest is due at ``now`` and not yet sent, oldest first.

    ``last_sent_day`` is the latest day already claimed (or the baseline recorded on the
    first start); ``None`` means nothing is recorded, and then only the latest due day is
    returned. After a long downtime only the latest ``max_days`` missed days are returned:
    older ones are stale and would flood the admin chat.
    """
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    latest = latest_due_day(now, tz, at_time)
    if last_sent_day is None:
        return [latest]
    if last_sent_day >= latest:
        return []
    first = max(last_sent_day + timedelta(days=1), latest - timedelta(days=max_days - 1))
    return [first + timedelta(days=i) for i in range((latest - first).days + 1)]


# --- weekly and monthly digests ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cadence:
    """A digest over a longer period: ``"week"`` (posted on ``weekday``, 0 = Monday, for the
    seven days before) or ``"month"`` (posted on day ``day`` of a month, for the calendar
    month before). Periods are named by their first local day."""

    kind: str
    weekday: int = 0
    day: int = 1

    def __post_init__(self) -> None:
        if self.kind not in {"week", "month"}:
            raise ValueError(f"unknown cadence {self.kind!r}")
        if not 0 <= self.weekday <= 6 or not 1 <= self.day <= 28:
            raise ValueError("weekday must be 0-6 and day 1-28")

    def send_date(self, start: date) -> date:
        """The local date on which the period starting ``start`` is posted."""
        if self.kind == "week":
            return start + timedelta(days=7)
        following = _add_months(start, 1)
        return following.replace(day=self.day)

    def period_end(self, start: date) -> date:
        """The last local day of the period starting ``start``."""
        if self.kind == "week":
            return start + timedelta(days=6)
        return _add_months(start, 1) - timedelta(days=1)

    def previous(self, start: date) -> date:
        """The start of the period before."""
        return start - timedelta(days=7) if self.kind == "week" else _add_months(start, -1)

    def latest_due(self, now: datetime, tz: ZoneInfo, at_time: time) -> date:
        """The start of the latest period whose posting moment is at or before ``now``."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        today = now.astimezone(tz).date()
        if self.kind == "week":
            start = today - timedelta(days=(today.weekday() - self.weekday) % 7 + 7)
        else:
            start = _add_months(today.replace(day=1), -1 if today.day >= self.day else -2)
        moment = digest_moment(self.send_date(start) - timedelta(days=1), tz, at_time)
        if now.astimezone(UTC) < moment:
            start = self.previous(start)
        return start


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def due_periods(
    now: datetime,
    tz: ZoneInfo,
    at_time: time,
    cadence: Cadence,
    last_start: date | None,
    max_periods: int = 1,
) -> list[date]:
    """Starts of the periods of ``cadence`` whose digest is due at ``now`` and not yet
    recorded (``last_start``: the latest claimed, or the baseline), oldest first; after a
    long downtime only the latest ``max_periods``, like :func:`due_digest_days`."""
    if max_periods < 1:
        raise ValueError("max_periods must be at least 1")
    latest = cadence.latest_due(now, tz, at_time)
    if last_start is None:
        return [latest]
    due: list[date] = []
    start = latest
    while start > last_start and len(due) < max_periods:
        due.append(start)
        start = cadence.previous(start)
    return sorted(due)
