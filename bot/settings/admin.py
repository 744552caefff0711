"""Settings of the digest, alerts and admin commands (``NPSBOT_*`` variables, see .env.example)."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from bot.core.nps import DEFAULT_MIN_SAMPLE, STANDARD_CUTOFFS, Cutoffs
from bot.settings.errors import InvalidSetting
from bot.settings.parsing import SECTION_CONFIG, int_range, on_off, parsed, var

_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ATTRIBUTE_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
_OFF = ("off", "none", "disabled")


def _digest_time(raw: str) -> time | None:
    if raw.lower() in _OFF:
        return None
    match = _TIME_RE.fullmatch(raw)
    if not match:
        raise ValueError(f"expected HH:MM (24-hour local time) or off, got {raw!r}")
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"expected HH:MM (24-hour local time) or off, got {raw!r}")
    return time(hour, minute, second)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(raw: str) -> int | None:
    if raw.lower() in _OFF:
        return None
    value = raw.strip().lower()[:3]
    if value not in _WEEKDAYS or len(raw.strip()) < 3:
        raise ValueError(f"expected a weekday (mon..sun) or off, got {raw!r}")
    return _WEEKDAYS.index(value)


def _month_day(raw: str) -> int | None:
    if raw.lower() in _OFF:
        return None
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 28:
        raise ValueError(f"expected a day of the month 1-28 or off, got {raw!r}")
    return int(raw)


def _attribute(raw: str) -> str | None:
    if raw.lower() in _OFF:
        return None
    if not _ATTRIBUTE_RE.fullmatch(raw):
        raise ValueError(f"expected an attribute name of 1-32 letters, digits or _, got {raw!r}")
    return raw


class AdminSettings(BaseModel):
    """Settings of the digest, alerts and admin commands.

    ``digest_time`` is the local wall-clock time (in ``Settings.timezone``) at which the
    digest for the day just ended is posted; ``None`` turns the scheduled digest off
    (``/digest`` still works). ``digest_attribute`` names the customer attribute the digest
    splits by (``None``: no split). ``weekly_digest`` (0 = Monday) and ``monthly_digest``
    (day 1-28) post the digest of the week or calendar month before, at ``digest_time``;
    ``None``: off. ``cutoffs`` are the NPS category boundaries.
    ``min_sample``: reports show a score from fewer answers without an interval.
    ``export_bom``: ``/export``'s CSV starts with a UTF-8 byte-order mark (Excel needs it to
    read the file as UTF-8).
    ``export_process``: ``/export`` builds its file in a child process (off: in the bot's
    process, where customers' answers wait while it runs).
    ``themes_*``: the comment themes job (on/off, how often new comments are themed, how
    often the model is retrained).
    """

    model_config = SECTION_CONFIG

    digest_time: Annotated[time | None, parsed(_digest_time)] = Field(
        time(9, 0), validation_alias=var("DIGEST_TIME")
    )
    digest_attribute: Annotated[str | None, parsed(_attribute)] = Field(
        None, validation_alias=var("DIGEST_ATTRIBUTE")
    )
    digest_catchup_days: Annotated[int, parsed(int_range(1, 31))] = Field(
        3, validation_alias=var("DIGEST_CATCHUP_DAYS")
    )
    weekly_digest: Annotated[int | None, parsed(_weekday)] = Field(
        None, validation_alias=var("WEEKLY_DIGEST")
    )
    monthly_digest: Annotated[int | None, parsed(_month_day)] = Field(
        None, validation_alias=var("MONTHLY_DIGEST")
    )
    alerts_enabled: Annotated[bool, parsed(on_off)] = Field(
        True, validation_alias=var("DETRACTOR_ALERTS")
    )
    relay_hours: Annotated[int, parsed(int_range(1, 720))] = Field(
        72, validation_alias=var("RELAY_HOURS")
    )
    themes_enabled: Annotated[bool, parsed(on_off)] = Field(True, validation_alias=var("THEMES"))
    themes_interval_seconds: Annotated[int, parsed(int_range(1, 86400))] = Field(
        60, validation_alias=var("THEMES_INTERVAL_SECONDS")
    )
    themes_retrain_hours: Annotated[int, parsed(int_range(1, 720))] = Field(
        24, validation_alias=var("THEMES_RETRAIN_HOURS")
    )
    promoter_min: Annotated[int, parsed(int_range(1, 10))] = Field(
        STANDARD_CUTOFFS.promoter_min, validation_alias=var("PROMOTER_MIN")
    )
    passive_min: Annotated[int, parsed(int_range(0, 9))] = Field(
        STANDARD_CUTOFFS.passive_min, validation_alias=var("PASSIVE_MIN")
    )
    min_sample: Annotated[int, parsed(int_range(1, 10_000))] = Field(
        DEFAULT_MIN_SAMPLE, validation_alias=var("MIN_SAMPLE")
    )
    export_bom: Annotated[bool, parsed(on_off)] = Field(True, validation_alias=var("EXPORT_BOM"))
    export_process: Annotated[bool, parsed(on_off)] = Field(
        True, validation_alias=var("EXPORT_PROCESS")
    )

    @model_validator(mode="after")
    def _passives_below_promoters(self) -> AdminSettings:
        if self.passive_min >= self.promoter_min:
            raise InvalidSetting(
                var("PASSIVE_MIN"),
                f"it must be below {var('PROMOTER_MIN')} "
                f"(got {self.passive_min} and {self.promoter_min})",
            )
        return self

    @property
    def cutoffs(self) -> Cutoffs:
        """The NPS category boundaries (valid: checked when the settings were built)."""
        return Cutoffs(promoter_min=self.promoter_min, passive_min=self.passive_min)
