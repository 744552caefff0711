"""Settings of the ops API and contact rules (``NPSBOT_*`` variables, see .env.example)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, model_validator

from bot.core.contact_rules import ContactRules, QuietHours
from bot.settings.errors import InvalidSetting
from bot.settings.parsing import SECTION_CONFIG, int_range, parsed, var

T = TypeVar("T")

# Scopes a bearer token has when none are listed (see docs/ops-api.md).
SCOPES = frozenset({"events", "customers", "read"})
# Every scope a token can be given. ``erase`` (DELETE /v1/customers/{id}) destroys data for
# good, so no token has it unless it is listed explicitly (token:erase).
ALL_SCOPES = SCOPES | {"erase"}
MIN_TOKEN_CHARS = 24
_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/=-]+$")
_EVENT_TYPE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DURATION_RE = re.compile(r"^(\d{1,6})([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_OFF = ("off", "none", "0")


@dataclass(frozen=True)
class ApiToken:
    """A bearer token and the scopes it grants (``repr`` hides it, and so does SecretStr)."""

    secret: SecretStr = field(repr=False)
    scopes: frozenset[str]


def parse_duration(raw: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``3d`` (whole numbers)."""
    match = _DURATION_RE.fullmatch(raw.strip())
    if not match:
        raise ValueError(f"expected a duration such as 90s, 15m, 2h or 3d, got {raw!r}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _event_type(raw: str) -> str:
    if not _EVENT_TYPE_RE.fullmatch(raw):
        raise ValueError(f"event type {raw!r} must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return raw


def _per_event(parse_value: Callable[[str], T]) -> Callable[[str], dict[str, T]]:
    """``type=value,type=value`` into a dict, each value parsed with ``parse_value``."""

    def parse(raw: str) -> dict[str, T]:
        result: dict[str, T] = {}
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"expected event_type=value pairs, got {part!r}")
            name = _event_type(name.strip())
            if name in result:
                raise ValueError(f"event type {name!r} is given twice")
            result[name] = parse_value(value.strip())
        return result

    return parse


def _days(raw: str) -> timedelta:
    return timedelta(days=int_range(0, 3650)(raw))


def _hours(raw: str) -> timedelta:
    return timedelta(hours=int_range(1, 8760)(raw))


def _optional_hours(raw: str) -> timedelta | None:
    if raw.lower() in _OFF:
        return None
    return _hours(raw)


def _optional_days(raw: str) -> timedelta | None:
    if raw.lower() in _OFF:
        return None
    return timedelta(days=int_range(1, 3650)(raw))


def _clock_time(raw: str) -> time:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw.strip())
    if not match:
        raise ValueError(f"expected a time such as 21:00, got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _quiet_hours(raw: str) -> QuietHours | None:
    if raw.lower() in _OFF:
        return None
    start, sep, end = raw.partition("-")
    if not sep:
        raise ValueError(f"expected HH:MM-HH:MM (e.g. 21:00-09:00) or off, got {raw!r}")
    quiet = QuietHours(_clock_time(start), _clock_time(end))
    if quiet.start == quiet.end:
        raise ValueError("start and end are equal; use off to disable quiet hours")
    return quiet


def _tokens(raw: str) -> tuple[ApiToken, ...]:
    tokens: list[ApiToken] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        secret, sep, scope_text = part.partition(":")
        # The message never includes a token, only its position.
        position = len(tokens) + 1
        if len(secret) < MIN_TOKEN_CHARS or not _TOKEN_RE.fullmatch(secret):
            raise ValueError(
                f"token {position} must be at least {MIN_TOKEN_CHARS} characters of "
                "A-Z a-z 0-9 . _ ~ + / = -"
            )
        scopes = frozenset(s.strip() for s in scope_text.split("+") if s.strip()) if sep else SCOPES
        unknown = scopes - ALL_SCOPES
        if not scopes or unknown:
            raise ValueError(
                f"token {position} has unknown scopes {sorted(unknown)} "
                f"(use {'+'.join(sorted(ALL_SCOPES))})"
            )
        if any(t.secret.get_secret_value() == secret for t in tokens):
            raise ValueError(f"token {position} is given twice")
        tokens.append(ApiToken(SecretStr(secret), scopes))
    return tuple(tokens)


def _host(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.:_-]{1,253}", raw):
        raise ValueError(f"expected a host name or IP address, got {raw!r}")
    return raw


class OpsSettings(BaseModel):
    """Settings of the ops API and contact rules."""

    model_config = SECTION_CONFIG

    api_host: Annotated[str, parsed(_host)] = Field("127.0.0.1", validation_alias=var("API_HOST"))
    api_port: Annotated[int, parsed(int_range(1, 65535))] = Field(
        8088, validation_alias=var("API_PORT")
    )
    api_tokens: Annotated[tuple[ApiToken, ...], parsed(_tokens)] = Field(
        (), validation_alias=var("API_TOKENS"), repr=False
    )
    api_max_body_bytes: Annotated[int, parsed(int_range(1024, 10 * 1024 * 1024))] = Field(
        64 * 1024, validation_alias=var("API_MAX_BODY_BYTES")
    )
    contact_interval: Annotated[timedelta, parsed(_days)] = Field(
        timedelta(days=30), validation_alias=var("CONTACT_INTERVAL_DAYS")
    )
    contact_interval_by_event: Annotated[Mapping[str, timedelta], parsed(_per_event(_days))] = (
        Field(default_factory=dict, validation_alias=var("CONTACT_INTERVAL_BY_EVENT"))
    )
    event_delays: Annotated[Mapping[str, timedelta], parsed(_per_event(parse_duration))] = Field(
        default_factory=dict, validation_alias=var("EVENT_DELAYS")
    )
    quiet_hours: Annotated[QuietHours | None, parsed(_quiet_hours)] = Field(
        QuietHours(time(21, 0), time(9, 0)), validation_alias=var("QUIET_HOURS")
    )
    survey_expiry: Annotated[timedelta, parsed(_hours)] = Field(
        timedelta(hours=72), validation_alias=var("SURVEY_EXPIRY_HOURS")
    )
    reminder_after: Annotated[timedelta | None, parsed(_optional_hours)] = Field(
        timedelta(hours=24), validation_alias=var("REMINDER_AFTER_HOURS")
    )
    relationship_cycle: Annotated[timedelta | None, parsed(_optional_days)] = Field(
        timedelta(days=90), validation_alias=var("RELATIONSHIP_CYCLE_DAYS")
    )
    maintenance_interval_seconds: Annotated[float, parsed(int_range(1, 3600))] = Field(
        60.0, validation_alias=var("MAINTENANCE_INTERVAL")
    )

    @model_validator(mode="after")
    def _reminder_before_expiry(self) -> OpsSettings:
        if self.reminder_after is not None and self.reminder_after >= self.survey_expiry:
            raise InvalidSetting(
                var("REMINDER_AFTER_HOURS"),
                "the reminder must come before the survey expires "
                f"({var('SURVEY_EXPIRY_HOURS')}), or be off",
            )
        return self

    def contact_rules(self, default_tz: ZoneInfo) -> ContactRules:
        """The contact rules these settings configure; ``default_tz`` is the bot's zone."""
        return ContactRules(
            default_tz=default_tz,
            interval=self.contact_interval,
            interval_by_event=dict(self.contact_interval_by_event),
            event_delays=dict(self.event_delays),
            quiet_hours=self.quiet_hours,
            expiry=self.survey_expiry,
            reminder_after=self.reminder_after,
        )

    @property
    def api_enabled(self) -> bool:
        """The API is served only when at least one token is configured."""
        return bool(self.api_tokens)
