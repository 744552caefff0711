"""Flood limits for one chat's inbound updates (pure: the receiver asks, this decides).

A chat that sends far more than a person types (a script, a stuck client) must delay and
cost only itself. Each chat's updates wait in its own queue (the receiver's); this decides,
as an update arrives, whether it joins that queue or is dealt with cheaply:

- a **press** joins the queue while the queue holds fewer than ``pending_cap`` updates;
  beyond that, a press on a message that already has a press waiting *collapses* into that
  one (it is answered, not handled: the survey takes one answer per message anyway), and
  any press beyond twice the cap is *dropped* (answered likewise). Below the cap nothing
  is collapsed: a customer toggling drivers presses one message several times on purpose.
  Once the cap is reached the chat is *flooding* until its queue has drained and a minute
  has passed since: meanwhile repeated presses on one message collapse whatever the
  queue's length. Without that, a sustained flood would refill the queue to the cap each
  time it drains, with presses that each cost a transaction and an answer, and delay the
  chat's own answers behind them.
- a **text** (a message, a command, an edit) counts against ``texts_per_minute``; beyond the
  budget the first one gets ONE "slow down" reply, the rest are dropped, until a whole
  minute passes with the chat back within its budget (every text counts, dropped or not,
  so a sustained flood is warned once).

Every decision is counted in :class:`FloodCounters` (logged, shown in ``/stats``).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum

WINDOW_SECONDS = 60.0


class Verdict(Enum):
    """What to do with one arriving update."""

    QUEUE = "queue"  # handled normally, in the chat's order
    COLLAPSE = "collapse"  # a press folded into one already waiting: answer it, drop it
    DROP_PRESS = "drop_press"  # a press beyond the hard cap: answer it, drop it
    SLOW_DOWN = "slow_down"  # the first text over budget: reply "slow down" once, drop it
    DROP_TEXT = "drop_text"  # a text over budget, already warned: drop it


@dataclass(frozen=True)
class FloodLimits:
    """Per-chat limits (settings ``NPSBOT_FLOOD_*``)."""

    pending_cap: int = 20
    texts_per_minute: int = 20
    outbox_cap: int = 20

    def __post_init__(self) -> None:
        if min(self.pending_cap, self.texts_per_minute, self.outbox_cap) < 1:
            raise ValueError("flood limits must be at least 1")


@dataclass
class FloodCounters:
    """What the flood limits did since start-up (every chat together)."""

    presses_collapsed: int = 0
    presses_dropped: int = 0
    texts_dropped: int = 0
    slow_downs: int = 0
    replies_dropped: int = 0  # outbound replies over the per-chat outbox cap

    @property
    def dropped(self) -> int:
        """Inbound updates not handled normally (collapsed or dropped)."""
        return self.presses_collapsed + self.presses_dropped + self.texts_dropped + self.slow_downs


class _Chat:
    __slots__ = ("capped_at", "pressed", "texts", "warned")

    def __init__(self, budget: int) -> None:
        self.texts: deque[float] = deque(maxlen=budget + 1)  # the latest texts' times
        self.pressed: Counter[int] = Counter()  # message id -> presses waiting in the queue
        self.warned = False
        self.capped_at: float | None = None  # the queue last reached the cap (flooding)


class FloodGate:
    """The per-chat flood state of one poller; ``now`` is a monotonic time in seconds."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self.counters = FloodCounters()
        self._chats: dict[int, _Chat] = {}

    def admit_press(self, chat: int, message_id: int, pending: int, now: float) -> Verdict:
        """A press on ``message_id`` arrives at ``now`` while ``pending`` updates wait for
        the chat."""
        state = self._chat(chat)
        if pending >= self.limits.pending_cap:
            state.capped_at = now
        if state.capped_at is not None and state.pressed[message_id] > 0:
            self.counters.presses_collapsed += 1
            return Verdict.COLLAPSE
        if pending >= 2 * self.limits.pending_cap:
            self.counters.presses_dropped += 1
            return Verdict.DROP_PRESS
        state.pressed[message_id] += 1
        return Verdict.QUEUE

    def admit_text(self, chat: int, now: float) -> Verdict:
        """A text (message, command, edit) arrives at ``now``."""
        state = self._chat(chat)
        state.texts.append(now)
        budget = self.limits.texts_per_minute
        over = len(state.texts) > budget and state.texts[0] > now - WINDOW_SECONDS
        if not over:
            state.warned = False
            return Verdict.QUEUE
        if state.warned:
            self.counters.texts_dropped += 1
            return Verdict.DROP_TEXT
        state.warned = True
        self.counters.slow_downs += 1
        return Verdict.SLOW_DOWN

    def press_done(self, chat: int, message_id: int) -> None:
        """A queued press left the queue (handled, or given up)."""
        state = self._chats.get(chat)
        if state is None:
            return
        state.pressed[message_id] -= 1
        if state.pressed[message_id] <= 0:
            del state.pressed[message_id]

    def forget_idle(self, chat: int, now: float) -> None:
        """The chat's queue has drained: it stops flooding once a minute has passed since
        the cap; its state is dropped when no text is recent either (bounded memory)."""
        state = self._chats.get(chat)
        if state is None:
            return
        if state.capped_at is not None and state.capped_at <= now - WINDOW_SECONDS:
            state.capped_at = None
        if state.pressed or state.capped_at is not None:
            return
        if not state.texts or state.texts[-1] <= now - WINDOW_SECONDS:
            del self._chats[chat]

    def _chat(self, chat: int) -> _Chat:
        state = self._chats.get(chat)
        if state is None:
            state = self._chats[chat] = _Chat(self.limits.texts_per_minute)
        return state
