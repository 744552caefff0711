"""Parsing of the admin commands' arguments: report periods and filters.

``/nps 7d plan=pro`` or ``/export 2026-11-01..2026-11-30 event=delivery``. Everything is
relative to a caller-supplied "today" (a local date in the company's time zone), so parsing
is pure and testable; :meth:`Period.utc_bounds` turns local days into the UTC instants the
database stores.

Errors are :class:`PeriodError` / :class:`FilterError` whose message is written for the
admin who typed the command (it can be shown as is, after HTML escaping).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.texts import AdminTexts, TextError, TextRef

__all__ = [
    "MAX_PERIOD_DAYS",
    "FilterError",
    "Period",
    "PeriodError",
    "ReportArgumentError",
    "ReportFilter",
    "local_today",
    "parse_filter",
    "parse_filters",
    "parse_period",
    "parse_report_args",
    "period_label",
    "previous_period",
]

#: Longest period a report or export may cover (a leap year).
MAX_PERIOD_DAYS = 366
MAX_FILTER_VALUE_LENGTH = 64

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAYS_RE = re.compile(r"(\d{1,4})d")
_KEY_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
_EVENT_KEYS = frozenset({"event", "event_type"})

_PERIOD_HELP = TextRef("period_help")
_FILTER_HELP = TextRef("filter_help")


class ReportArgumentError(TextError):
    """An admin command argument that cannot be understood; the message (a catalog text,
    rendered in the admin language by :meth:`bot.core.texts.AdminTexts.error`) is for the admin."""


class PeriodError(ReportArgumentError):
    """The period argument is invalid."""


class FilterError(ReportArgumentError):
    """The filter argument is invalid."""


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of local calendar days, ``start`` to ``end``.

    ``description`` names how the period was asked for ("last 7 days"), in English;
    ``name`` says the same as a catalog key and a number of days, for
    :func:`period_label` in the admin language. Both are presentation only and do not
    take part in equality.
    """

    start: date
    end: date
    description: str | None = field(default=None, compare=False)
    name: tuple[str, int] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise PeriodError(
                "period_reversed", start=self.start.isoformat(), end=self.end.isoformat()
            )

    @property
    def days(self) -> int:
        """Number of calendar days covered (inclusive)."""
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """Human label, e.g. ``"last 7 days (2026-11-17 – 2026-11-23)"``."""
        dates = (
            self.start.isoformat()
            if self.start == self.end
            else f"{self.start.isoformat()} – {self.end.isoformat()}"
        )
        return f"{self.description} ({dates})" if self.description else dates

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Half-open ``[from, to)`` aware UTC instants: local midnight starting ``start`` to
        local midnight after ``end``.

        DST-correct: each bound is converted with the offset in force on its own day, so a
        period spanning a change is 23 or 25 hours longer or shorter as the wall clock says.
        """
        return _local_midnight_utc(self.start, tz), _local_midnight_utc(
            self.end + timedelta(days=1), tz
        )

    def contains(self, day: date) -> bool:
        """True when ``day`` is one of the period's days."""
        return self.start <= day <= self.end


def _local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    # fold=0 picks the first occurrence of an ambiguous midnight (the start of the day), and
    # for a midnight skipped by a DST jump zoneinfo applies the pre-transition offset, which
    # lands on the first instant that exists on that day. Either way the bound is the true
    # beginning of the local day.
    local = datetime.combine(day, time(0), tzinfo=tz)
    return local.astimezone(UTC)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    """The local calendar date in ``tz`` at the aware instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz).date()


def _parse_date(text: str) -> date:
    # date.fromisoformat accepts other ISO forms (20261123, week dates); the command
    # promises exactly YYYY-MM-DD, so check the shape first.
    if not _DATE_RE.fullmatch(text):
        raise PeriodError("period_not_a_date", text=text, help=_PERIOD_HELP)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError("period_bad_date", text=text) from None


def _last_days(count: int, today: date) -> Period:
    description = "today" if count == 1 else f"last {count} days"
    name = ("period_today", 1) if count == 1 else ("period_last_days", count)
    return Period(today - timedelta(days=count - 1), today, description, name)


def parse_period(text: str | None, today: date, default: str = "7d") -> Period:
    """Parse a period argument relative to the local date ``today``.

    Accepted (case-insensitive, surrounding spaces ignored): ``today``, ``yesterday``,
    ``Nd`` for the last N days *including today* (1 <= N <= 366; ``7d``, ``30d``...),
    ``YYYY-MM-DD`` (one day) and ``YYYY-MM-DD..YYYY-MM-DD`` (inclusive, at most 366 days).
    An empty or missing argument means ``default``. Periods starting after ``today`` are
    rejected: they cannot hold any answer yet. Raises :class:`PeriodError`.
    """
    raw = (text or "").strip() or default
    value = raw.lower()
    if value == "today":
        return Period(today, today, "today", ("period_today", 1))
    if value == "yesterday":
        day = today - timedelta(days=1)
        return Period(day, day, "yesterday", ("period_yesterday", 1))

    days_match = _DAYS_RE.fullmatch(value)
    if days_match:
        count = int(days_match.group(1))
        if not 1 <= count <= MAX_PERIOD_DAYS:
            raise PeriodError("period_days_range", most=MAX_PERIOD_DAYS, count=count)
        return _last_days(count, today)

    if ".." in value:
        first, _, second = value.partition("..")
        start, end = _parse_date(first.strip()), _parse_date(second.strip())
        if start > end:
            raise PeriodError("period_reversed", start=start.isoformat(), end=end.isoformat())
        period = Period(start, end)
    elif _DATE_RE.fullmatch(value):
        day = _parse_date(value)
        period = Period(day, day)
    else:
        raise PeriodError("period_unknown", text=raw[:40], help=_PERIOD_HELP)

    if period.days > MAX_PERIOD_DAYS:
        raise PeriodError("period_too_long", days=period.days, most=MAX_PERIOD_DAYS)
    if period.start > today:
        raise PeriodError("period_in_future", start=period.start.isoformat())
    return period


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Restrict a report to one event type and/or one customer attribute value."""

    event_type: str | None = None
    attribute: tuple[str, str] | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return self.event_type is None and self.attribute is None

    @property
    def label(self) -> str:
        """Human label such as ``"event=delivery, plan=pro"``; empty when nothing is filtered."""
        parts = []
        if self.event_type is not None:
            parts.append(f"event={self.event_type}")
        if self.attribute is not None:
            parts.append(f"{self.attribute[0]}={self.attribute[1]}")
        return ", ".join(parts)


