"""Validating what ops systems send (API bodies, CLI arguments, CSV rows).

Each check collects every problem as a :class:`FieldError` naming the field and why, so an
integrator fixes a request in one round instead of one field at a time. Nothing is stored
unless the whole request is valid.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.contact_rules import TIMEZONE_ATTRIBUTE
from bot.core.linking import validate_customer_id
from bot.core.records import SurveyKind

MAX_PROPERTIES = 50
MAX_PROPERTY_VALUE_CHARS = 500
MAX_EVENT_ID_CHARS = 128
MAX_DELAY = timedelta(days=90)
MAX_SEND_AHEAD = timedelta(days=365)
# occurred_at may be a little ahead of our clock (the caller's clock may run fast).
MAX_CLOCK_SKEW = timedelta(minutes=5)
_PROPERTY_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
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


def check_customer_id(value: Any, name: str, errors: list[FieldError]) -> str | None:
    """A customer id as :func:`bot.core.linking.validate_customer_id` accepts it."""
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be a string"))
        return None
    try:
        return validate_customer_id(value)
    except ValueError as exc:
        errors.append(FieldError(name, str(exc)))
        return None


def check_property(key: str, value: Any, name: str, errors: list[FieldError]) -> Any:
    """One customer property: a short string, a finite number, a boolean or null."""
    if not _PROPERTY_KEY.fullmatch(key):
        errors.append(
            FieldError(name, "name must start with a letter and have 1-64 of A-Z a-z 0-9 _")
        )
        return None
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(FieldError(name, "must be a finite number"))
            return None
        # Beyond ±2^53 a number loses precision in JSON readers (and any number, whole
        # or not, is one JSON type: the limit holds for floats too).
        if abs(value) > 2**53:
            errors.append(FieldError(name, "number is too large (beyond ±2^53)"))
            return None
        return value
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be a string, number, boolean or null"))
        return None
    if len(value) > MAX_PROPERTY_VALUE_CHARS:
        errors.append(FieldError(name, f"must be at most {MAX_PROPERTY_VALUE_CHARS} characters"))
        return None
    if _has_controls(value):
        errors.append(FieldError(name, "must not contain control characters"))
        return None
    if key == TIMEZONE_ATTRIBUTE:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            errors.append(FieldError(name, "must be an IANA time zone such as Europe/Berlin"))
            return None
    return value


def check_properties(value: Any, name: str, errors: list[FieldError]) -> dict[str, Any]:
    """A flat object of customer properties."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError(name, "must be an object"))
        return {}
    if len(value) > MAX_PROPERTIES:
        errors.append(FieldError(name, f"at most {MAX_PROPERTIES} properties"))
        return {}
    result: dict[str, Any] = {}
    for key, item in value.items():
        count = len(errors)
        checked = check_property(key, item, f"{name}.{key}", errors)
        if len(errors) == count:
            result[key] = checked
    return result


