"""The 0–10 inline keyboard.

Its callback data is defined in :data:`bot.core.callback_data.SCORE`; the survey a press
names is always checked against the chat that pressed (see the handlers).
"""

from __future__ import annotations

from typing import Any

from bot.core.callback_data import MAX_ID, SCORE, ScorePress
from bot.core.scores import MAX_SCORE

MAX_SURVEY_ID = MAX_ID  # SQLite's largest rowid; larger ints cannot even be queried

__all__ = ["MAX_SURVEY_ID", "ScorePress", "parse_score_callback", "score_callback_data"]


def score_callback_data(survey_id: int, score: int) -> str:
    """Callback data for one score button (well within Telegram's 64 bytes)."""
    return SCORE.encode(ScorePress(survey_id, score))


def parse_score_callback(data: str | None) -> ScorePress | None:
    """The press encoded in ``data``, or None if it is not one of ours."""
    return SCORE.parse(data)


def score_keyboard(survey_id: int) -> dict[str, Any]:
    """Bot API ``reply_markup``: 11 buttons, 0–5 on the first row and 6–10 on the second."""

    def button(score: int) -> dict[str, str]:
        return {"text": str(score), "callback_data": score_callback_data(survey_id, score)}

    return {
        "inline_keyboard": [
            [button(s) for s in range(0, 6)],
            [button(s) for s in range(6, MAX_SCORE + 1)],
        ]
    }
