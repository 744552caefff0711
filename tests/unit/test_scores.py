"""Specification of typed score parsing (bot.core.scores)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.scores import MAX_SCORE, MIN_SCORE, NotAScore, Score, parse_typed_score


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("10", 10),
        ("5", 5),
        (" 7 ", 7),
        ("\n9\t", 9),
        ("007", 7),
        ("00", 0),
        ("９", 9),  # full-width digit
        ("１０", 10),
    ],
)
def test_whole_numbers_from_0_to_10_are_scores(text: str, value: int) -> None:
    assert parse_typed_score(text) == Score(value)


@pytest.mark.parametrize(
    "text", ["11", "-1", "+5", "100", "999", "-0", "1000000", "12345678901234567890", "+10"]
)
def test_numbers_off_the_scale_are_out_of_range(text: str) -> None:
    assert parse_typed_score(text) is NotAScore.OUT_OF_RANGE


@pytest.mark.parametrize("text", ["7.5", "8,5", "10.0", "-1.5", "+3,0", " 9.9 "])
def test_decimals_are_not_whole(text: str) -> None:
    assert parse_typed_score(text) is NotAScore.NOT_WHOLE


@pytest.mark.parametrize(
    "text",
    [
        "ten",
        "10/10",
        "👍",
        "",
        "   ",
        "9!",
        "7 8",
        ".5",
        "5.",
        "1e1",
        "0x5",
        "½",
        "score: 8",
        "8-9",
    ],
)
def test_anything_else_is_not_a_number(text: str) -> None:
    assert parse_typed_score(text) is NotAScore.NOT_A_NUMBER


def test_reasons_have_distinct_values() -> None:
    assert {r.value for r in NotAScore} == {"out_of_range", "not_whole", "not_a_number"}


def test_scale_bounds() -> None:
    assert (MIN_SCORE, MAX_SCORE) == (0, 10)


@given(st.text())
def test_parse_never_raises_and_scores_are_on_the_scale(text: str) -> None:
    result = parse_typed_score(text)
    assert isinstance(result, Score | NotAScore)
    if isinstance(result, Score):
        assert MIN_SCORE <= result.value <= MAX_SCORE


@given(st.text(alphabet="0123456789+-.,/ ", max_size=30))
def test_parse_never_raises_on_number_like_text(text: str) -> None:
    result = parse_typed_score(text)
    if isinstance(result, Score):
        assert MIN_SCORE <= result.value <= MAX_SCORE
        assert int(text.strip()) == result.value


@given(st.integers(MIN_SCORE, MAX_SCORE), st.sampled_from(["", " ", "  \n"]))
def test_every_score_typed_with_padding_is_accepted(value: int, pad: str) -> None:
    assert parse_typed_score(f"{pad}{value}{pad}") == Score(value)


@given(st.integers(MAX_SCORE + 1, 10**30))
def test_every_larger_whole_number_is_out_of_range(value: int) -> None:
    assert parse_typed_score(str(value)) is NotAScore.OUT_OF_RANGE
