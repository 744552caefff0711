"""When the daily digest is due, decided by a pure function of the clock and the record.

The digest for local day D is posted at ``at_time`` on day D + 1 (in the configured zone).
The JobQueue fires at that moment, and also once at start-up; both ask
:func:`due_digest_days`, so a digest whose moment passed while the bot was down is sent
when it comes back, and the database record (``storage.digests``) makes sure no day's
digest is sent twice, whichever run gets there first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["digest_moment", "due_digest_days", "latest_due_day"]


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
