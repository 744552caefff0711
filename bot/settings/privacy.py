"""Privacy settings: retention of answers' texts and attributes, erasure confirmation."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from bot.settings.parsing import SECTION_CONFIG, int_range, parsed, var

MAX_RETENTION_DAYS = 36_500
_OFF = ("off", "forever", "none", "0")


def _retention_days(raw: str) -> int | None:
    if raw.strip().lower() in _OFF:
        return None
    return int_range(1, MAX_RETENTION_DAYS)(raw)


class PrivacySettings(BaseModel):
    """``retention_days`` None keeps answers' texts and attributes forever (the default)."""

    model_config = SECTION_CONFIG

    retention_days: Annotated[int | None, parsed(_retention_days)] = Field(
        None, validation_alias=var("RETENTION_DAYS")
    )
    confirm_minutes: Annotated[int, parsed(int_range(1, 1440))] = Field(
        10, validation_alias=var("ERASURE_CONFIRM_MINUTES")
    )

    @property
    def retention_on(self) -> bool:
        """Whether the daily retention job anonymises anything."""
        return self.retention_days is not None
