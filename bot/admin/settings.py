"""Settings of the digest, alerts and admin commands (``NPSBOT_*`` variables, see .env.example)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AdminSettings:
    """Settings of the digest, alerts and admin commands."""


def admin_settings_from_mapping(env: Mapping[str, str]) -> AdminSettings:
    """Parse and validate; raise :class:`bot.config.SettingsError` naming the setting."""
    return AdminSettings()
