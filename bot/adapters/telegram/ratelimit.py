"""Pacing of Bot API calls: a global rate, a per-chat rate, and pauses after a 429.

Each call reserves a slot: per chat with virtual scheduling (GCRA, allowing a small burst in
private chats), globally on a calendar of reserved send times spaced 1/rate apart. A call
that must wait for its own chat (an admin group's 20/min) takes a global slot in the future
and leaves the free slots before it to other chats, so one slow chat never holds back the
rest. No background task is needed, and no rate is exceeded even momentarily.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable

GROUP_PER_MINUTE = 19  # Telegram allows 20 per minute in a group; keep one in hand.


class RateLimiter:
    """Waits, in :meth:`acquire`, until a call to ``chat_id`` is within every limit."""

    def __init__(
        self,
        global_per_second: float,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: The whole installation's rate; this process's share of it is configured_rate.
        self.total_rate = global_per_second
        self.processes = 1
        self.configured_rate = global_per_second
        self._rate = global_per_second
        self._chat_interval = 1.0 / per_chat_per_second
        self._chat_burst = per_chat_burst
        self._group_interval = 60.0 / GROUP_PER_MINUTE
        self._clock = clock
        self._reserved: list[float] = []  # future global send times, sorted
        self._chat_tat: dict[int, float] = {}
        self._paused_until = 0.0
        self._successes_since_slowdown = 0

    @property
    def rate(self) -> float:
        """The global rate in force now (lower than configured after a 429)."""
        return self._rate

    def reserve(self, chat_id: int) -> float:
        """Reserve a slot for a call to ``chat_id``; return how long to wait for it."""
        now = self._clock()
        # Per chat: a private chat may burst a few messages (a follow-up right after an
        # edit), a group chat may not (its limit is per minute).
        if chat_id < 0:
            interval, tolerance = self._group_interval, 0.0
        else:
            interval, tolerance = self._chat_interval, self._chat_interval * (self._chat_burst - 1)
        tat = max(self._chat_tat.get(chat_id, 0.0), now)
        ready = max(now, self._paused_until, tat - tolerance)
        start = self._global_slot(ready, now)
        self._chat_tat[chat_id] = max(tat, start) + interval
        if len(self._chat_tat) > 50_000:
            self._forget_idle(now)
        return start - now

    def _global_slot(self, ready: float, now: float) -> float:
        """The earliest time >= ``ready`` at least 1/rate from every reserved send."""
        gap = 1.0 / self._rate
        stale = bisect.bisect_left(self._reserved, now - gap)
        if stale:
            del self._reserved[:stale]
        slot = ready
        for taken in self._reserved[bisect.bisect_left(self._reserved, ready - gap) :]:
            if taken >= slot + gap:
                break  # a free gap before this reservation
            if taken + gap > slot:
                slot = taken + gap
        bisect.insort(self._reserved, slot)
        return slot

    async def acquire(self, chat_id: int) -> None:
        """Wait until a call to ``chat_id`` may be made."""
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def share(self, processes: int) -> None:
        """Several processes send to Telegram together: pace at the global rate divided
        among ``processes`` (a slowdown after a 429 is kept, in proportion)."""
        processes = max(processes, 1)
        if processes == self.processes:
            return
        share = self.total_rate / processes
        self._rate = max(min(share, self._rate * share / self.configured_rate), 0.001)
        self.configured_rate = share
        self.processes = processes

    def pause(self, seconds: float) -> None:
        """Telegram said 429: send nothing for ``seconds`` and slow down afterwards."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._rate = max(1.0, self._rate * 0.8)
        self._successes_since_slowdown = 0

    def record_success(self) -> None:
        """Creep back to the configured rate after a slowdown."""
        if self._rate >= self.configured_rate:
            return
        self._successes_since_slowdown += 1
        if self._successes_since_slowdown >= 100:
            self._rate = min(self.configured_rate, self._rate * 1.1)
            self._successes_since_slowdown = 0

    def _forget_idle(self, now: float) -> None:
        self._chat_tat = {c: t for c, t in self._chat_tat.items() if t > now}
