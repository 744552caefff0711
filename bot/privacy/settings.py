"""Privacy settings: retention of answers' texts and attributes, erasure confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import int_range, optional_setting

MAX_RETENTION_DAYS = 36_500
_OFF = ("off", "forever", "none", "0")


@dataclass(frozen=True)
class PrivacySettings:
    """``retention_days`` None keeps answers' texts and attributes forever (the default)."""

    retention_days: int | None = None
    confirm_minutes: int = 10

    @property
    def retention_on(self) -> bool:
        """Whether the daily retention job anonymises anything."""
        return self.retention_days is not None


def _retention_days(raw: str) -> int | None:
    if raw.strip().lower() in _OFF:
        return None
    return int_range(1, MAX_RETENTION_DAYS)(raw)


def privacy_settings_from_mapping(env: Mapping[str, str]) -> PrivacySettings:
    """Parse and validate; raise :class:`bot.config.SettingsError` naming the setting."""
    return PrivacySettings(
        retention_days=optional_setting(env, "RETENTION_DAYS", _retention_days, None),
        confirm_minutes=optional_setting(env, "ERASURE_CONFIRM_MINUTES", int_range(1, 1440), 10),
    )
