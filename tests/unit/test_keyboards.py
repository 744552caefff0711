"""Specification of the score keyboard and its callback data (bot.core.keyboards)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.keyboards import ScorePress, parse_score_callback, score_callback_data, score_keyboard

SQLITE_MAX_ROWID = 2**63 - 1


def test_keyboard_has_0_to_5_then_6_to_10() -> None:
    rows = score_keyboard(42)["inline_keyboard"]
    assert [len(r) for r in rows] == [6, 5]
    assert [b["text"] for row in rows for b in row] == [str(i) for i in range(11)]


def test_each_button_carries_its_survey_and_score() -> None:
    rows = score_keyboard(42)["inline_keyboard"]
    data = [b["callback_data"] for row in rows for b in row]
    assert data == [f"nps:42:{i}" for i in range(11)]
    assert [parse_score_callback(d) for d in data] == [ScorePress(42, i) for i in range(11)]


def test_keyboard_buttons_have_only_text_and_callback_data() -> None:
    for row in score_keyboard(1)["inline_keyboard"]:
        for button in row:
            assert set(button) == {"text", "callback_data"}


@pytest.mark.parametrize("survey_id", [1, 10**17, SQLITE_MAX_ROWID])
def test_callback_data_fits_telegrams_64_bytes(survey_id: int) -> None:
    for row in score_keyboard(survey_id)["inline_keyboard"]:
        for button in row:
            assert len(button["callback_data"].encode()) <= 64


@pytest.mark.parametrize(
    ("data", "press"),
    [
        ("nps:1:0", ScorePress(1, 0)),
        ("nps:1:10", ScorePress(1, 10)),
        ("nps:987654321:7", ScorePress(987654321, 7)),
        ("nps:999999999999999999:5", ScorePress(999999999999999999, 5)),
    ],
)
def test_valid_data_is_parsed(data: str, press: ScorePress) -> None:
    assert parse_score_callback(data) == press


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "nps:1:11",
        "nps:1:99",
        "nps:0:5",
        "nps:-1:5",
        "nps:1:-5",
        "nps:1:5:x",
        "NPS:1:5",
        "nps:01:5",
        "nps:1:",
        "nps::5",
        "nps:1",
        "nps:1:5 ",
        " nps:1:5",
        "nps:1:5\n",
        "nps:1.0:5",
        "nps:+1:5",
        "nps:1:+5",
        "xnps:1:5",
        "nps:a:5",
        "other:1:5",
        "nps:1:" + "5" * 59,  # 65 bytes
        "nps:" + "1" * 58 + ":5",  # 64 bytes but a survey id no database would have
        "x" * 65,
    ],
)
def test_malformed_or_forged_data_is_rejected(data: str | None) -> None:
    assert parse_score_callback(data) is None


@pytest.mark.parametrize("data", ["nps:1:05", "nps:1:٥", "nps:1٠:5", "nps:7:００"])
def test_non_canonical_data_is_rejected(data: str) -> None:
    assert parse_score_callback(data) is None


def test_round_trip_for_largest_sqlite_rowid() -> None:
    data = score_callback_data(SQLITE_MAX_ROWID, 3)
    assert parse_score_callback(data) == ScorePress(SQLITE_MAX_ROWID, 3)


@given(st.integers(1, 10**18 - 1), st.integers(0, 10))
def test_round_trip(survey_id: int, score: int) -> None:
    data = score_callback_data(survey_id, score)
    assert len(data.encode()) <= 64
    assert parse_score_callback(data) == ScorePress(survey_id, score)


@given(st.text(max_size=80))
def test_parse_never_raises_and_only_accepts_valid_presses(data: str) -> None:
    press = parse_score_callback(data)
    if press is not None:
        assert press.survey_id >= 1
        assert 0 <= press.score <= 10
