"""The drivers step: an inline keyboard of factors with toggles and a Done button.

Its callback data is defined in :data:`bot.core.callback_data.DRIVER` (a toggle of the
index-th driver of the survey's category, or Done). Like score presses, the survey is
checked against the pressing chat.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from bot.core.callback_data import DRIVER, DriverPress

CHECK = "✅ "

__all__ = ["DriverPress", "driver_callback_data", "drivers_keyboard", "parse_driver_callback"]


def driver_callback_data(survey_id: int, index: int | None) -> str:
    """Callback data for a driver toggle (``index``) or the Done button (None)."""
    return DRIVER.encode(DriverPress(survey_id, index))


def parse_driver_callback(data: str | None) -> DriverPress | None:
    """The press encoded in ``data``, or None if it is not a drivers button."""
    return DRIVER.parse(data)


def drivers_keyboard(
    survey_id: int, labels: Sequence[str], selected: Collection[int], done_label: str
) -> dict[str, Any]:
    """Two toggles per row (a tick marks the chosen ones), then Done on its own row."""
    buttons = [
        {
            "text": (CHECK if i in selected else "") + label,
            "callback_data": driver_callback_data(survey_id, i),
        }
        for i, label in enumerate(labels)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([{"text": done_label, "callback_data": driver_callback_data(survey_id, None)}])
    return {"inline_keyboard": rows}


def toggle(selected: Collection[int], index: int) -> tuple[int, ...]:
    """The selection after pressing ``index``: added if absent, removed if present."""
    chosen = set(selected)
    chosen.symmetric_difference_update({index})
    return tuple(sorted(chosen))
