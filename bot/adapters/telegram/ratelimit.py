"""Pacing of Bot API calls: a global rate, a per-chat rate, pauses after a 429, and which
chat's call goes next.

A call asks for a turn (:meth:`RateLimiter.acquire`) and waits in its chat's line; the calls
of one chat go in the order they asked. A turn is given when it is used, not reserved ahead:
at each global slot (1/rate apart), among the chats whose own limit allows a call now (per
chat by virtual scheduling, GCRA: a small burst in private chats, 60/19 s apart in groups),
the chat whose first waiting call has the earliest deadline goes. A reply's deadline is
the moment it became first in its line; a bulk call's lies ``BULK_SLACK_SECONDS`` later, so
a broadcast, a restart's backlog or the sweep's retries yield to customers' replies for at
most that long and are never starved; and while replies wait, bulk calls past their
deadline take every other slot at most, so a reply never waits behind a whole backlog. A
chat with a long line competes with one call at a time, so the chats take turns (round
robin among equals) and no chat's backlog delays another's calls. A chat waiting for its
own limit (an admin group's 20 a minute) leaves the global slots to the others.

The turns are given by :meth:`RateLimiter.pump`, called when a call asks and by a timer
(``loop.call_later``, not a task) at the next moment a turn may be due; no rate is exceeded
even momentarily (after a stall of the event loop, at most ``CATCH_UP_SECONDS`` of
slots are caught up).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.delivery import Urgency

GROUP_PER_MINUTE = 19  # Telegram allows 20 per minute in a group; keep one in hand.
#: How long a bulk call lets replies asked for after it go first (see the module's text).
BULK_SLACK_SECONDS = 2.0
#: After the event loop was held up, the slots missed meanwhile are given at once, up to
#: this long a stretch of them (at least one slot): a busy loop costs no send rate, and the
#: rate over any second exceeds the limit by at most this share.
CATCH_UP_SECONDS = 0.1


@dataclass(eq=False)
class Turn:
    """One call's place in its chat's line; ``granted`` once it may be made."""

    chat_id: int
    bulk: bool
    slack: float  # how much later than a reply its deadline lies (0 for a reply)
    seq: int
    granted: bool = False
    deadline: float = 0.0  # set when it becomes first in its line: then + slack
    due_at: float = 0.0  # when its chat could first send it (set once it is first)
    future: asyncio.Future[None] | None = field(default=None, repr=False)


_Entry = tuple[float, int, Turn]


class RateLimiter:
    """Gives each Bot API call its turn, in :meth:`acquire`, within every limit."""

    def __init__(
        self,
        global_per_second: float,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        *,
        bulk_slack: float = BULK_SLACK_SECONDS,
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
        self._bulk_slack = bulk_slack
        self._lines: dict[int, deque[Turn]] = {}  # per chat, the calls waiting, in order
        # Each line's first call is in one of three heaps: ``_due_reply`` or ``_due_bulk``
        # when its chat may send
        # now (by deadline), ``_later`` until it may (by that time). Stale entries (a call
        # withdrawn) are skipped when they surface.
        self._due_reply: list[_Entry] = []
        self._due_bulk: list[_Entry] = []
        self._last_bulk = False  # the last turn given went to a bulk call
        self._later: list[_Entry] = []
        self._seq = itertools.count()
        self._chat_tat: dict[int, float] = {}  # per chat, GCRA's theoretical arrival time
        self._last_slot: float | None = None
        self._paused_until = 0.0
        self._successes_since_slowdown = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    @property
    def rate(self) -> float:
        """The global rate in force now (lower than configured after a 429)."""
        return self._rate

    @property
    def waiting(self) -> int:
        """Calls waiting for their turn."""
        return sum(len(line) for line in self._lines.values())

    async def acquire(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        """Wait until a call to ``chat_id`` may be made."""
        turn = self.request(chat_id, urgency)
        if turn.granted:
            return
        turn.future = asyncio.get_running_loop().create_future()
        self._arm(self._next_look())
        try:
            await turn.future
        except asyncio.CancelledError:
            self.withdraw(turn)
            raise

    def request(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> Turn:
        """Join ``chat_id``'s line (granted at once if it is this call's turn)."""
        now = self._clock()
        slack = self._bulk_slack if urgency is Urgency.BULK else 0.0
        turn = Turn(chat_id, urgency is Urgency.BULK, slack, next(self._seq))
        line = self._lines.get(chat_id)
        if line is not None:
            line.append(turn)
            return turn
        self._lines[chat_id] = deque((turn,))
        self._place_first(turn, now)
        self.pump()
        return turn

    def withdraw(self, turn: Turn) -> None:
        """A waiting call gave up (its task was cancelled): leave the line."""
        line = self._lines.get(turn.chat_id)
        if turn.granted or line is None or turn not in line:
            return
        first = line[0] is turn
        line.remove(turn)
        if not line:
            del self._lines[turn.chat_id]
        elif first:
            self._place_first(line[0], self._clock())

    def pump(self) -> float | None:
        """Give every turn that is due now; return when one may next be due (None: no call
        waits). Called by :meth:`request` and by the timer."""
        now = self._clock()
        while self._later and self._later[0][0] <= now:
            ready, _, turn = heapq.heappop(self._later)
            if self._is_first(turn):
                turn.due_at = ready
                self._push_due(turn)
        while (heap := self._next_due()) is not None:
            turn = heap[0][2]
            slot = self._slot_for(turn, now)
            if slot > now:
                break
            heapq.heappop(heap)
            self._grant(turn, slot, now)
        return self._next_look()

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

    # --- the lines ------------------------------------------------------------------

    def _is_first(self, turn: Turn) -> bool:
        line = self._lines.get(turn.chat_id)
        return line is not None and line[0] is turn and not turn.granted

    def _push_due(self, turn: Turn) -> None:
        heap = self._due_bulk if turn.bulk else self._due_reply
        heapq.heappush(heap, (turn.deadline, turn.seq, turn))

    def _next_due(self) -> list[_Entry] | None:
        """The heap whose first call goes next: the earliest deadline, except that while a
        reply waits, no two bulk calls go in a row (a backlog of bulk calls past their
        deadline, a restart's say, would otherwise hold every new reply behind it)."""
        for heap in (self._due_reply, self._due_bulk):
            while heap and not self._is_first(heap[0][2]):
                heapq.heappop(heap)
        reply, bulk = self._due_reply, self._due_bulk
        if not reply:
            return bulk or None
        if bulk and bulk[0][:2] < reply[0][:2] and not self._last_bulk:
            return bulk
        return reply

    def _chat_limits(self, chat_id: int) -> tuple[float, float]:
        """(interval, burst tolerance): a private chat may burst a few messages (a
        follow-up right after an edit), a group may not (its limit is per minute)."""
        if chat_id < 0:
            return self._group_interval, 0.0
        return self._chat_interval, self._chat_interval * (self._chat_burst - 1)

    def _place_first(self, turn: Turn, now: float) -> None:
        """``turn`` is first in its line: due now, or later when its chat may send. Its
        deadline counts from now, not from when it asked: a chat whose calls wait in a long
        line competes with one call at a time, taking turns with the other chats."""
        turn.deadline = now + turn.slack
        _, tolerance = self._chat_limits(turn.chat_id)
        ready = self._chat_tat.get(turn.chat_id, -math.inf) - tolerance
        if ready <= now:
            turn.due_at = now
            self._push_due(turn)
        else:
            heapq.heappush(self._later, (ready, turn.seq, turn))

    def _slot_for(self, turn: Turn, now: float) -> float:
        """The global slot ``turn`` would have had on time: 1/rate after the last one and
        not before it was due. Slots are kept on that schedule, so a timer firing late costs
        no rate; after a stall at most ``CATCH_UP_SECONDS`` of slots are caught up."""
        earliest = max(turn.due_at, self._paused_until)
        if self._last_slot is None:
            return earliest
        gap = 1.0 / self._rate
        return max(self._last_slot + gap, earliest, now - max(gap, CATCH_UP_SECONDS))

    def _grant(self, turn: Turn, slot: float, now: float) -> None:
        chat_id = turn.chat_id
        line = self._lines[chat_id]
        line.popleft()
        interval, _ = self._chat_limits(chat_id)
        self._chat_tat[chat_id] = max(self._chat_tat.get(chat_id, slot), slot) + interval
        self._last_slot = slot
        self._last_bulk = turn.bulk
        turn.granted = True
        if turn.future is not None and not turn.future.done():
            turn.future.set_result(None)
        if line:
            self._place_first(line[0], now)
        else:
            del self._lines[chat_id]
            if len(self._chat_tat) > 50_000:
                self._forget_idle(now)

    def _next_look(self) -> float | None:
        """When a turn may next be due: the next slot if a chat may send, else the moment
        the first chat may; None when no call waits."""
        heap = self._next_due()
        while self._later and not self._is_first(self._later[0][2]):
            heapq.heappop(self._later)
        if heap is not None:
            return self._slot_for(heap[0][2], self._clock())
        if self._later:
            return max(self._later[0][0], self._paused_until)
        return None

    def _arm(self, at: float | None) -> None:
        """Have the timer pump at ``at`` (keep an earlier timer: it pumps and re-arms)."""
        if at is None or (self._timer is not None and self._timer_at <= at):
            return
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_at = at
        self._timer = loop.call_later(max(0.0, at - self._clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._arm(self.pump())

    def _forget_idle(self, now: float) -> None:
        self._chat_tat = {c: t for c, t in self._chat_tat.items() if t > now or c in self._lines}
