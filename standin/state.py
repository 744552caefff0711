# ruff: noqa: ASYNC109  -- the public API takes timeout= seconds, as the brief specifies
"""The stand-in's world: chats, their messages, the update queue, callback queries, files.

Everything runs in one asyncio event loop, so no locks are needed; waiting code (long
polling, ``wait_for_message``) sleeps on :meth:`World.wait_changed`, which every change
wakes up.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standin.limits import Clock
from standin.models import BotMessage, CallbackAnswer

# Telegram keeps undelivered updates for 24 hours.
UPDATE_TTL = 24 * 3600.0
# Update types Telegram delivers when allowed_updates is empty or absent.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_join_request",
    }
)


@dataclass
class Chat:
    """A private chat (id == user id) or a supergroup the bot belongs to."""

    id: int
    type: str
    title: str | None = None
    user: dict[str, Any] | None = None
    started: bool = False
    blocked: bool = False
    bot_member: bool = True
    last_message_id: int = 0
    bot_messages: list[BotMessage] = field(default_factory=list)
    by_id: dict[int, BotMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        """True for groups and supergroups."""
        return self.type in ("group", "supergroup")

    def next_message_id(self) -> int:
        """Message ids are per chat and shared by the user's and the bot's messages."""
        self.last_message_id += 1
        return self.last_message_id

    def as_dict(self) -> dict[str, Any]:
        """Telegram's Chat object."""
        if self.is_group:
            return {"id": self.id, "type": self.type, "title": self.title or ""}
        assert self.user is not None
        chat: dict[str, Any] = {
            "id": self.id,
            "type": "private",
            "first_name": self.user["first_name"],
        }
        for key in ("last_name", "username"):
            if key in self.user:
                chat[key] = self.user[key]
        return chat


@dataclass
class CallbackQueryRecord:
    """A press the bot has to answer within ``callback_answer_timeout``."""

    query_id: str
    user_id: int
    chat_id: int
    created: float
    answered: bool = False


@dataclass
class StoredFile:
    """A file the stand-in serves at ``/file/bot<token>/<path>``."""

    file_id: str
    file_unique_id: str
    path: str
    data: bytes


@dataclass
class PendingUpdate:
    """An update waiting to be confirmed by getUpdates' offset."""

    update_id: int
    created: float
    kind: str
    body: dict[str, Any]
    #: When a getUpdates first returned it (the world's clock); None until then.
    delivered: float | None = None


