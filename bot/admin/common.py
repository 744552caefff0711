"""What every admin handler shares: who is an admin, and one update = one transaction.

Admin handlers never wait for their replies to be sent: an admin group is paced at 19
messages a minute, and the poller handles a batch's chats together, so waiting there would
hold back every customer's update in the batch. Replies are committed to the outbox with
the update's claim and flushed by a background task.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from telegram import Update, User

from bot.settings import Settings
from bot.telegram.services import Services
from bot.telegram.unit_of_work import Replies, run_unit
from storage import Tx

log = logging.getLogger(__name__)

T = TypeVar("T")

_background: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    """Run ``coro`` in the background, keeping a reference so it is not garbage-collected,
    and logging (never losing) its exception."""
    task = asyncio.create_task(coro, name=name)
    _background.add(task)

    def done(finished: asyncio.Task[Any]) -> None:
        _background.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.error("background task %s failed", name, exc_info=finished.exception())

    task.add_done_callback(done)
    return task


def is_admin(settings: Settings, chat_id: int | None, user_id: int | None) -> bool:
    """An admin writes in a configured admin chat, or is a user whose private chat id is
    configured (a user's private chat id equals their user id)."""
    ids = settings.admin_chat_ids
    return (chat_id is not None and chat_id in ids) or (user_id is not None and user_id in ids)


def update_is_admin(settings: Settings, update: Update) -> bool:
    """:func:`is_admin` for an update."""
    chat = update.effective_chat
    user = update.effective_user
    return is_admin(settings, chat.id if chat else None, user.id if user else None)


def admin_name(user: User | None) -> str:
    """How an admin is recorded and shown: name and user id (no HTML escaping)."""
    if user is None:
        return "an admin"
    name = user.full_name.strip() or "admin"
    return f"{name} ({user.id})"


def esc(value: object, limit: int = 200) -> str:
    """HTML-escape a value for Telegram, flattened to one line and capped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return html.escape(text, quote=False)


async def admin_unit(
    svc: Services,
    update: Update,
    chat_id: int,
    work: Callable[[Tx, Replies, datetime], Awaitable[T]],
) -> tuple[bool, T | None]:
    """:func:`bot.telegram.unit_of_work.run_unit`, which already flushes in the background
    (a paced admin group never stalls other updates)."""
    return await run_unit(svc, update, chat_id, work)