def _split_filter(text: str) -> tuple[str, str]:
    raw = text.strip()
    key, sep, value = raw.partition("=")
    key, value = key.strip(), value.strip()
    if not sep:
        raise FilterError("filter_not_a_filter", text=raw[:40], help=_FILTER_HELP)
    if not _KEY_RE.fullmatch(key):
        raise FilterError("filter_bad_name", key=key[:40], help=_FILTER_HELP)
    if not value:
        raise FilterError("filter_no_value", key=key, help=_FILTER_HELP)
    if len(value) > MAX_FILTER_VALUE_LENGTH:
        raise FilterError(
            "filter_value_too_long", key=key, length=len(value), most=MAX_FILTER_VALUE_LENGTH
        )
    # Control characters cannot come from a sensible command and would corrupt reports.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise FilterError("filter_control_characters", key=key)
    return key, value


def parse_filter(text: str) -> ReportFilter:
    """Parse one ``key=value`` filter.

    ``event=...`` or ``event_type=...`` (key case-insensitive) filters on the event type;
    any other key matching ``[A-Za-z0-9_]{1,32}`` filters on that customer attribute.
    The value is non-empty, at most 64 characters, surrounding spaces removed.
    Raises :class:`FilterError`.
    """
    key, value = _split_filter(text)
    if key.lower() in _EVENT_KEYS:
        return ReportFilter(event_type=value)
    return ReportFilter(attribute=(key, value))


def parse_filters(texts: Sequence[str]) -> ReportFilter:
    """Combine several ``key=value`` filters: at most one event type and one attribute."""
    event_type: str | None = None
    attribute: tuple[str, str] | None = None
    for text in texts:
        parsed = parse_filter(text)
        if parsed.event_type is not None:
            if event_type is not None:
                raise FilterError("filter_one_event")
            event_type = parsed.event_type
        if parsed.attribute is not None:
            if attribute is not None:
                raise FilterError("filter_one_attribute")
            attribute = parsed.attribute
    return ReportFilter(event_type, attribute)


def parse_report_args(
    args: Sequence[str], today: date, default_period: str = "7d"
) -> tuple[Period, ReportFilter]:
    """Parse a command's arguments, e.g. ``["30d", "plan=pro"]``, in any order.

    Arguments containing ``=`` are filters; at most one other argument, the period.
    """
    filters = [arg for arg in args if "=" in arg]
    periods = [arg for arg in args if "=" not in arg and arg.strip()]
    if len(periods) > 1:
        raise PeriodError("period_at_most_one", help=_PERIOD_HELP)
    period = parse_period(periods[0] if periods else None, today, default_period)
    return period, parse_filters(filters)


def period_label(period: Period, texts: AdminTexts) -> str:
    """:attr:`Period.label` in the admin language: ``"最近 7 天（2026-11-17 – 2026-11-23）"``."""
    dates = (
        period.start.isoformat()
        if period.start == period.end
        else f"{period.start.isoformat()} – {period.end.isoformat()}"
    )
    if period.name is not None:
        key, days = period.name
        description = texts.render(key, days=days)
    elif period.description:
        description = period.description
    else:
        return dates
    return texts.render("period_label", description=description, dates=dates)


def previous_period(period: Period) -> Period:
    """The period of the same length just before ``period`` ("7 days before")."""
    days = period.days
    return Period(
        period.start - timedelta(days=days),
        period.start - timedelta(days=1),
        f"{days} day{'s' if days != 1 else ''} before",
        ("period_day_before" if days == 1 else "period_days_before", days),
    )
