"""The 0–10 inline keyboard and its callback data.

Callback data is client-controlled: anyone can send any string. It is parsed strictly, and
the survey it names is always checked against the chat that pressed (see the handlers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.survey.scores import MAX_SCORE, MIN_SCORE

# ASCII digits only (\d would match any Unicode digit), no leading zeros, ids up to 2**63-1.
MAX_SURVEY_ID = 2**63 - 1  # SQLite's largest rowid; larger ints cannot even be queried
_SCORE_DATA = re.compile(r"nps:([1-9][0-9]{0,18}):(10|[0-9])")


@dataclass(frozen=True)
class ScorePress:
    """A press on a score button: which survey, which score."""

    survey_id: int
    score: int


def score_callback_data(survey_id: int, score: int) -> str:
    """Callback data for one score button (well within Telegram's 64 bytes)."""
    return f"nps:{survey_id}:{score}"


def parse_score_callback(data: str | None) -> ScorePress | None:
    """The press encoded in ``data``, or None if it is not one of ours."""
    if not data:
        return None
    match = _SCORE_DATA.fullmatch(data)
    if not match:
        return None
    survey_id, score = int(match.group(1)), int(match.group(2))
    if survey_id > MAX_SURVEY_ID or not MIN_SCORE <= score <= MAX_SCORE:
        return None
    return ScorePress(survey_id=survey_id, score=score)


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
