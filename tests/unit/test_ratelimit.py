"""Specification of Bot API pacing and scheduling (bot.adapters.telegram.ratelimit), driven
by a fake clock: the limits (global spacing, per-chat bursts, group spacing, 429 pauses) and
which chat's call goes next (replies before bulk calls within the slack, chats taking turns,
nothing starved). The clock jumps to each moment the limiter names; nothing sleeps."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.telegram.ratelimit import GROUP_PER_MINUTE, RateLimiter, Turn
from bot.core.delivery import Urgency
from tests.support.clock import Clock

FakeClock = Clock[float]
REPLY, BULK = Urgency.REPLY, Urgency.BULK


@pytest.fixture
def clock() -> FakeClock:
    """Monotonic seconds, moved by hand."""
    return Clock(1000.0)


def run_until_granted(limiter: RateLimiter, clock: FakeClock, turns: list[Turn]) -> list[float]:
    """Move the clock to each moment the limiter names until every turn is given; when each
    was given, in seconds from now."""
    start = clock.now
    given: dict[int, float] = {}

    def note() -> bool:
        for index, turn in enumerate(turns):
            if turn.granted and index not in given:
                given[index] = clock.now - start
        return len(given) == len(turns)

    for _ in range(100_000):
        if note():
            break
        wake = limiter.pump()
        if note():
            break
        assert wake is not None, "calls wait but the limiter names no moment to look again"
        clock.set(max(wake, clock.now))
    else:
        raise AssertionError("the turns were never all given")
    return [given[i] for i in range(len(turns))]


def delays(
    limiter: RateLimiter, clock: FakeClock, *calls: int | tuple[int, Urgency]
) -> list[float]:
    """Calls (a chat, or a chat and its urgency) asked for at once; when each gets its turn."""
    turns = [
        limiter.request(*(call if isinstance(call, tuple) else (call, REPLY))) for call in calls
    ]
    return run_until_granted(limiter, clock, turns)


# --- the limits ---------------------------------------------------------------------


def test_first_call_is_immediate(clock: FakeClock) -> None:
    assert RateLimiter(25.0, clock=clock).request(1).granted


def test_global_calls_are_spaced_one_over_rate(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    assert delays(limiter, clock, 1, 2, 3, 4, 5) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_global_slot_frees_as_time_passes(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.request(1)
    clock.advance(0.25)
    assert delays(limiter, clock, 2, 3) == pytest.approx([0.0, 0.1])


def test_a_late_timer_costs_no_rate_but_a_stall_catches_up_a_tenth_of_a_second_only(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    turns = [limiter.request(chat) for chat in range(1, 8)]
    clock.advance(0.13)  # the timer for the slot at 0.1 fires 30 ms late
    limiter.pump()
    assert [t.granted for t in turns[:3]] == [True, True, False]
    clock.advance(0.07)  # at 0.2, the next slot on the original schedule
    limiter.pump()
    assert turns[2].granted
    clock.advance(5.0)  # the event loop stalled for 5 s
    limiter.pump()
    assert sum(t.granted for t in turns) == 5  # the slot missed 0.1 s ago and now's


def test_at_a_high_rate_a_stall_catches_up_a_tenth_of_a_second_of_slots(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(200.0, per_chat_per_second=1000.0, clock=clock)
    turns = [limiter.request(chat) for chat in range(1, 100)]
    clock.advance(1.0)  # a busy event loop fires the timer a second late
    limiter.pump()
    assert sum(t.granted for t in turns) == 1 + 21  # the first, then 0.1 s of slots


def test_private_chat_bursts_three_then_one_per_second(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    assert delays(limiter, clock, *[7] * 6) == pytest.approx([0.0, 0.001, 0.002, 1.0, 2.0, 3.0])


def test_per_chat_rate_and_burst_are_configurable(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, per_chat_per_second=2.0, per_chat_burst=1, clock=clock)
    assert delays(limiter, clock, 7, 7, 7) == pytest.approx([0.0, 0.5, 1.0])


def test_private_chat_burst_refills_after_idle_time(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    delays(limiter, clock, 7, 7, 7)
    clock.advance(10.0)
    assert delays(limiter, clock, 7, 7, 7, 7) == pytest.approx([0.0, 0.001, 0.002, 1.0])


def test_chats_within_their_burst_only_share_the_global_spacing(clock: FakeClock) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    # Chat 8 takes its turn between chat 7's calls: only the global 1 ms spacing applies.
    assert delays(limiter, clock, 7, 7, 7, 8) == pytest.approx([0.0, 0.001, 0.003, 0.002])


def test_a_chat_waiting_for_its_own_slot_does_not_hold_back_other_chats(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(25.0, clock=clock)
    admin_group = -1001234567890
    chart, text = limiter.request(admin_group), limiter.request(admin_group)  # a digest
    assert chart.granted and not text.granted
    clock.advance(0.1)
    # A customer's follow-up question, due now; only the global 1/25 s spacing applies.
    assert delays(limiter, clock, 42)[0] <= 1.0 / 25
    assert not text.granted
    assert run_until_granted(limiter, clock, [text])[0] == pytest.approx(60.0 / 19 - 0.1)


def test_group_chats_are_spaced_sixty_over_nineteen_seconds_without_burst(
    clock: FakeClock,
) -> None:
    assert GROUP_PER_MINUTE == 19
    limiter = RateLimiter(1000.0, clock=clock)
    step = 60.0 / 19
    assert delays(limiter, clock, *[-1001234567890] * 4) == pytest.approx(
        [0.0, step, 2 * step, 3 * step]
    )


def test_twentieth_group_message_comes_a_full_minute_after_the_first(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(1000.0, clock=clock)
    assert delays(limiter, clock, *[-5] * 20)[19] == pytest.approx(60.0)


def test_pause_delays_every_chat_until_it_ends(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(5.0)  # the rate drops to 8/s
    assert delays(limiter, clock, 1, -2, 3) == pytest.approx([5.0, 5.125, 5.25])


def test_calls_waiting_when_a_429_comes_wait_for_the_pause_too(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    turns = [limiter.request(chat) for chat in range(1, 4)]
    limiter.pause(3.0)  # the first call got 429; the other two must not go meanwhile
    assert run_until_granted(limiter, clock, turns[1:]) == pytest.approx([3.0, 3.125])


def test_pause_lowers_rate_by_a_fifth_and_spacing_follows(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(2.0)
    assert limiter.rate == pytest.approx(8.0)
    assert limiter.configured_rate == 10.0
    assert delays(limiter, clock, 1, 2, 3) == pytest.approx([2.0, 2.125, 2.25])


def test_shorter_pause_does_not_shorten_a_longer_one(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    limiter.pause(30.0)
    limiter.pause(1.0)
    assert delays(limiter, clock, 1) == pytest.approx([30.0])


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


# --- which chat goes next --------------------------------------------------------------


def test_a_reply_goes_before_bulk_calls_that_asked_before_it(clock: FakeClock) -> None:
    # A broadcast has 20 surveys waiting for their slots (a FIFO limiter would send the
    # customer's follow-up after all of them, 2 s later).
    limiter = RateLimiter(10.0, clock=clock)
    broadcast = [limiter.request(chat, BULK) for chat in range(1, 21)]
    follow_up = limiter.request(99, REPLY)
    assert run_until_granted(limiter, clock, [follow_up]) == pytest.approx([0.1])
    assert sum(t.granted for t in broadcast) == 1  # the one that asked while all was idle


def test_bulk_calls_yield_to_replies_for_the_slack_only(clock: FakeClock) -> None:
    # Replies keep every slot busy; a survey asked for at 0 still goes once its deadline
    # (0 + slack) is the earliest: replies never starve bulk work.
    limiter = RateLimiter(10.0, clock=clock, bulk_slack=1.0)
    limiter.request(1, REPLY)
    survey = limiter.request(1000, BULK)
    for chat in range(2, 60):  # a new customer's reply every 0.1 s, for 5.8 s
        limiter.request(chat, REPLY)
        if survey.granted:
            break
        clock.set(limiter.pump() or clock.now)
    granted_after = clock.now - 1000.0
    assert 1.0 <= granted_after <= 1.2, granted_after


def test_a_chat_with_many_waiting_calls_takes_turns_with_the_others(clock: FakeClock) -> None:
    # Chat 1 asks for ten calls at once (an export in parts, say), then chat 2 for one; the
    # per-chat limit is out of the way. FIFO would serve chat 2 eleventh; here it waits for
    # one of chat 1's calls only.
    limiter = RateLimiter(10.0, per_chat_per_second=1000.0, per_chat_burst=100, clock=clock)
    backlog = [limiter.request(1) for _ in range(10)]
    other = limiter.request(2)
    assert run_until_granted(limiter, clock, [other]) == pytest.approx([0.2])
    assert sum(t.granted for t in backlog) == 2
    assert run_until_granted(limiter, clock, backlog)[-1] == pytest.approx(0.8)  # in order


def test_chats_with_long_lines_are_served_round_robin(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, per_chat_per_second=1000.0, per_chat_burst=100, clock=clock)
    turns = [limiter.request(chat) for chat in (1, 1, 1, 2, 2, 2, 3, 3, 3)]
    given = run_until_granted(limiter, clock, turns)
    in_order = [
        turn.chat_id for _, turn in sorted(zip(given, turns, strict=True), key=lambda g: g[0])
    ]
    assert in_order == [1, 1, 2, 3, 1, 2, 3, 2, 3]


async def test_acquire_does_not_wait_when_a_slot_is_free(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, clock=clock)
    await limiter.acquire(1)  # would hang a fake-clock test if it waited
    assert not limiter.request(2).granted


async def test_a_cancelled_wait_leaves_the_line_to_the_next_call(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, per_chat_per_second=1000.0, clock=clock)
    await limiter.acquire(1)
    waiting = asyncio.create_task(limiter.acquire(1))
    await asyncio.sleep(0)  # it asked and waits for the next slot
    assert limiter.waiting == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert limiter.waiting == 0
    after = limiter.request(1)
    assert run_until_granted(limiter, clock, [after]) == pytest.approx([0.1])


def test_a_backlog_of_bulk_calls_past_their_deadline_takes_every_other_slot_at_most(
    clock: FakeClock,
) -> None:
    # After a restart the sweep asks for 60 chats' retries at once (6 s of slots); 3 s on,
    # they are past their deadline. A customer's reply still waits for one of them only,
    # not for the 30 left (earliest deadline alone would put it behind all of them).
    limiter = RateLimiter(10.0, clock=clock, bulk_slack=2.0)
    backlog = [limiter.request(chat, BULK) for chat in range(1000, 1060)]
    while clock.now < 1003.0:
        clock.set(limiter.pump() or clock.now)
    waiting = sum(not t.granted for t in backlog)
    assert waiting >= 25
    reply = limiter.request(7, REPLY)
    assert run_until_granted(limiter, clock, [reply])[0] <= 0.2
    assert sum(not t.granted for t in backlog) >= waiting - 2
    run_until_granted(limiter, clock, backlog)  # and the backlog goes on to the end


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
