"""Specification of survey decisions (bot.core.flow)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.flow import (
    MAX_REASON_CHARS,
    DriversState,
    EditIn,
    FinishDrivers,
    FinishDriversWithReason,
    Incoming,
    MediaIn,
    RecordReason,
    RecordScore,
    Reply,
    ScorePressIn,
    Step,
    TextIn,
    ToggleDrivers,
    UpdateReason,
    decide,
    decide_driver_press,
)


def text(value: str) -> TextIn:
    return TextIn(text=value, message_id=10)


# --- no survey ----------------------------------------------------------------------------


@pytest.mark.parametrize("incoming", [text("8"), text("great"), text(""), MediaIn("sticker")])
def test_without_open_survey_every_message_gets_no_open_survey(
    incoming: TextIn | MediaIn,
) -> None:
    assert decide(Step.NO_SURVEY, incoming) == Reply("no_open_survey")


# --- awaiting the score -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document"])
def test_media_while_awaiting_score_asks_for_a_score(kind: str) -> None:
    assert decide(Step.AWAITING_SCORE, MediaIn(kind)) == Reply("score_media")


@pytest.mark.parametrize(("typed", "score"), [("0", 0), ("10", 10), (" 7 ", 7), ("９", 9)])
def test_typed_score_is_recorded(typed: str, score: int) -> None:
    assert decide(Step.AWAITING_SCORE, text(typed)) == RecordScore(score)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("11", "score_out_of_range"),
        ("-1", "score_out_of_range"),
        ("7.5", "score_not_whole"),
        ("8,5", "score_not_whole"),
        ("ten", "score_not_a_number"),
        ("10/10", "score_not_a_number"),
        ("", "score_not_a_number"),
    ],
)
def test_text_that_is_not_a_score_gets_its_own_reply(typed: str, key: str) -> None:
    assert decide(Step.AWAITING_SCORE, text(typed)) == Reply(key)


# --- awaiting the reason ------------------------------------------------------------------


def test_text_while_awaiting_reason_is_recorded_stripped() -> None:
    assert decide(Step.AWAITING_REASON, text("  Fast delivery!\n")) == RecordReason(
        text="Fast delivery!", truncated=False
    )


def test_a_number_while_awaiting_reason_is_a_reason_not_a_score() -> None:
    assert decide(Step.AWAITING_REASON, text("9")) == RecordReason(text="9", truncated=False)


@pytest.mark.parametrize("incoming", [text(""), text("   \n\t "), MediaIn("photo")])
def test_empty_text_or_media_while_awaiting_reason_asks_for_words(
    incoming: TextIn | MediaIn,
) -> None:
    assert decide(Step.AWAITING_REASON, incoming) == Reply("reason_media")


def test_reason_of_exactly_the_limit_is_not_truncated() -> None:
    body = "x" * MAX_REASON_CHARS
    assert decide(Step.AWAITING_REASON, text(body)) == RecordReason(text=body, truncated=False)


def test_long_reason_is_truncated_to_4096_characters() -> None:
    assert MAX_REASON_CHARS == 4096
    body = "ab" * 3000
    decision = decide(Step.AWAITING_REASON, text(body))
    assert decision == RecordReason(text=body[:4096], truncated=True)


def test_padding_does_not_count_towards_the_limit() -> None:
    body = "y" * MAX_REASON_CHARS
    decision = decide(Step.AWAITING_REASON, text("   " + body + "   "))
    assert decision == RecordReason(text=body, truncated=False)


# --- edits --------------------------------------------------------------------------------


@pytest.mark.parametrize("step", list(Step))
def test_edit_with_text_may_update_the_reason_in_any_step(step: Step) -> None:
    assert decide(step, EditIn(text=" better wording ", message_id=77)) == UpdateReason(
        text="better wording", message_id=77
    )


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("edited", [None, "", "  \n "])
def test_edit_without_text_is_ignored(step: Step, edited: str | None) -> None:
    assert decide(step, EditIn(text=edited, message_id=5)) == Reply("edit_ignored")


def test_long_edit_is_clipped_to_the_limit() -> None:
    decision = decide(Step.AWAITING_REASON, EditIn(text="z" * 5000, message_id=3))
    assert decision == UpdateReason(text="z" * MAX_REASON_CHARS, message_id=3)


# --- properties ---------------------------------------------------------------------------


@given(st.sampled_from(list(Step)), st.text(max_size=5000))
def test_recorded_text_is_never_empty_or_over_the_limit(step: Step, typed: str) -> None:
    decision = decide(step, TextIn(text=typed, message_id=1))
    if isinstance(decision, RecordReason):
        assert 0 < len(decision.text) <= MAX_REASON_CHARS
        assert decision.truncated == (len(typed.strip()) > MAX_REASON_CHARS)
    if isinstance(decision, RecordScore):
        assert 0 <= decision.score <= 10


# --- the drivers step ----------------------------------------------------------------


def test_text_during_the_drivers_step_ends_it_and_is_the_reason() -> None:
    decision = decide(Step.AWAITING_DRIVERS, TextIn("  Late again  ", 5))
    assert decision == FinishDriversWithReason(text="Late again", truncated=False)
    long = decide(Step.AWAITING_DRIVERS, TextIn("x" * (MAX_REASON_CHARS + 1), 6))
    assert isinstance(long, FinishDriversWithReason) and long.truncated


@pytest.mark.parametrize("incoming", [MediaIn("sticker"), TextIn("   ", 7)])
def test_media_or_blank_text_during_the_drivers_step_asks_for_the_buttons(
    incoming: Incoming,
) -> None:
    assert decide(Step.AWAITING_DRIVERS, incoming) == Reply("drivers_pending")


def test_driver_presses_toggle_untoggle_and_finish() -> None:
    state = DriversState(owned=True, at_step=True, selected=(), count=4)
    assert decide_driver_press(state, 2) == ToggleDrivers((2,))
    ticked = DriversState(owned=True, at_step=True, selected=(0, 2), count=4)
    assert decide_driver_press(ticked, 2) == ToggleDrivers((0,))
    assert decide_driver_press(ticked, 3) == ToggleDrivers((0, 2, 3))
    assert decide_driver_press(ticked, None) == FinishDrivers((0, 2))


def test_driver_presses_that_change_nothing() -> None:
    foreign = DriversState(owned=False, at_step=True, count=4)
    assert decide_driver_press(foreign, 1) == Reply("press_invalid")
    assert decide_driver_press(foreign, None) == Reply("press_invalid")
    done = DriversState(owned=True, at_step=False, selected=(1,), count=4)
    assert decide_driver_press(done, 1) == Reply("press_closed")
    assert decide_driver_press(done, None) == Reply("press_closed")
    in_step = DriversState(owned=True, at_step=True, count=4)
    assert decide_driver_press(in_step, 4) == Reply("press_invalid")  # not offered


# --- score buttons: the same state machine as typed scores ------------------------------


@pytest.mark.parametrize("score", [0, 6, 10])
def test_a_press_on_a_survey_awaiting_its_score_records_it_like_a_typed_score(
    score: int,
) -> None:
    assert decide(Step.AWAITING_SCORE, ScorePressIn(score)) == RecordScore(score)
    assert decide(Step.AWAITING_SCORE, text(str(score))) == RecordScore(score)


@pytest.mark.parametrize(
    ("step", "key"),
    [
        (Step.NO_SURVEY, "press_invalid"),  # unknown survey, or another chat's
        (Step.AWAITING_DRIVERS, "press_already_answered"),
        (Step.AWAITING_REASON, "press_already_answered"),
        (Step.ANSWERED, "press_already_answered"),
        (Step.CLOSED, "press_closed"),
    ],
)
def test_a_press_on_a_survey_not_awaiting_its_score_only_gets_an_answer(
    step: Step, key: str
) -> None:
    assert decide(step, ScorePressIn(7)) == Reply(key)
