"""Contact rules as pure functions of ``now``: when a survey may be sent, and whether at all.

Nothing here reads a clock or the database, so every rule is tested directly with chosen
times (daylight-saving transitions included) and the callers pass what they stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The customer attribute that names their IANA time zone (e.g. "Europe/Berlin").
TIMEZONE_ATTRIBUTE = "timezone"


@dataclass(frozen=True)
class Contact:
    """A survey that reached, or is queued to reach, the customer."""

    at: datetime  # when it was sent, or when it is planned to be sent
    event_type: str | None


@dataclass(frozen=True)
class QuietHours:
    """Local times between which nothing is sent; ``start > end`` spans midnight."""

    start: time
    end: time


@dataclass(frozen=True)
class ContactRules:
    """The rules in force (the settings build them: ``OpsSettings.contact_rules``)."""

    default_tz: ZoneInfo
    interval: timedelta = timedelta(days=30)
    interval_by_event: Mapping[str, timedelta] = field(default_factory=dict)
    event_delays: Mapping[str, timedelta] = field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    expiry: timedelta = timedelta(hours=72)
    reminder_after: timedelta | None = timedelta(hours=24)


def customer_timezone(attributes: Mapping[str, Any], default: ZoneInfo) -> ZoneInfo:
    """The customer's time zone from their ``timezone`` attribute, else ``default``.

    Attributes come from outside systems, so an unknown or malformed name falls back to the
    bot's zone rather than failing the send.
    """
    name = attributes.get(TIMEZONE_ATTRIBUTE)
    if not isinstance(name, str) or not name or len(name) > 64:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return default


def _in_window(t: time, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= t < quiet.end
    return t >= quiet.start or t < quiet.end  # the window spans midnight


def in_quiet_hours(moment: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> bool:
    """Whether ``moment`` falls in the quiet hours, read on the wall clock of ``tz``."""
    if quiet is None:
        return False
    return _in_window(moment.astimezone(tz).time().replace(tzinfo=None), quiet)


def end_of_quiet_hours(moment: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """``moment`` itself if sending is allowed then, else the instant the quiet hours end."""
    if quiet is None or not in_quiet_hours(moment, quiet, tz):
        return moment
    local = moment.astimezone(tz)
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day += timedelta(days=1)  # evening part of a window spanning midnight
    # A wall time in a DST gap resolves (fold=0) to the instant after the gap, still past
    # the window; an ambiguous one to its first occurrence. Both are correct ends.
    end = datetime.combine(day, quiet.end, tzinfo=tz)
    return max(end, moment)


def planned_send_time(
    now: datetime,
    rules: ContactRules,
    tz: ZoneInfo,
    *,
    event_type: str | None = None,
    occurred_at: datetime | None = None,
    delay: timedelta | None = None,
    send_at: datetime | None = None,
) -> datetime:
    """When a survey for this event should go out.

    An explicit ``send_at`` wins; otherwise the delay (explicit, else configured for the
    event type, else none) counts from when the event occurred. Never earlier than ``now``,
    and moved out of the customer's quiet hours.
    """
    if send_at is not None:
        planned = send_at
    else:
        if delay is None:
            delay = rules.event_delays.get(event_type or "", timedelta(0))
        planned = (occurred_at or now) + delay
    return end_of_quiet_hours(max(planned, now), rules.quiet_hours, tz)


def contact_window(rules: ContactRules, event_type: str | None) -> tuple[timedelta, bool]:
    """(minimum gap between surveys, whether only surveys of the same event type count)."""
    if event_type is not None and event_type in rules.interval_by_event:
        return rules.interval_by_event[event_type], True
    return rules.interval, False


def longest_window(rules: ContactRules) -> timedelta:
    """The widest gap any rule asks for (how far back callers must look)."""
    return max([rules.interval, *rules.interval_by_event.values()])


def frequency_allows(
    planned: datetime,
    event_type: str | None,
    contacts: Iterable[Contact],
    rules: ContactRules,
) -> bool:
    """Whether a survey at ``planned`` keeps at least the configured gap to every other
    survey of this customer (sent ones and queued ones, before or after ``planned``).

    With an interval configured for ``event_type``, only surveys of that type count, and
    that interval replaces the global one.
    """
    window, same_type_only = contact_window(rules, event_type)
    if window <= timedelta(0):
        return True
    for contact in contacts:
        if same_type_only and contact.event_type != event_type:
            continue
        if abs(planned - contact.at) < window:
            return False
    return True


def reminder_due(sent_at: datetime, now: datetime, rules: ContactRules, tz: ZoneInfo) -> bool:
    """Whether a survey sent at ``sent_at`` and still unanswered gets its reminder now."""
    if rules.reminder_after is None:
        return False
    if now < sent_at + rules.reminder_after or now >= sent_at + rules.expiry:
        return False
    return not in_quiet_hours(now, rules.quiet_hours, tz)


def expired(sent_at: datetime, now: datetime, rules: ContactRules) -> bool:
    """Whether an unanswered survey sent at ``sent_at`` has closed."""
    return now >= sent_at + rules.expiry