class World:
    """Chats, messages, updates, callback queries and files of one stand-in."""

    def __init__(
        self, bot_user: dict[str, Any], clock: Clock, first_update_id: int | None = None
    ) -> None:
        self.bot_user = bot_user
        self.clock = clock
        self.chats: dict[int, Chat] = {}
        self.updates: list[PendingUpdate] = []
        # Confirmed updates, kept so tests can replay a lost confirmation (redeliver()).
        self.confirmed: collections.deque[PendingUpdate] = collections.deque(maxlen=10_000)
        start = first_update_id if first_update_id is not None else random.randint(100_000, 900_000)
        self._update_ids = itertools.count(start)
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: dict[int, list[CallbackAnswer]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(random.randint(10**15, 9 * 10**15))
        self._waiters: set[asyncio.Future[None]] = set()
        # Called with (chat id, message) for every new bot message: lets benchmarks observe
        # thousands of chats without a waiter per chat.
        self.message_listeners: list[Callable[[int, BotMessage], None]] = []
        # Called with the bodies of the updates each getUpdates answer or webhook POST carries
        # (redelivered ones again): lets benchmarks time when the bot first saw an update.
        self.delivery_listeners: list[Callable[[list[dict[str, Any]]], None]] = []
        # Called with each update the first time it is handed to the bot, and with every
        # successful call (method, parameters, time): benchmarks time the stages of an answer.
        self.first_delivery_listeners: list[Callable[[PendingUpdate], None]] = []
        self.call_listeners: list[Callable[[str, dict[str, Any], float], None]] = []

    # --- change notification -------------------------------------------------------

    def notify(self) -> None:
        """Wake everything waiting in :meth:`wait_changed`."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_changed(self, timeout: float) -> None:
        """Sleep until the next change or ``timeout`` seconds, whichever comes first."""
        if timeout <= 0:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    # --- updates ---------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update of ``kind`` unless the bot's allowed_updates excludes it."""
        if kind not in self.allowed_updates:
            return None
        update_id = next(self._update_ids)
        body = {"update_id": update_id, kind: payload}
        self.updates.append(PendingUpdate(update_id, self.clock(), kind, body))
        self.notify()
        return update_id

    def confirm(self, offset: int) -> None:
        """Drop updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset < 0:
            self.confirmed.extend(self.updates[:offset])
            self.updates = self.updates[offset:]
        else:
            self.confirmed.extend(u for u in self.updates if u.update_id < offset)
            self.updates = [u for u in self.updates if u.update_id >= offset]
        horizon = self.clock() - UPDATE_TTL
        self.updates = [u for u in self.updates if u.created > horizon]

    def deliver(self, batch: list[PendingUpdate]) -> list[dict[str, Any]]:
        """The bodies of ``batch`` (a getUpdates answer or a webhook POST), telling the
        listeners and stamping first deliveries."""
        for update in batch:
            if update.delivered is None:
                update.delivered = self.clock()
                for first in self.first_delivery_listeners:
                    first(update)
        bodies = [u.body for u in batch]
        for listener in self.delivery_listeners:
            listener(bodies)
        return bodies

    def redeliver(self, count: int) -> list[int]:
        """Put the last ``count`` confirmed updates back in the queue, ids unchanged, as
        Telegram does when a bot's confirmation never arrived."""
        replay = [self.confirmed.pop() for _ in range(min(count, len(self.confirmed)))][::-1]
        self.updates = sorted([*replay, *self.updates], key=lambda u: u.update_id)
        self.notify()
        return [u.update_id for u in replay]

    # --- ids and files -----------------------------------------------------------------

    def new_query_id(self) -> str:
        """A fresh callback query id (a decimal string, like Telegram's)."""
        return str(next(self._query_ids))

    def store_file(self, data: bytes, folder: str, name: str | None = None) -> StoredFile:
        """Keep ``data`` so the bot can getFile and download it."""
        number = next(self._file_ids)
        file_id = f"SI{folder[:3].upper()}{number:08d}{random.randbytes(6).hex()}"
        suffix = f"_{name}" if name else ""
        stored = StoredFile(file_id, f"U{number:08d}", f"{folder}/file_{number}{suffix}", data)
        self.files[file_id] = stored
        self.files_by_path[stored.path] = stored
        return stored

    # --- messages ------------------------------------------------------------------------

    def message_dict(self, msg: BotMessage, chat: Chat) -> dict[str, Any]:
        """Telegram's Message object for a bot message in its current state."""
        body: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.bot_user,
            "chat": chat.as_dict(),
            "date": msg.date,
        }
        if msg.kind == "text":
            body["text"] = msg.text
            if msg.entities:
                body["entities"] = msg.entities
        else:
            if msg.caption:
                body["caption"] = msg.caption
                if msg.entities:
                    body["caption_entities"] = msg.entities
            size = len(msg.file_bytes or b"")
            unique = f"U{msg.file_id}"
            if msg.kind == "photo":
                body["photo"] = [
                    {
                        "file_id": msg.file_id,
                        "file_unique_id": unique,
                        "width": 90,
                        "height": 90,
                        "file_size": min(size, 4000),
                    },
                    {
                        "file_id": msg.file_id,
                        "file_unique_id": unique + "x",
                        "width": 800,
                        "height": 800,
                        "file_size": size,
                    },
                ]
            else:
                document: dict[str, Any] = {
                    "file_id": msg.file_id,
                    "file_unique_id": unique,
                    "file_size": size,
                }
                if msg.file_name:
                    document["file_name"] = msg.file_name
                if msg.mime_type:
                    document["mime_type"] = msg.mime_type
                body["document"] = document
        if msg.reply_to_message_id is not None:
            replied = self.lookup(chat, msg.reply_to_message_id)
            if replied is not None:
                body["reply_to_message"] = replied
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            body["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            body["edit_date"] = msg.edit_date
        return body

    def lookup(self, chat: Chat, message_id: int) -> dict[str, Any] | None:
        """Any message of the chat (user's or bot's) as a Message dict, without replies."""
        if message_id in chat.user_messages:
            return {
                k: v for k, v in chat.user_messages[message_id].items() if k != "reply_to_message"
            }
        bot_msg = chat.by_id.get(message_id)
        if bot_msg is not None and not bot_msg.deleted:
            body = self.message_dict(bot_msg, chat)
            body.pop("reply_to_message", None)
            return body
        return None

    def add_bot_message(self, chat: Chat, msg: BotMessage) -> None:
        """Record a message the bot has just sent."""
        chat.bot_messages.append(msg)
        chat.by_id[msg.message_id] = msg
        for listener in self.message_listeners:
            listener(chat.id, msg)
        self.notify()


def now_seconds() -> int:
    """Message dates are Unix time in whole seconds."""
    return int(time.time())