def parse_timestamp(value: Any, name: str, errors: list[FieldError]) -> datetime | None:
    """An RFC 3339 date-time with an offset (``2024-05-01T12:00:00Z``), as aware UTC."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        errors.append(
            FieldError(
                name, "must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T12:00:00Z"
            )
        )
        return None
    text = value.replace("z", "Z").replace("Z", "+00:00")
    # Python reads at most 6 fractional digits; nanoseconds are cut, not rounded.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, "is not a valid date-time"))
        return None
    if not 2000 <= parsed.year <= 9000:
        errors.append(FieldError(name, "year must be between 2000 and 9000"))
        return None
    return parsed.astimezone(UTC)


def check_event_type(value: Any, name: str, errors: list[FieldError]) -> str | None:
    """An event type such as ``delivery.completed``."""
    if not isinstance(value, str) or not _EVENT_TYPE.fullmatch(value):
        errors.append(FieldError(name, "must be 1-64 characters of A-Z a-z 0-9 _ . : -"))
        return None
    return value


def check_event_id(value: Any, name: str, errors: list[FieldError]) -> str | None:
    """An event id (the idempotency key): printable text, at most 128 characters."""
    if not isinstance(value, str) or not value or value != value.strip():
        errors.append(FieldError(name, "must be a non-empty string without outer spaces"))
        return None
    if len(value) > MAX_EVENT_ID_CHARS or _has_controls(value):
        errors.append(
            FieldError(name, f"must be at most {MAX_EVENT_ID_CHARS} printable characters")
        )
        return None
    if value.startswith(RESERVED_EVENT_PREFIX):
        errors.append(FieldError(name, f"ids starting with {RESERVED_EVENT_PREFIX!r} are reserved"))
        return None
    return value


EVENT_FIELDS = frozenset(
    {
        "customer_id",
        "event_type",
        "event_id",
        "occurred_at",
        "properties",
        "kind",
        "delay_seconds",
        "send_at",
    }
)


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


def event_request(
    body: Any, now: datetime, required: RequiredProperties = no_required_properties
) -> EventRequest:
    """Validate a ``POST /v1/events`` body; :class:`ValidationFailed` lists every problem.

    ``required`` names the properties an event type must carry (from the questionnaire).
    """
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("body", "must be a JSON object")])
    for key in sorted(set(body) - EVENT_FIELDS):
        errors.append(FieldError(key, "unknown field"))
    for key in ("customer_id", "event_type", "event_id"):
        if key not in body:
            errors.append(FieldError(key, "is required"))
    customer_id = (
        check_customer_id(body["customer_id"], "customer_id", errors)
        if ("customer_id" in body)
        else None
    )
    event_type = (
        check_event_type(body["event_type"], "event_type", errors)
        if ("event_type" in body)
        else None
    )
    event_id = check_event_id(body["event_id"], "event_id", errors) if "event_id" in body else None
    occurred_at = None
    if body.get("occurred_at") is not None:
        occurred_at = parse_timestamp(body["occurred_at"], "occurred_at", errors)
        if occurred_at is not None and occurred_at > now + MAX_CLOCK_SKEW:
            errors.append(FieldError("occurred_at", "is in the future"))
    properties = check_properties(body.get("properties"), "properties", errors)
    if event_type is not None:
        check_required_properties(event_type, properties, required, errors)
    kind = SurveyKind.TRANSACTIONAL
    if body.get("kind") is not None:
        try:
            kind = SurveyKind(body["kind"])
        except ValueError:
            errors.append(
                FieldError("kind", "must be one of " + ", ".join(k.value for k in SurveyKind))
            )
    delay = None
    raw_delay = body.get("delay_seconds")
    if isinstance(raw_delay, float) and raw_delay.is_integer():
        raw_delay = int(raw_delay)  # 60.0 is a whole number, as JSON Schema's "integer" says
    if raw_delay is not None:
        if isinstance(raw_delay, bool) or not isinstance(raw_delay, int):
            errors.append(FieldError("delay_seconds", "must be a whole number of seconds"))
        elif not 0 <= raw_delay <= MAX_DELAY.total_seconds():
            errors.append(
                FieldError("delay_seconds", f"must be from 0 to {int(MAX_DELAY.total_seconds())}")
            )
        else:
            delay = timedelta(seconds=raw_delay)
    send_at = None
    if body.get("send_at") is not None:
        if raw_delay is not None:
            errors.append(FieldError("send_at", "give either send_at or delay_seconds, not both"))
        send_at = parse_timestamp(body["send_at"], "send_at", errors)
        if send_at is not None and send_at > now + MAX_SEND_AHEAD:
            errors.append(FieldError("send_at", "is more than 365 days ahead"))
    if errors:
        raise ValidationFailed(errors)
    assert customer_id is not None and event_type is not None and event_id is not None
    return EventRequest(
        customer_id=customer_id,
        event_type=event_type,
        event_id=event_id,
        occurred_at=occurred_at,
        properties=properties,
        kind=kind,
        delay=delay,
        send_at=send_at,
    )


CUSTOMER_FIELDS = frozenset({"customer_id", "properties"})


def customer_request(body: Any) -> tuple[str, dict[str, Any]]:
    """Validate a ``POST /v1/customers`` body: (customer id, properties)."""
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("body", "must be a JSON object")])
    errors = [FieldError(k, "unknown field") for k in sorted(set(body) - CUSTOMER_FIELDS)]
    customer_id = None
    if "customer_id" not in body:
        errors.append(FieldError("customer_id", "is required"))
    else:
        customer_id = check_customer_id(body["customer_id"], "customer_id", errors)
    properties = check_properties(body.get("properties"), "properties", errors)
    if errors:
        raise ValidationFailed(errors)
    assert customer_id is not None
    return customer_id, properties
