"""Rate limits of the Telegram stand-in: token buckets and a rolling window.

Telegram answers 429 when a bot sends too fast: about 30 messages per second overall,
about one per second in one chat (short bursts tolerated) and 20 per minute in a group.
The stand-in models these with token buckets (overall, per private chat) and a rolling
60-second window (per group). The clock is injectable so tests can move time by hand.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
"""A monotonic clock in seconds, ``time.monotonic`` by default."""


@dataclass(frozen=True)
class Limits:
    """The limits the stand-in enforces; the defaults are Telegram's for a normal bot."""

    global_per_second: float = 30.0
    per_chat_burst: int = 4
    per_chat_per_second: float = 1.0
    group_per_minute: int = 20
    callback_answer_timeout: float = 15.0


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second."""

    def __init__(self, capacity: float, rate: float, clock: Clock) -> None:
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0.0 when one is available now)."""
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self._tokens) / self.rate

    def take(self) -> None:
        """Consume one token; call only after ``wait_time()`` returned 0."""
        self._refill()
        self._tokens -= 1.0


class RollingWindow:
    """At most ``limit`` events in any ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def wait_time(self) -> float:
        """Seconds until one more event is allowed."""
        now = self._clock()
        self._expire(now)
        if len(self._events) < self.limit:
            return 0.0
        if self.limit <= 0:
            return math.inf
        return self._events[0] + self.window - now

    def take(self) -> None:
        """Record one event; call only after ``wait_time()`` returned 0."""
        self._events.append(self._clock())


@dataclass
class RateLimiter:
    """All of the stand-in's sending limits together.

    ``check`` answers how long the caller must wait (0 when it may send now) and, when
    the send is allowed, consumes the tokens; a rejected send consumes nothing, as on
    Telegram, so a well-behaved retry after ``retry_after`` succeeds.
    """

    limits: Limits
    clock: Clock = time.monotonic
    _global: TokenBucket | None = None
    _chats: dict[int, TokenBucket] = field(default_factory=dict)
    _groups: dict[int, RollingWindow] = field(default_factory=dict)

    def _global_bucket(self) -> TokenBucket:
        if self._global is None:
            rate = self.limits.global_per_second
            self._global = TokenBucket(rate, rate, self.clock)
        return self._global

    def _chat_limiter(self, chat_id: int, is_group: bool) -> TokenBucket | RollingWindow:
        if is_group:
            window = self._groups.get(chat_id)
            if window is None:
                window = RollingWindow(self.limits.group_per_minute, 60.0, self.clock)
                self._groups[chat_id] = window
            return window
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(
                self.limits.per_chat_burst, self.limits.per_chat_per_second, self.clock
            )
            self._chats[chat_id] = bucket
        return bucket

    def check(self, chat_id: int, is_group: bool) -> int:
        """Return 0 and consume tokens if a send to ``chat_id`` is allowed now.

        Otherwise return ``retry_after``: whole seconds until every limit involved has
        room again, at least 1 (Telegram never says "retry after 0").
        """
        limiters = [self._global_bucket(), self._chat_limiter(chat_id, is_group)]
        wait = max(limiter.wait_time() for limiter in limiters)
        if wait > 0:
            if math.isinf(wait):
                return 2**31 - 1
            return max(1, math.ceil(wait))
        for limiter in limiters:
            limiter.take()
        return 0


class FakeClock:
    """A hand-driven clock for tests: ``clock()`` returns the time, ``advance`` moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self.now += seconds
