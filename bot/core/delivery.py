"""What became of a Bot API call, and files to upload: plain data the use cases decide on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Failure(Enum):
    """How a call failed, which decides what happens next."""

    BLOCKED = "blocked"  # 403: the customer blocked the bot or never started it
    REJECTED = "rejected"  # 400 and friends: retrying the same call cannot help
    TRANSIENT = "transient"  # network, timeout, 5xx, persistent 429: may work later


class Urgency(Enum):
    """Whether someone is waiting for a call now: the sender serves the calls of all chats
    by earliest deadline, and a bulk call's deadline lies a little later than its request
    (``bot.adapters.telegram.ratelimit.BULK_SLACK_SECONDS``), so replies pass it."""

    REPLY = "reply"  # a reply to an update or an admin's command: a person waits for it
    BULK = "bulk"  # surveys, reminders, digests, alerts, the sweep's retries


@dataclass(frozen=True)
class CallResult:
    """The outcome of one Bot API call."""

    result: Any = None
    failure: Failure | None = None
    description: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Upload:
    """A file to send as a call's parameter (``photo``, ``document``)."""

    filename: str
    data: bytes
