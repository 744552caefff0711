"""The drivers step: an inline keyboard of factors with toggles and a Done button.

Callback data is ``drv:<survey id>:<index>`` (toggle the index-th driver of the survey's
category) or ``drv:<survey id>:done``: at most 4 + 19 + 1 + 4 = 28 bytes, well within
Telegram's 64. Like score presses, the survey is checked against the pressing chat.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from bot.survey.keyboards import MAX_SURVEY_ID

DRIVERS_PREFIX = "drv:"
_DATA = re.compile(r"drv:([1-9][0-9]{0,18}):(done|[0-9]|1[0-9])")
CHECK = "✅ "


@dataclass(frozen=True)
class DriverPress:
    """A press on the drivers keyboard: toggle ``index``, or Done when it is None."""

    survey_id: int
    index: int | None


def driver_callback_data(survey_id: int, index: int | None) -> str:
    """Callback data for a driver toggle (``index``) or the Done button (None)."""
    return f"drv:{survey_id}:{'done' if index is None else index}"


def parse_driver_callback(data: str | None) -> DriverPress | None:
    """The press encoded in ``data``, or None if it is not a drivers button."""
    match = _DATA.fullmatch(data or "")
    if not match:
        return None
    survey_id = int(match.group(1))
    if survey_id > MAX_SURVEY_ID:
        return None
    index = None if match.group(2) == "done" else int(match.group(2))
    return DriverPress(survey_id=survey_id, index=index)


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
