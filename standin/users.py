# ruff: noqa: ASYNC109  -- the public API takes timeout= seconds, as the brief specifies
"""Simulated Telegram users and groups, driven from test code in the server's event loop.

Their actions become updates in the stand-in's queue, exactly as Telegram would deliver
them. Actions never yield to the event loop before the update is queued, so a
``wait_for_message`` called right after an action cannot miss the bot's reply.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable
from typing import Any

from standin.models import BotMessage, CallbackAnswer
from standin.state import CallbackQueryRecord, Chat, World, now_seconds
from standin.validation import utf16_len

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
# A tiny valid PNG (1×1), so bots that inspect photos get a real image.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d9e0c90000000049454e44ae426082"
)


async def wait_until(
    world: World,
    condition: Callable[[], bool],
    timeout: float,
    what: str = "condition",
) -> None:
    """Return once ``condition()`` is true; TimeoutError after ``timeout`` seconds.

    Wakes on every change of the world and also every 50 ms, so conditions on outside
    state (a database, a subprocess) are noticed too.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"{what} not met within {timeout} s")
        await world.wait_changed(min(0.05, remaining))


def _describe(msg: BotMessage) -> str:
    shown = msg.shown_text
    text = (shown[:60] + "…") if shown and len(shown) > 60 else shown
    extra = f" buttons={msg.button_data}" if msg.button_data else ""
    return f"#{msg.message_id} {msg.kind} {text!r}{extra}"


async def wait_for_bot_message(
    world: World,
    chat: Chat,
    predicate: Callable[[BotMessage], bool] | None,
    timeout: float,
    count: int,
    since: int | None,
) -> BotMessage:
    """The ``count``-th bot message with id above ``since`` (default: now) matching predicate.

    Message ids grow in each chat, so "new" is "id above the chat's last id at the start".
    """
    floor = chat.last_message_id if since is None else since

    def fresh() -> list[BotMessage]:
        return sorted(
            (m for m in chat.by_id.values() if m.message_id > floor), key=lambda m: m.message_id
        )

    def new_matching() -> list[BotMessage]:
        return [m for m in fresh() if predicate is None or predicate(m)]

    try:
        await wait_until(world, lambda: len(new_matching()) >= count, timeout)
    except TimeoutError:
        arrived = "; ".join(_describe(m) for m in fresh()) or "nothing"
        raise TimeoutError(
            f"no {count} new bot message(s) matching the predicate in chat {chat.id} within "
            f"{timeout} s; arrived since the wait began: {arrived}"
        ) from None
    return new_matching()[count - 1]


