"""Specification of Bot API pacing (bot.adapters.telegram.ratelimit), driven by a fake clock."""

from __future__ import annotations

import pytest

from bot.adapters.telegram.ratelimit import GROUP_PER_MINUTE, RateLimiter
from tests.support.clock import Clock

FakeClock = Clock[float]


@pytest.fixture
def clock() -> FakeClock:
    """Monotonic seconds, moved by hand."""
    return Clock(1000.0)


def test_first_call_is_immediate(clock: FakeClock) -> None:
    assert RateLimiter(25.0, clock=clock).reserve(1) == 0.0


def test_global_calls_are_spaced_one_over_rate(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    delays = [limiter.reserve(chat) for chat in range(1, 6)]  # different chats
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_global_slot_frees_as_time_passes(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.reserve(1)
    clock.advance(0.25)
    assert limiter.reserve(2) == 0.0
    assert limiter.reserve(3) == pytest.approx(0.1)


def test_private_chat_bursts_three_then_one_per_second(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    delays = [limiter.reserve(7) for _ in range(6)]
    assert delays == pytest.approx([0.0, 0.001, 0.002, 1.0, 2.0, 3.0])


def test_per_chat_rate_and_burst_are_configurable(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, per_chat_per_second=2.0, per_chat_burst=1, clock=clock)
    delays = [limiter.reserve(7) for _ in range(3)]
    assert delays == pytest.approx([0.0, 0.5, 1.0])


def test_private_chat_burst_refills_after_idle_time(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    for _ in range(3):
        limiter.reserve(7)
    clock.advance(10.0)
    delays = [limiter.reserve(7) for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.001, 0.002, 1.0])


def test_chats_within_their_burst_only_share_the_global_spacing(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    for _ in range(3):
        limiter.reserve(7)
    assert limiter.reserve(8) == pytest.approx(0.003)


def test_a_chat_waiting_for_its_own_slot_does_not_hold_back_other_chats(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(25.0, clock=clock)
    admin_group = -1001234567890
    assert limiter.reserve(admin_group) == 0.0  # digest chart
    assert limiter.reserve(admin_group) == pytest.approx(60.0 / 19)  # digest text, 3.16 s on
    clock.advance(0.1)
    # A customer's follow-up question, due now; only the global 1/25 s spacing applies.
    assert limiter.reserve(42) <= 1.0 / 25


def test_group_chats_are_spaced_sixty_over_nineteen_seconds_without_burst(
    clock: FakeClock,
) -> None:
    assert GROUP_PER_MINUTE == 19
    limiter = RateLimiter(1000.0, clock=clock)
    delays = [limiter.reserve(-1001234567890) for _ in range(4)]
    step = 60.0 / 19
    assert delays == pytest.approx([0.0, step, 2 * step, 3 * step])


def test_twentieth_group_message_comes_a_full_minute_after_the_first(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    delays = [limiter.reserve(-5) for _ in range(20)]
    assert delays[19] == pytest.approx(60.0)


def test_pause_delays_every_chat_until_it_ends(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(5.0)
    assert limiter.reserve(1) == pytest.approx(5.0)
    assert limiter.reserve(-2) >= 5.0
    clock.advance(5.0)
    assert limiter.reserve(3) == pytest.approx(0.25)  # behind the two slots already taken


def test_pause_lowers_rate_by_a_fifth_and_spacing_follows(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(2.0)
    assert limiter.rate == pytest.approx(8.0)
    assert limiter.configured_rate == 10.0
    delays = [limiter.reserve(chat) for chat in range(1, 4)]
    assert delays == pytest.approx([2.0, 2.125, 2.25])


def test_shorter_pause_does_not_shorten_a_longer_one(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(30.0)
    limiter.pause(1.0)
    assert limiter.reserve(1) == pytest.approx(30.0)


def test_repeated_pauses_never_go_below_one_per_second(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    for _ in range(50):
        limiter.pause(0.0)
    assert limiter.rate == 1.0


def test_record_success_recovers_gradually_after_100_successes(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(1.0)
    for _ in range(99):
        limiter.record_success()
    assert limiter.rate == pytest.approx(8.0)
    limiter.record_success()
    assert limiter.rate == pytest.approx(8.8)
    for _ in range(100):
        limiter.record_success()
    assert limiter.rate == pytest.approx(9.68)
    for _ in range(100):
        limiter.record_success()
    assert limiter.rate == 10.0  # capped at the configured rate


def test_a_new_pause_restarts_the_recovery_count(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(1.0)
    for _ in range(99):
        limiter.record_success()
    limiter.pause(1.0)
    assert limiter.rate == pytest.approx(6.4)
    limiter.record_success()
    assert limiter.rate == pytest.approx(6.4)


def test_record_success_at_configured_rate_changes_nothing(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    for _ in range(500):
        limiter.record_success()
    assert limiter.rate == 10.0


async def test_acquire_does_not_wait_when_a_slot_is_free(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    await limiter.acquire(1)  # would hang a fake-clock test if it slept
    assert limiter.reserve(2) == pytest.approx(0.1)


def test_each_process_paces_at_its_share_of_the_global_rate(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    limiter.share(4)
    assert limiter.configured_rate == 250.0
    assert limiter.rate == 250.0
    limiter.pause(0.0)  # a 429 slows this process down ...
    slowed = limiter.rate
    limiter.share(2)  # ... and a process leaving keeps the slowdown in proportion
    assert limiter.configured_rate == 500.0
    assert limiter.rate == slowed * 2
    limiter.share(1)
    assert limiter.total_rate == 1000.0 and limiter.configured_rate == 1000.0
