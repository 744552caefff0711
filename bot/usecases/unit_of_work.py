"""One update, one transaction: its mark in the inbox, the state change and the replies
commit together.

Replies are written to the outbox inside the transaction and sent right after it commits.
The update is marked handled in its inbox row in the same transaction (no commit of its
own); a redelivered update, or one handled before a crash, finds its row handled and
changes nothing; its replies, if the crash came before they were sent, are still in the
outbox and go out on the next flush.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.usecases.services import Services
from storage import Tx, inbox, outbox

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Receipt:
    """Whether a unit of work marked the update being handled (set by the receiver around
    each update's handling): one that ran no unit is marked handled by the receiver.
    ``on_marked`` runs once the unit has committed (the receiver frees the update's handling
    slot then: what follows, answering a press, needs no database)."""

    update_id: int
    marked: bool = False
    on_marked: Callable[[], None] | None = None


#: The receipt of the update the current task is handling, if a receiver set one.
current_receipt: ContextVar[Receipt | None] = ContextVar("current_receipt", default=None)


@dataclass
class Replies:
    """Bot API calls a handler wants made once its transaction commits."""

    chat_id: int
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Index in ``calls`` → the survey whose drivers keyboard the call sends. Recorded as the
    # outbox row's survey id: once Telegram accepts the message, the sender stores its
    # message id on the answer (the end of the step edits it even if no button was pressed).
    drivers_keyboards: dict[int, int] = field(default_factory=dict)
    # Index in ``calls`` → the surveys whose customers the message names or quotes (admin
    # messages): recorded with the outbox row so that erasing the customer deletes it.
    subjects: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def send(
        self,
        text: str,
        *,
        reply_markup: dict[str, Any] | None = None,
        reply_to: int | None = None,
        parse_mode: str | None = None,
        drivers_keyboard_of: int | None = None,
        about: int | None = None,
    ) -> None:
        """Send a text message to the chat (``drivers_keyboard_of``: the survey whose drivers
        keyboard it carries; ``about``: the survey whose customer it names or quotes)."""
        params: dict[str, Any] = {"chat_id": self.chat_id, "text": text}
        if reply_markup is not None:
            params["reply_markup"] = reply_markup
        if reply_to is not None:
            params["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        if parse_mode is not None:
            params["parse_mode"] = parse_mode
        if drivers_keyboard_of is not None:
            self.drivers_keyboards[len(self.calls)] = drivers_keyboard_of
        if about is not None:
            self.subjects[len(self.calls)] = (about,)
        self.calls.append(("sendMessage", params))

    def edit(
        self, message_id: int, text: str, *, reply_markup: dict[str, Any] | None = None
    ) -> None:
        """Replace a message's text (and remove its buttons unless new ones are given)."""
        params: dict[str, Any] = {
            "chat_id": self.chat_id,
            "message_id": message_id,
            "text": text,
        }
        if reply_markup is not None:
            params["reply_markup"] = reply_markup
        self.calls.append(("editMessageText", params))


async def run_unit(
    svc: Services,
    update_id: int,
    chat_id: int,
    work: Callable[[Tx, Replies, datetime], Awaitable[T]],
    *,
    chat_scoped: bool = False,
) -> tuple[bool, T | None]:
    """Run ``work`` for the update ``update_id`` exactly once; returns (first time?, work's
    result).

    ``chat_scoped``: the transaction is scoped to ``chat_id`` (beside other chats' on
    PostgreSQL), for work that changes only this chat's rows or runs atomic statements
    (storage/postgres.py says which); the default is exclusive. Claiming the inbox row and
    the outbox cap are per chat either way."""
    now = svc.clock()
    result: T | None = None
    async with svc.db.transaction(chat=chat_id if chat_scoped else None) as tx:
        fresh = await inbox.claim(tx, update_id, chat_id, now)
        if fresh:
            replies = Replies(chat_id)
            result = await work(tx, replies, now)
            room = svc.settings.flood_outbox_per_chat - await outbox.count_pending_for_chat(
                tx, chat_id
            )
            if len(replies.calls) > room:
                dropped = len(replies.calls) - max(room, 0)
                svc.flood.replies_dropped += dropped
                log.warning(
                    "chat %s: %d replies over the outbox cap (%d queued) dropped",
                    chat_id,
                    dropped,
                    svc.settings.flood_outbox_per_chat,
                )
            for index, (method, params) in enumerate(replies.calls[: max(room, 0)]):
                await outbox.enqueue(
                    tx,
                    chat_id,
                    method,
                    params,
                    now,
                    survey_id=replies.drivers_keyboards.get(index),
                    about=replies.subjects.get(index, ()),
                )
    receipt = current_receipt.get()
    if receipt is not None and receipt.update_id == update_id:
        receipt.marked = True
        if receipt.on_marked is not None:
            receipt.on_marked()
    svc.sender.schedule_flush(chat_id)
    return fresh, result