class _ChatView:
    """What a user or a group sees of the bot's messages in one chat."""

    def __init__(self, world: World, chat: Chat) -> None:
        self._world = world
        self._chat = chat

    @property
    def chat_id(self) -> int:
        """The chat's id."""
        return self._chat.id

    def mark_started(self) -> None:
        """As if the user had pressed Start long ago, without an update (bulk set-ups)."""
        self._chat.started = True

    @property
    def messages(self) -> list[BotMessage]:
        """Bot messages in this chat, in order, in their current state (deleted left out)."""
        return [m for m in self._chat.bot_messages if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        """The latest bot message still in the chat."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def last_message_id(self) -> int:
        """The chat's latest message id, user's or bot's (a ``since`` for wait_for_message)."""
        return self._chat.last_message_id

    def message(self, message_id: int) -> BotMessage | None:
        """A bot message by id, or None."""
        return self._chat.by_id.get(message_id)

    async def wait_for_message(
        self,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 10.0,
        count: int = 1,
        since: int | None = None,
    ) -> BotMessage:
        """Wait for the ``count``-th NEW bot message (sent after this call) matching predicate.

        ``since`` (a ``last_message_id`` taken earlier) moves the start back. Raises
        ``TimeoutError`` listing what did arrive.
        """
        return await wait_for_bot_message(self._world, self._chat, predicate, timeout, count, since)

    async def wait_for_edit(
        self,
        message_id: int,
        timeout: float = 10.0,
        edits: int | None = None,
    ) -> BotMessage:
        """Wait until bot message ``message_id`` has been edited ``edits`` times (default: once
        more than now)."""
        msg = self._chat.by_id.get(message_id)
        if msg is None:
            raise KeyError(f"no bot message {message_id} in chat {self._chat.id}")
        target = msg.edit_count + 1 if edits is None else edits
        await wait_until(
            self._world,
            lambda: msg.edit_count >= target,
            timeout,
            f"edit #{target} of message {message_id}",
        )
        return msg

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll ``condition`` until true; TimeoutError after ``timeout`` seconds."""
        await wait_until(self._world, condition, timeout)

    def _push_message(
        self, sender: dict[str, Any], fields: dict[str, Any], reply_to: int | None = None
    ) -> int:
        message_id = self._chat.next_message_id()
        body: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": self._chat.as_dict(),
            "date": now_seconds(),
            **fields,
        }
        if reply_to is not None:
            replied = self._world.lookup(self._chat, reply_to)
            if replied is not None:
                body["reply_to_message"] = replied
        self._chat.user_messages[message_id] = body
        # A copy: a later edit must not change the update already queued.
        self._world.push_update("message", copy.deepcopy(body))
        return message_id

    def _text_fields(self, text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        match = _COMMAND_RE.match(text)
        if match:
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}
            ]
        return fields

    def _press(self, sender: dict[str, Any], message_id: int, data: str) -> str:
        query_id = self._world.new_query_id()
        msg = self._chat.by_id.get(message_id)
        if msg is not None and not msg.deleted:
            message = self._world.message_dict(msg, self._chat)
        else:
            # Telegram's InaccessibleMessage: date 0.
            message = {"message_id": message_id, "chat": self._chat.as_dict(), "date": 0}
        self._world.callback_queries[query_id] = CallbackQueryRecord(
            query_id, sender["id"], self._chat.id, self._world.clock()
        )
        self._world.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": sender,
                "message": message,
                "chat_instance": str(abs(self._chat.id) * 7919 + 17),
                "data": data,
            },
        )
        return query_id

    def _find_button(
        self, message: BotMessage | int, data: str | None, text: str | None
    ) -> tuple[int, str]:
        message_id = message if isinstance(message, int) else message.message_id
        current = self._chat.by_id.get(message_id)
        if current is None or current.deleted:
            raise LookupError(f"no bot message {message_id} in chat {self._chat.id}")
        for button_text, button_data in (b for row in current.buttons for b in row):
            if button_data is None:
                continue
            if (data is not None and button_data == data) or (
                data is None and text is not None and button_text == text
            ):
                return message_id, button_data
        raise LookupError(
            f"message {message_id} has no button with data={data!r} text={text!r}; "
            f"current buttons: {current.buttons}"
        )


class SimUser(_ChatView):
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(self, world: World, chat: Chat, user: dict[str, Any]) -> None:
        super().__init__(world, chat)
        self.user = user

    @property
    def id(self) -> int:
        """The user's id (also the private chat's id)."""
        return int(self.user["id"])

    @property
    def first_name(self) -> str:
        """The user's first name."""
        return str(self.user["first_name"])

    @property
    def started(self) -> bool:
        """Whether the user has pressed Start (the bot may write)."""
        return self._chat.started

    @property
    def blocked(self) -> bool:
        """Whether the user has blocked the bot."""
        return self._chat.blocked

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this user's presses, in order."""
        return list(self._world.callback_answers.get(self.id, []))

    async def start(self, payload: str | None = None) -> int:
        """Send ``/start`` or ``/start <payload>`` (a deep link); the bot may write from now on.

        Starting a blocked bot unblocks it, as the Restart button does.
        """
        if self._chat.blocked:
            self.unblock()
        self._chat.started = True
        text = "/start" if payload is None else f"/start {payload}"
        return self._push_message(self.user, self._text_fields(text))

    async def send_text(self, text: str, reply_to: int | None = None) -> int:
        """Type a message; a leading /command gets a bot_command entity. Returns message_id."""
        return self._push_message(self.user, self._text_fields(text), reply_to)

    async def send_sticker(self, emoji: str = "👍") -> int:
        """Send a regular sticker."""
        stored = self._world.store_file(b"RIFF-sticker", "stickers", "sticker.webp")
        return self._push_message(
            self.user,
            {
                "sticker": {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                    "emoji": emoji,
                }
            },
        )

    async def send_photo(self, data: bytes = TINY_PNG, caption: str | None = None) -> int:
        """Send a photo (two sizes, like Telegram)."""
        stored = self._world.store_file(data, "photos", "photo.png")
        sizes = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id + s,
                "width": w,
                "height": w,
                "file_size": len(data),
            }
            for s, w in (("a", 90), ("b", 320))
        ]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._push_message(self.user, fields)

    async def send_voice(self, duration: int = 3, data: bytes = b"OggS-voice") -> int:
        """Send a voice note."""
        stored = self._world.store_file(data, "voice", "voice.ogg")
        return self._push_message(
            self.user,
            {
                "voice": {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "duration": duration,
                    "mime_type": "audio/ogg",
                    "file_size": len(data),
                }
            },
        )

    async def send_document(
        self,
        data: bytes = b"hello",
        file_name: str = "file.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> int:
        """Send a document."""
        stored = self._world.store_file(data, "documents", file_name)
        fields: dict[str, Any] = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(data),
            }
        }
        if caption:
            fields["caption"] = caption
        return self._push_message(self.user, fields)

    async def edit_text(self, message_id: int, new_text: str) -> None:
        """Edit one of the user's own text messages: an ``edited_message`` update."""
        body = self._chat.user_messages.get(message_id)
        if body is None or "text" not in body:
            raise LookupError(f"user {self.id} has no text message {message_id}")
        body.pop("entities", None)
        body.update(self._text_fields(new_text))
        body["edit_date"] = now_seconds()
        self._world.push_update("edited_message", copy.deepcopy(body))

    async def press(
        self, message: BotMessage | int, data: str | None = None, text: str | None = None
    ) -> str:
        """Press a button of the message's CURRENT keyboard, by callback_data or by text.

        Raises LookupError if there is no such button. Returns the callback query id.
        """
        if data is None and text is None:
            raise ValueError("press() needs data= or text=")
        message_id, button_data = self._find_button(message, data, text)
        return self._press(self.user, message_id, button_data)

    async def press_raw(self, message_id: int, data: str) -> str:
        """A forged press (modified client): any data, any message id, nothing checked."""
        return self._press(self.user, message_id, data)

    def block(self, notify: bool = True) -> None:
        """Block the bot: its sends and edits get 403 "bot was blocked by the user".

        Like Telegram, the bot is told through a ``my_chat_member`` update (kicked).
        """
        self._chat.blocked = True
        if notify:
            self._member_update("member", "kicked")
        self._world.notify()

    def unblock(self, notify: bool = True) -> None:
        """Unblock the bot (a ``my_chat_member`` update: member)."""
        self._chat.blocked = False
        if notify:
            self._member_update("kicked", "member")
        self._world.notify()

    def _member_update(self, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            body: dict[str, Any] = {"status": status, "user": self._world.bot_user}
            if status == "kicked":
                body["until_date"] = 0
            return body

        self._world.push_update(
            "my_chat_member",
            {
                "chat": self._chat.as_dict(),
                "from": self.user,
                "date": now_seconds(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    async def wait_for_callback_answer(
        self, query_id: str, timeout: float = 10.0
    ) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery to press ``query_id``."""

        def found() -> CallbackAnswer | None:
            return next((a for a in self.callback_answers if a.query_id == query_id), None)

        await wait_until(
            self._world,
            lambda: found() is not None,
            timeout,
            f"answer to callback query {query_id}",
        )
        answer = found()
        assert answer is not None
        return answer


class SimGroup(_ChatView):
    """A supergroup (e.g. the admins' chat) with the bot as a member."""

    def __init__(self, world: World, chat: Chat, members: list[SimUser]) -> None:
        super().__init__(world, chat)
        self.members = members

    @property
    def id(self) -> int:
        """The group's (negative) chat id."""
        return self._chat.id

    @property
    def title(self) -> str:
        """The group's title."""
        return self._chat.title or ""

    async def send_text(self, from_user: SimUser, text: str, reply_to: int | None = None) -> int:
        """``from_user`` writes in the group. Returns the message id."""
        return self._push_message(from_user.user, self._text_fields(text), reply_to)

    async def press(
        self,
        from_user: SimUser,
        message: BotMessage | int,
        data: str | None = None,
        text: str | None = None,
    ) -> str:
        """``from_user`` presses a button of a bot message in the group."""
        if data is None and text is None:
            raise ValueError("press() needs data= or text=")
        message_id, button_data = self._find_button(message, data, text)
        return self._press(from_user.user, message_id, button_data)

    async def press_raw(self, from_user: SimUser, message_id: int, data: str) -> str:
        """A forged press in the group: nothing checked."""
        return self._press(from_user.user, message_id, data)

    def remove_bot(self) -> None:
        """Kick the bot: its sends get 403 "bot was kicked from the supergroup chat"."""
        self._chat.bot_member = False
        self._world.notify()

    def add_bot(self) -> None:
        """Add the bot back."""
        self._chat.bot_member = True
        self._world.notify()
