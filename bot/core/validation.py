"""The rules for what ops systems send (API bodies, CLI arguments, CSV rows).

Each rule (``event_id_value``, ``property_value``, ``timestamp``...) returns the value it
accepts or raises ValueError saying why not; the ops API's pydantic models
(``bot/adapters/ops_api/models.py``) call them from their validators, and the ``check_*``
helpers collect their verdicts as :class:`FieldError` for the CSV import. Either way every
problem is reported, so an integrator fixes a request in one round instead of one field at a
time, and nothing is stored unless the whole request is valid.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.contact_rules import TIMEZONE_ATTRIBUTE
from bot.core.linking import validate_customer_id
from bot.core.records import SurveyKind

MAX_PROPERTIES = 50
MAX_PROPERTY_VALUE_CHARS = 500
MAX_EVENT_ID_CHARS = 128
MAX_DELAY = timedelta(days=90)
MAX_DELAY_SECONDS = int(MAX_DELAY.total_seconds())
MAX_PROPERTY_NUMBER = 2**53
MAX_SEND_AHEAD = timedelta(days=365)
# occurred_at may be a little ahead of our clock (the caller's clock may run fast).
MAX_CLOCK_SKEW = timedelta(minutes=5)
_PROPERTY_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
T = TypeVar("T")
# Relationship surveys use event ids of this form; ops systems must not forge them.
RESERVED_EVENT_PREFIX = "relationship:"


@dataclass(frozen=True)
class FieldError:
    """One invalid field and why."""

    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        """The shape used in 422 answers."""
        return {"field": self.field, "message": self.message}


class ValidationFailed(ValueError):
    """A request with one or more invalid fields."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class EventRequest:
    """A validated service event."""

    customer_id: str
    event_type: str
    event_id: str
    occurred_at: datetime | None = None
    properties: Mapping[str, Any] | None = None
    kind: SurveyKind = SurveyKind.TRANSACTIONAL
    delay: timedelta | None = None
    send_at: datetime | None = None


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def event_type_name(value: Any) -> str:
    """An event type such as ``delivery.completed``; ValueError says why not."""
    if not isinstance(value, str) or not _EVENT_TYPE.fullmatch(value):
        raise ValueError("must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return value


def event_id_value(value: Any) -> str:
    """An event id (the idempotency key): printable text, at most 128 characters, not in
    the reserved ``relationship:`` namespace; ValueError says why not."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError("must be a non-empty string without outer spaces")
    if len(value) > MAX_EVENT_ID_CHARS or _has_controls(value):
        raise ValueError(f"must be at most {MAX_EVENT_ID_CHARS} printable characters")
    if value.startswith(RESERVED_EVENT_PREFIX):
        raise ValueError(f"ids starting with {RESERVED_EVENT_PREFIX!r} are reserved")
    return value


def customer_id_value(value: Any) -> str:
    """A customer id as :func:`bot.core.linking.validate_customer_id` accepts it (NFC)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return validate_customer_id(value)


def property_name(key: Any) -> str:
    """A customer property's name; ValueError says why not."""
    if not isinstance(key, str) or not _PROPERTY_KEY.fullmatch(key):
        raise ValueError("name must start with a letter and have 1-64 of A-Z a-z 0-9 _")
    return key


def property_value(value: Any) -> Any:
    """A customer property's value: a short string without control characters, a finite
    number within ±2^53, a boolean or null; ValueError says why not."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        # Beyond ±2^53 a number loses precision in JSON readers (and any number, whole
        # or not, is one JSON type: the limit holds for floats too).
        if abs(value) > MAX_PROPERTY_NUMBER:
            raise ValueError("number is too large (beyond ±2^53)")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string, number, boolean or null")
    if len(value) > MAX_PROPERTY_VALUE_CHARS:
        raise ValueError(f"must be at most {MAX_PROPERTY_VALUE_CHARS} characters")
    if _has_controls(value):
        raise ValueError("must not contain control characters")
    return value


def time_zone_name(value: Any) -> str:
    """An IANA time zone name known to this system (the ``timezone`` property)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ValueError("must be an IANA time zone such as Europe/Berlin") from None
    return str(value)


def timestamp(value: Any) -> datetime:
    """An RFC 3339 date-time with an offset (``2024-05-01T12:00:00Z``), as aware UTC, in
    the years 2000-9000; ValueError says why not."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T12:00:00Z")
    text = value.replace("z", "Z").replace("Z", "+00:00")
    # Python reads at most 6 fractional digits; nanoseconds are cut, not rounded.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a valid date-time") from None
    if not 2000 <= parsed.year <= 9000:
        raise ValueError("year must be between 2000 and 9000")
    return parsed.astimezone(UTC)


def survey_kind(value: Any) -> SurveyKind:
    """A survey kind by its value (``transactional``...); ValueError says why not."""
    try:
        return SurveyKind(value)
    except ValueError:
        raise ValueError("must be one of " + ", ".join(k.value for k in SurveyKind)) from None


def delay_seconds(value: Any) -> int:
    """A delay in whole seconds, 0 to 90 days (60.0 counts as 60, as JSON Schema's
    ``integer`` says); ValueError says why not."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number of seconds")
    if not 0 <= value <= MAX_DELAY_SECONDS:
        raise ValueError(f"must be from 0 to {MAX_DELAY_SECONDS}")
    return value


def check_customer_id(value: Any, name: str, errors: list[FieldError]) -> str | None:
    """A customer id as :func:`bot.core.linking.validate_customer_id` accepts it."""
    return _collect(customer_id_value, value, name, errors)


def check_property(key: str, value: Any, name: str, errors: list[FieldError]) -> Any:
    """One customer property: a short string, a finite number, a boolean or null."""
    if _collect(property_name, key, name, errors) is None:
        return None
    checked = _collect(property_value, value, name, errors)
    if key == TIMEZONE_ATTRIBUTE and isinstance(checked, str):
        return _collect(time_zone_name, checked, name, errors)
    return checked


def parse_timestamp(value: Any, name: str, errors: list[FieldError]) -> datetime | None:
    """An RFC 3339 date-time with an offset (``2024-05-01T12:00:00Z``), as aware UTC."""
    return _collect(timestamp, value, name, errors)


def _collect(rule: Callable[[Any], T], value: Any, name: str, errors: list[FieldError]) -> T | None:
    """``rule(value)``, or None with its ValueError added to ``errors`` as ``name``'s."""
    try:
        return rule(value)
    except ValueError as exc:
        errors.append(FieldError(name, str(exc)))
        return None


RequiredProperties = Callable[[str], Sequence[str]]


def no_required_properties(event_type: str) -> Sequence[str]:
    """Without a questionnaire, no event type requires properties."""
    return ()


def check_required_properties(
    event_type: str,
    properties: Mapping[str, Any],
    required: RequiredProperties,
    errors: list[FieldError],
) -> None:
    """Properties the questionnaire declares for ``event_type`` (its question uses them as
    placeholders) must come with the event, non-empty: a survey never shows a broken
    placeholder, and a stale value from an earlier event is no substitute."""
    for name in required(event_type):
        value = properties.get(name)
        if value is None or not str(value).strip():
            errors.append(
                FieldError(
                    f"properties.{name}",
                    f"is required for event type {event_type!r} (the questionnaire's "
                    "question uses it)",
                )
            )
