"""Failure injection: random or scheduled 429 / 5xx answers for chaos tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from http import HTTPStatus

from standin.errors import ApiError, too_many_requests


@dataclass(frozen=True)
class Fault:
    """One injected failure; ``after_delivery`` fails the call after it took effect."""

    status: int
    retry_after: int = 1
    after_delivery: bool = False

    def error(self) -> ApiError:
        """The error answer for this fault."""
        if self.status == 429:
            return too_many_requests(self.retry_after)
        if self.status == 500:
            return ApiError(500, "Internal Server Error")
        if self.status == 502:
            return ApiError(502, "Bad Gateway")
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        return ApiError(self.status, phrase)


@dataclass
class FaultPlan:
    """Scheduled faults per method plus random ones on message-changing methods."""

    p_429: float = 0.0
    p_5xx: float = 0.0
    retry_after: int = 1
    rng: random.Random = field(default_factory=random.Random)
    scheduled: dict[str, list[Fault]] = field(default_factory=dict)

    def take(self, method: str, faultable: bool) -> Fault | None:
        """The fault for this call of ``method`` (canonical name), if any."""
        queue = self.scheduled.get(method.lower())
        if queue:
            return queue.pop(0)
        if not faultable or (self.p_429 <= 0 and self.p_5xx <= 0):
            return None
        roll = self.rng.random()
        if roll < self.p_429:
            return Fault(429, self.retry_after)
        if roll < self.p_429 + self.p_5xx:
            return Fault(self.rng.choice((500, 502)))
        return None
