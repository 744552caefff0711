"""Settings of the digest, alerts and admin commands (``NPSBOT_*`` variables, see .env.example)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from bot.config import PREFIX, SettingsError, int_range, optional_setting
from bot.domain.nps import STANDARD_CUTOFFS, Cutoffs

_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ATTRIBUTE_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
_OFF = ("off", "none", "disabled")


@dataclass(frozen=True)
class AdminSettings:
    """Settings of the digest, alerts and admin commands.

    ``digest_time`` is the local wall-clock time (in ``Settings.timezone``) at which the
    digest for the day just ended is posted; ``None`` turns the scheduled digest off
    (``/digest`` still works). ``digest_attribute`` names the customer attribute the digest
    splits by (``None``: no split). ``cutoffs`` are the NPS category boundaries.
    """

    digest_time: time | None = time(9, 0)
    digest_attribute: str | None = None
    digest_catchup_days: int = 3
    alerts_enabled: bool = True
    relay_hours: int = 72
    cutoffs: Cutoffs = field(default_factory=lambda: STANDARD_CUTOFFS)


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


def _attribute(raw: str) -> str | None:
    if raw.lower() in _OFF:
        return None
    if not _ATTRIBUTE_RE.fullmatch(raw):
        raise ValueError(f"expected an attribute name of 1-32 letters, digits or _, got {raw!r}")
    return raw


def _on_off(raw: str) -> bool:
    value = raw.lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ValueError(f"expected on or off, got {raw!r}")


def admin_settings_from_mapping(env: Mapping[str, str]) -> AdminSettings:
    """Parse and validate; raise :class:`bot.config.SettingsError` naming the setting."""
    promoter_min = optional_setting(env, "PROMOTER_MIN", int_range(1, 10), 9)
    passive_min = optional_setting(env, "PASSIVE_MIN", int_range(0, 9), 7)
    try:
        cutoffs = Cutoffs(promoter_min=promoter_min, passive_min=passive_min)
    except ValueError:
        raise SettingsError(
            f"{PREFIX}PASSIVE_MIN is invalid: it must be below {PREFIX}PROMOTER_MIN "
            f"(got {passive_min} and {promoter_min})"
        ) from None
    default_time: time | None = time(9, 0)
    return AdminSettings(
        digest_time=optional_setting(env, "DIGEST_TIME", _digest_time, default_time),
        digest_attribute=optional_setting(env, "DIGEST_ATTRIBUTE", _attribute, None),
        digest_catchup_days=optional_setting(env, "DIGEST_CATCHUP_DAYS", int_range(1, 31), 3),
        alerts_enabled=optional_setting(env, "DETRACTOR_ALERTS", _on_off, True),
        relay_hours=optional_setting(env, "RELAY_HOURS", int_range(1, 720), 72),
        cutoffs=cutoffs,
    )
