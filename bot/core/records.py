"""Typed records the rest of the code sees instead of rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class SurveyKind(StrEnum):
    """The three kinds of NPS survey (see the primer); reports never mix them silently."""

    TRANSACTIONAL = "transactional"
    RELATIONSHIP = "relationship"
    EPISODE = "episode"


class SurveyStatus(StrEnum):
    """pending → sent → answered / expired / failed; skipped when never sendable."""

    PENDING = "pending"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Customer:
    """A company's customer, optionally linked to a Telegram chat."""

    id: int
    external_id: str
    chat_id: int | None
    language: str | None  # the customer's explicit choice (/language), None if never made
    attributes: dict[str, Any]
    opted_out: bool
    blocked: bool
    linked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    telegram_language: str | None = None  # Telegram's language_code, as last seen


@dataclass(frozen=True, slots=True)
class Survey:
    """One NPS question asked (or to be asked) of one customer."""

    id: int
    customer_id: int
    kind: SurveyKind
    event_type: str | None
    event_id: str | None
    status: SurveyStatus
    status_reason: str | None
    attributes: dict[str, Any]
    send_at: datetime
    send_attempts: int
    send_started_at: datetime | None
    chat_id: int | None
    message_id: int | None
    created_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Answer:
    """A customer's score and, once given, their reason."""

    id: int
    survey_id: int
    score: int
    category: str
    reason: str | None
    reason_message_id: int | None
    scored_at: datetime
    reason_at: datetime | None
    completed_at: datetime | None
    # None: no drivers step; a tuple (maybe empty) of the driver ids picked so far.
    drivers: tuple[str, ...] | None = None
    drivers_done_at: datetime | None = None
    drivers_message_id: int | None = None

    @property
    def awaiting_drivers(self) -> bool:
        """The drivers keyboard is out and the customer has not finished with it."""
        return (
            self.drivers is not None and self.drivers_done_at is None and self.completed_at is None
        )


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """The survey a chat is in the middle of: awaiting a score, or awaiting a reason."""

    survey: Survey
    customer: Customer
    answer: Answer | None

    @property
    def awaiting_score(self) -> bool:
        return self.answer is None

    @property
    def awaiting_drivers(self) -> bool:
        return self.answer is not None and self.answer.awaiting_drivers

    @property
    def awaiting_reason(self) -> bool:
        return (
            self.answer is not None
            and self.answer.completed_at is None
            and not self.answer.awaiting_drivers
        )


class InboxOutcome(StrEnum):
    """How an update in the inbox was done with (``inbox.outcome``)."""

    HANDLED = "handled"  # its handler ran (and committed, or had nothing to write)
    COLLAPSED = "collapsed"  # a press folded into one already waiting (flood limits)
    DROPPED = "dropped"  # a press or text over the chat's flood limits
    SLOWED = "slowed"  # the first text over the budget: one "slow down" reply
    GAVE_UP = "gave_up"  # its handler failed every attempt
    MALFORMED = "malformed"  # not an update the library could read
    ERASED = "erased"  # its chat's customer was erased before it was handled


@dataclass(frozen=True, slots=True)
class InboxUpdate:
    """An update as received: its id, its chat (the key its worker goes by) and its JSON
    until handled; ``outcome`` set for one stored already done with."""

    update_id: int
    chat_id: int | None
    payload: str | None
    outcome: InboxOutcome | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A Bot API call recorded before it is made, so a crash cannot lose it."""

    id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    survey_id: int | None
    attempts: int
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text, so that SQL string comparison orders times correctly."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to storage; pass an aware UTC datetime")
    # isoformat is a tenth of strftime's cost; its UTC offset becomes the Z.
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


_DB_TIME_WIDTH = len("2024-01-01T00:00:00.000000Z")


def from_db_time(value: str | None) -> datetime | None:
    """Inverse of :func:`to_db_time` (``None`` stays ``None``); ValueError for other text."""
    if value is None:
        return None
    if len(value) == _DB_TIME_WIDTH and value[10] == "T" and value[-1] == "Z":
        # What to_db_time writes; fromisoformat reads it (Z as UTC) at a tenth of
        # strptime's cost, and every row read carries a few of these.
        return datetime.fromisoformat(value)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def from_db_time_req(value: str) -> datetime:
    """:func:`from_db_time` for NOT NULL columns."""
    result = from_db_time(value)
    assert result is not None
    return result
