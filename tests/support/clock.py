"""The one hand-driven clock of the tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T", datetime, float)


class Clock(Generic[T]):
    """A clock the test moves: aware datetimes (the bot's wall clock) or floats (monotonic
    seconds, as the rate limiter reads them).

    Frozen by default, so that time passes only when a test says so. ``ticking=True`` lets it
    follow the real passage of time from wherever it was last set or advanced: for a whole
    bot run in-process, whose timeouts and pacing need time to move, while a test can still
    jump it forward (``advance``) or put it anywhere (``set``).
    """

    def __init__(self, start: T, *, ticking: bool = False) -> None:
        self._base: T = start
        self._ticking = ticking
        self._since = time.monotonic()

    def __call__(self) -> T:
        return self.now

    @property
    def now(self) -> T:
        """The time now."""
        if not self._ticking:
            return self._base
        return _plus(self._base, timedelta(seconds=time.monotonic() - self._since))

    @now.setter
    def now(self, when: T) -> None:
        self.set(when)

    def set(self, when: T) -> T:
        """Put the clock at ``when``."""
        self._base = when
        self._since = time.monotonic()
        return when

    def advance(self, seconds: float = 0.0, **delta: float) -> T:
        """Move time forward by ``seconds`` and/or timedelta fields (``hours=2``); the new
        time."""
        return self.set(_plus(self.now, timedelta(seconds=seconds, **delta)))


def _plus(when: T, step: timedelta) -> T:
    if isinstance(when, datetime):
        return when + step
    return when + step.total_seconds()
