"""Settings of the ops API and contact rules (``NPSBOT_*`` variables, see .env.example)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class OpsSettings:
    """Settings of the ops API and contact rules."""


def ops_settings_from_mapping(env: Mapping[str, str]) -> OpsSettings:
    """Parse and validate; raise :class:`bot.config.SettingsError` naming the setting."""
    return OpsSettings()
