"""What counts as a typed score: a whole number from 0 to 10, and nothing else."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class NotAScore(Enum):
    """Why a typed text is not a score; each gets its own reply."""

    OUT_OF_RANGE = "out_of_range"  # "11", "-1", "100"
    NOT_WHOLE = "not_whole"  # "7.5", "8,5"
    NOT_A_NUMBER = "not_a_number"  # "ten", "10/10", "👍", ""


@dataclass(frozen=True)
class Score:
    """A valid score typed by the customer."""

    value: int


_UNSIGNED = re.compile(r"\d+")
_SIGNED = re.compile(r"[+-]\d+")
_DECIMAL = re.compile(r"[+-]?\d+[.,]\d+")

MIN_SCORE = 0
MAX_SCORE = 10


def parse_typed_score(text: str) -> Score | NotAScore:
    """Interpret a customer's text as a score.

    NFKC folds full-width digits ("９", common with Chinese keyboards) to ASCII. Only a bare
    whole number counts: "10/10" or "9!" are ambiguous, and guessing would store a score the
    customer did not clearly give. A signed number ("-1", "+5") is a number off the scale.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    if _UNSIGNED.fullmatch(folded) and len(folded) <= 3:
        number = int(folded)
        return Score(number) if number <= MAX_SCORE else NotAScore.OUT_OF_RANGE
    if _UNSIGNED.fullmatch(folded) or _SIGNED.fullmatch(folded):
        return NotAScore.OUT_OF_RANGE
    if _DECIMAL.fullmatch(folded):
        return NotAScore.NOT_WHOLE
    return NotAScore.NOT_A_NUMBER
