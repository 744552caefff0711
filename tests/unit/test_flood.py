"""The per-chat flood limits (bot.core.flood): presses collapse only beyond the pending cap,
texts beyond the per-minute budget get one "slow down" and are then dropped, all counted."""

from __future__ import annotations

import pytest

from bot.core.flood import FloodGate, FloodLimits, Verdict


def test_presses_below_the_cap_are_all_queued_even_on_one_message() -> None:
    gate = FloodGate(FloodLimits(pending_cap=3))
    assert [gate.admit_press(1, 10, pending, 0.0) for pending in range(3)] == [Verdict.QUEUE] * 3
    assert gate.counters.dropped == 0


def test_beyond_the_cap_presses_on_a_waiting_message_collapse() -> None:
    gate = FloodGate(FloodLimits(pending_cap=2))
    assert gate.admit_press(1, 10, 0, 0.0) is Verdict.QUEUE
    assert gate.admit_press(1, 10, 5, 0.0) is Verdict.COLLAPSE
    assert gate.admit_press(1, 11, 3, 0.0) is Verdict.QUEUE  # another message: still queued
    assert gate.admit_press(1, 12, 4, 0.0) is Verdict.DROP_PRESS  # twice the cap: dropped
    assert gate.counters.presses_collapsed == 1
    assert gate.counters.presses_dropped == 1
    gate.press_done(1, 10)
    assert gate.admit_press(1, 10, 2, 0.0) is Verdict.QUEUE  # nothing waits on it any more


def test_a_flooding_chat_collapses_repeated_presses_for_a_minute_after_the_cap() -> None:
    gate = FloodGate(FloodLimits(pending_cap=3))
    assert [gate.admit_press(1, 10, n, 0.0) for n in range(3)] == [Verdict.QUEUE] * 3
    assert gate.admit_press(1, 10, 3, 1.0) is Verdict.COLLAPSE  # the cap: the chat floods
    gate.press_done(1, 10)
    gate.press_done(1, 10)
    # Below the cap again, but still flooding: the queue does not refill with repeats.
    assert gate.admit_press(1, 10, 1, 2.0) is Verdict.COLLAPSE
    assert gate.admit_press(1, 11, 1, 2.0) is Verdict.QUEUE  # another message
    gate.press_done(1, 10)
    gate.press_done(1, 11)
    gate.forget_idle(1, 30.0)  # drained, but the cap was reached 29 s ago
    assert [gate.admit_press(1, 10, n, 30.0) for n in range(2)] == [
        Verdict.QUEUE,
        Verdict.COLLAPSE,
    ]
    gate.press_done(1, 10)
    gate.forget_idle(1, 61.0)  # drained a minute after the cap: a normal chat again
    assert [gate.admit_press(1, 10, n, 61.0) for n in range(2)] == [Verdict.QUEUE] * 2
    assert gate.counters.presses_collapsed == 3


def test_other_chats_are_untouched_by_a_flood() -> None:
    gate = FloodGate(FloodLimits(pending_cap=1, texts_per_minute=2))
    for i in range(50):
        gate.admit_press(1, 10, 100, 0.0)
        gate.admit_text(1, float(i) / 100)
    assert gate.admit_press(2, 10, 0, 0.0) is Verdict.QUEUE
    assert gate.admit_text(2, 0.5) is Verdict.QUEUE


def test_texts_over_the_budget_get_one_slow_down_then_are_dropped() -> None:
    gate = FloodGate(FloodLimits(texts_per_minute=3))
    verdicts = [gate.admit_text(1, t) for t in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 59.0)]
    assert verdicts == [Verdict.QUEUE] * 3 + [Verdict.SLOW_DOWN] + [Verdict.DROP_TEXT] * 3
    assert (gate.counters.slow_downs, gate.counters.texts_dropped) == (1, 3)
    # A sustained flood is warned once: every text counts, dropped or not.
    assert all(gate.admit_text(1, 59.0 + i) is Verdict.DROP_TEXT for i in range(100))
    assert gate.counters.slow_downs == 1
    # A quiet minute later the chat is within its budget again (and would be warned again).
    assert gate.admit_text(1, 300.0) is Verdict.QUEUE
    assert [gate.admit_text(1, 300.0) for _ in range(3)][-1] is Verdict.SLOW_DOWN
    assert gate.counters.slow_downs == 2


def test_idle_chats_are_forgotten() -> None:
    gate = FloodGate(FloodLimits())
    gate.admit_text(1, 0.0)
    gate.admit_press(2, 5, 0, 0.0)
    gate.forget_idle(1, 30.0)
    gate.forget_idle(2, 100.0)
    assert set(gate._chats) == {1, 2}  # a recent text, a press still queued
    gate.press_done(2, 5)
    gate.forget_idle(1, 61.0)
    gate.forget_idle(2, 100.0)
    assert gate._chats == {}


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FloodLimits(outbox_cap=0)
