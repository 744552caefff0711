"""Bot API methods of the stand-in, with Telegram's checks and error wording.

:class:`Methods` implements each method on a :class:`World`; :data:`REGISTRY` maps the
lower-cased method name (Telegram's names are case-insensitive) to the implementation.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from standin.errors import (
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    bad_request,
    forbidden,
    too_many_requests,
)
from standin.limits import Limits, RateLimiter
from standin.models import BotMessage, CallbackAnswer, Stats
from standin.params import Params, Upload
from standin.state import DEFAULT_UPDATE_TYPES, Chat, World, now_seconds
from standin.validation import (
    MAX_ANSWER_TEXT,
    check_caption,
    check_commands,
    check_message_text,
    check_reply_markup,
)
from standin.webhook import Pusher, Webhook

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


@dataclass
class CallContext:
    """What a method may know about the HTTP request that carries it."""

    connection_alive: Callable[[], bool]


@dataclass
class _Poller:
    """The getUpdates call currently long-polling."""

    alive: Callable[[], bool]
    terminated: bool = False


Method = Callable[["Methods", Params, CallContext], Awaitable[Any]]


class Methods:
    """The Bot API subset the bot uses, implemented over a :class:`World`."""

    def __init__(
        self, world: World, limits: Limits, limiter: RateLimiter, stats: Stats, pusher: Pusher
    ) -> None:
        self.world = world
        self.pusher = pusher
        self.limits = limits
        self.limiter = limiter
        self.stats = stats
        self.stopping = False
        self._poller: _Poller | None = None

    # --- helpers -------------------------------------------------------------------------

    def _chat(self, p: Params) -> Chat:
        """The chat named by chat_id; 400 "chat not found" when there is none."""
        raw = p.str_("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None  # @usernames are not simulated
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, p: Params) -> Chat:
        """The chat named by chat_id, if the bot may write there (403 otherwise)."""
        chat = self._chat(p)
        if chat.is_group:
            if not chat.bot_member:
                raise forbidden("bot was kicked from the supergroup chat")
        elif chat.blocked:
            raise forbidden("bot was blocked by the user")
        elif not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _rate_limit(self, chat: Chat) -> None:
        retry_after = self.limiter.check(chat.id, chat.is_group)
        if retry_after:
            raise too_many_requests(retry_after)

    def _reply_to(self, p: Params, chat: Chat) -> int | None:
        reply_id = p.int_("reply_to_message_id")
        allow_missing = p.bool_("allow_sending_without_reply")
        parameters = p.json_("reply_parameters")
        if isinstance(parameters, dict) and parameters.get("message_id") is not None:
            reply_id = int(parameters["message_id"])
            allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
        if reply_id is None:
            return None
        if self.world.lookup(chat, reply_id) is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return reply_id

    def _deliver(self, chat: Chat, msg: BotMessage) -> dict[str, Any]:
        self.world.add_bot_message(chat, msg)
        self.stats.deliveries[chat.id] = self.stats.deliveries.get(chat.id, 0) + 1
        return self.world.message_dict(msg, chat)

    def _message_to_edit(self, p: Params) -> tuple[Chat, BotMessage]:
        if p.has("inline_message_id"):
            raise bad_request("inline messages are not simulated by the stand-in")
        chat = self._writable_chat(p)
        message_id = p.int_("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = chat.by_id.get(message_id)
        if msg is None or msg.deleted:
            if message_id in chat.user_messages:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return chat, msg

    def _apply_edit(self, chat: Chat, msg: BotMessage) -> dict[str, Any]:
        msg.edited = True
        msg.edit_count += 1
        msg.edit_date = now_seconds()
        self.world.notify()
        return self.world.message_dict(msg, chat)

    # --- service methods ---------------------------------------------------------------

    async def get_me(self, p: Params, ctx: CallContext) -> Any:
        """getMe: the bot's User."""
        return self.world.bot_user

    async def log_out(self, p: Params, ctx: CallContext) -> Any:
        """logOut and close: accepted, nothing to do."""
        return True

    async def delete_webhook(self, p: Params, ctx: CallContext) -> Any:
        """deleteWebhook: back to getUpdates; drop_pending_updates clears the queue."""
        self.pusher.set(None)
        if p.bool_("drop_pending_updates"):
            self.world.updates.clear()
        return True

    async def get_webhook_info(self, p: Params, ctx: CallContext) -> Any:
        """getWebhookInfo: the webhook set (url "" if none), updates awaiting delivery, and
        the latest delivery error."""
        hook = self.pusher.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if self.world.allowed_updates != DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(self.world.allowed_updates)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def set_webhook(self, p: Params, ctx: CallContext) -> Any:
        """setWebhook: from now on updates are POSTed to ``url`` (an empty url deletes the
        webhook). HTTPS on Telegram's ports; plain HTTP only to a loopback address, as a
        local Bot API server allows."""
        url = p.str_("url")
        if url is None:
            raise bad_request("url is empty")  # Telegram's wording for a missing url
        if url == "":
            return await self.delete_webhook(p, ctx)
        _check_webhook_url(url)
        secret = p.str_("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = p.int_("max_connections", 40)
        if max_connections is None or not 1 <= max_connections <= 100:
            raise bad_request("max_connections must be between 1 and 100")
        allowed = p.json_("allowed_updates", "allowed_updates JSON array")
        if isinstance(allowed, list):
            self.world.allowed_updates = (
                frozenset(str(a) for a in allowed) if allowed else DEFAULT_UPDATE_TYPES
            )
        if p.bool_("drop_pending_updates"):
            self.world.updates.clear()
        self.pusher.set(Webhook(url, secret or None, max_connections))
        if self._poller is not None:
            self._poller.terminated = True  # a long poll in progress ends (with 409)
            self.world.notify()
        return True

    async def get_updates(self, p: Params, ctx: CallContext) -> Any:
        """getUpdates: confirm below offset, long-poll up to timeout, 409 on a second poller."""
        offset = p.int_("offset")
        limit = p.int_("limit", 100)
        timeout = max(0.0, p.float_("timeout", 0.0))
        if limit is None or not 1 <= limit <= 100:
            raise bad_request("limit must be between 1 and 100")
        allowed = p.json_("allowed_updates", "allowed_updates JSON array")
        if self.pusher.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        await self._claim_polling(ctx)
        me = _Poller(ctx.connection_alive)
        self._poller = me
        try:
            if isinstance(allowed, list):
                # Like Telegram, the list applies to updates created from now on.
                self.world.allowed_updates = (
                    frozenset(str(a) for a in allowed) if allowed else DEFAULT_UPDATE_TYPES
                )
            if offset is not None:
                self.world.confirm(offset)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not self.world.updates and not me.terminated and not self.stopping:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await self.world.wait_changed(remaining)
            if me.terminated:
                raise ApiError(409, WEBHOOK_ACTIVE if self.pusher.webhook else CONFLICT)
            return self.world.deliver(self.world.updates[:limit])
        finally:
            if self._poller is me:
                self._poller = None

    async def _claim_polling(self, ctx: CallContext) -> None:
        """A new getUpdates ends the one still polling, which gets 409, as on Telegram.

        Telegram answers the *older* request with "terminated by other getUpdates
        request": a bot that cancelled its long poll (to shut down and confirm its offset)
        is served at once, and two live instances keep knocking each other out with 409s.
        """
        current = self._poller
        if current is not None and not current.terminated:
            current.terminated = True
            self.world.notify()

    async def set_my_commands(self, p: Params, ctx: CallContext) -> Any:
        """setMyCommands: validated and kept per scope and language."""
        commands = check_commands(p.json_("commands", "commands JSON array"))
        self.world.commands[self._commands_key(p)] = commands
        return True

    async def delete_my_commands(self, p: Params, ctx: CallContext) -> Any:
        """deleteMyCommands."""
        self.world.commands.pop(self._commands_key(p), None)
        return True

    async def get_my_commands(self, p: Params, ctx: CallContext) -> Any:
        """getMyCommands."""
        return self.world.commands.get(self._commands_key(p), [])

    def _commands_key(self, p: Params) -> str:
        scope = p.json_("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (p.str_("language_code") or "")

    async def get_chat(self, p: Params, ctx: CallContext) -> Any:
        """getChat: a ChatFullInfo with the fields PTB requires."""
        chat = self._chat(p)
        info = chat.as_dict()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    async def send_chat_action(self, p: Params, ctx: CallContext) -> Any:
        """sendChatAction: checked like a send, not rate-limited."""
        self._writable_chat(p)
        if p.str_("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def get_file(self, p: Params, ctx: CallContext) -> Any:
        """getFile: path under base_file_url for files users sent or the bot uploaded."""
        stored = self.world.files.get(p.str_("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    # --- sending -------------------------------------------------------------------------

    async def send_message(self, p: Params, ctx: CallContext) -> Any:
        """sendMessage: 1–4096 visible characters, valid markup, within rate limits."""
        chat = self._writable_chat(p)
        parse_mode = p.str_("parse_mode")
        visible, entities = check_message_text(p.str_("text"), parse_mode)
        given_entities = p.json_("entities", "entities JSON array")
        if isinstance(given_entities, list) and not parse_mode:
            entities = given_entities
        markup = check_reply_markup(p.json_("reply_markup", "reply keyboard markup JSON object"))
        reply_to = self._reply_to(p, chat)
        self._rate_limit(chat)
        msg = BotMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.id,
            text=visible,
            caption=None,
            reply_markup=markup,
            kind="text",
            date=now_seconds(),
            parse_mode=parse_mode,
            reply_to_message_id=reply_to,
            source=p.str_("text"),
            entities=entities,
        )
        return self._deliver(chat, msg)

    async def send_photo(self, p: Params, ctx: CallContext) -> Any:
        """sendPhoto: upload ≤10 MB (or a known file_id / URL), caption ≤1024."""
        return self._send_media(p, "photo", MAX_PHOTO_BYTES)

    async def send_document(self, p: Params, ctx: CallContext) -> Any:
        """sendDocument: upload ≤50 MB (or a known file_id / URL), caption ≤1024."""
        return self._send_media(p, "document", MAX_DOCUMENT_BYTES)

    def _send_media(self, p: Params, kind: str, max_bytes: int) -> dict[str, Any]:
        chat = self._writable_chat(p)
        media = p.file(kind)
        data: bytes | None = None
        file_name: str | None = None
        mime: str | None = None
        file_id: str
        if isinstance(media, Upload):
            if not media.data:
                raise bad_request("file must be non-empty")
            if len(media.data) > max_bytes:
                if kind == "photo":
                    raise bad_request("file is too big")
                raise ApiError(413, "Request Entity Too Large")
            data, file_name, mime = media.data, media.filename, media.content_type
            stored = self.world.store_file(
                data, "photos" if kind == "photo" else "documents", file_name
            )
            file_id = stored.file_id
        elif isinstance(media, str) and media:
            known = self.world.files.get(media)
            if known is not None:
                data, file_id = known.data, known.file_id
            elif media.startswith(("http://", "https://")):
                # The stand-in has no internet: a URL is taken as a valid remote file.
                file_id = self.world.store_file(b"", "remote").file_id
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise bad_request(f"there is no {kind} in the request")
        parse_mode = p.str_("parse_mode")
        caption, entities = check_caption(p.str_("caption"), parse_mode)
        markup = check_reply_markup(p.json_("reply_markup", "reply keyboard markup JSON object"))
        reply_to = self._reply_to(p, chat)
        self._rate_limit(chat)
        msg = BotMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.id,
            text=None,
            caption=caption,
            reply_markup=markup,
            kind="photo" if kind == "photo" else "document",
            date=now_seconds(),
            file_bytes=data,
            file_name=file_name,
            parse_mode=parse_mode,
            reply_to_message_id=reply_to,
            source=p.str_("caption"),
            entities=entities,
            file_id=file_id,
            mime_type=mime,
        )
        return self._deliver(chat, msg)

    # --- editing -------------------------------------------------------------------------

    async def edit_message_text(self, p: Params, ctx: CallContext) -> Any:
        """editMessageText: omitting reply_markup removes the inline keyboard, as on Telegram."""
        chat, msg = self._message_to_edit(p)
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        parse_mode = p.str_("parse_mode")
        visible, entities = check_message_text(p.str_("text"), parse_mode)
        markup = check_reply_markup(p.json_("reply_markup", "reply keyboard markup JSON object"))
        if visible == msg.text and entities == msg.entities and _same_markup(markup, msg):
            raise bad_request(NOT_MODIFIED)
        self._rate_limit(chat)
        if msg.text is not None:
            msg.history.append(msg.text)
        msg.text, msg.entities, msg.reply_markup = visible, entities, markup
        msg.parse_mode, msg.source = parse_mode, p.str_("text")
        return self._apply_edit(chat, msg)

    async def edit_message_caption(self, p: Params, ctx: CallContext) -> Any:
        """editMessageCaption on a photo or document."""
        chat, msg = self._message_to_edit(p)
        if msg.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        parse_mode = p.str_("parse_mode")
        caption, entities = check_caption(p.str_("caption"), parse_mode)
        markup = check_reply_markup(p.json_("reply_markup", "reply keyboard markup JSON object"))
        if caption == msg.caption and entities == msg.entities and _same_markup(markup, msg):
            raise bad_request(NOT_MODIFIED)
        self._rate_limit(chat)
        msg.history.append(msg.caption or "")
        msg.caption, msg.entities, msg.reply_markup = caption, entities, markup
        msg.parse_mode, msg.source = parse_mode, p.str_("caption")
        return self._apply_edit(chat, msg)

    async def edit_message_reply_markup(self, p: Params, ctx: CallContext) -> Any:
        """editMessageReplyMarkup: omitting reply_markup removes the keyboard."""
        chat, msg = self._message_to_edit(p)
        markup = check_reply_markup(p.json_("reply_markup", "reply keyboard markup JSON object"))
        if _same_markup(markup, msg):
            raise bad_request(NOT_MODIFIED)
        self._rate_limit(chat)
        msg.reply_markup = markup
        return self._apply_edit(chat, msg)

    async def delete_message(self, p: Params, ctx: CallContext) -> Any:
        """deleteMessage: the bot's own messages, or the user's in a private chat."""
        chat = self._chat(p)
        message_id = p.int_("message_id")
        msg = chat.by_id.get(message_id) if message_id is not None else None
        if msg is not None and not msg.deleted:
            msg.deleted = True
            chat.bot_messages = [m for m in chat.bot_messages if m is not msg]
            self.world.notify()
            return True
        if message_id is not None and message_id in chat.user_messages:
            del chat.user_messages[message_id]
            return True
        raise bad_request("message to delete not found")

    async def answer_callback_query(self, p: Params, ctx: CallContext) -> Any:
        """answerCallbackQuery: once, within callback_answer_timeout, text ≤200 characters."""
        text = p.str_("text")
        if text is not None and len(text) > MAX_ANSWER_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        record = self.world.callback_queries.get(p.str_("callback_query_id") or "")
        if (
            record is None
            or record.answered
            or (self.world.clock() - record.created > self.limits.callback_answer_timeout)
        ):
            raise bad_request(QUERY_TOO_OLD)
        record.answered = True
        answer = CallbackAnswer(record.query_id, text or None, p.bool_("show_alert"), p.str_("url"))
        self.world.callback_answers.setdefault(record.user_id, []).append(answer)
        self.world.notify()
        return True


def _check_webhook_url(url: str) -> None:
    """Telegram's rules for a webhook URL (a local Bot API server's for loopback HTTP)."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        loopback = ipaddress.ip_address(parsed.hostname).is_loopback
    except ValueError:
        loopback = parsed.hostname == "localhost"
    if parsed.scheme == "http" and not loopback:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        raise bad_request(
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
        ) from None
    if not loopback and port not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def _same_markup(markup: dict[str, Any] | None, msg: BotMessage) -> bool:
    """Whether ``markup`` equals the message's inline keyboard (empty == none)."""
    return bool(_inline(markup) == _inline(msg.reply_markup))


def _inline(markup: dict[str, Any] | None) -> Any:
    if not markup or not markup.get("inline_keyboard"):
        return None
    if not any(markup["inline_keyboard"]):
        return None
    return markup["inline_keyboard"]


# Canonical name → implementation; looked up by lower-cased name.
_METHODS: dict[str, Method] = {
    "getMe": Methods.get_me,
    "logOut": Methods.log_out,
    "close": Methods.log_out,
    "deleteWebhook": Methods.delete_webhook,
    "getWebhookInfo": Methods.get_webhook_info,
    "setWebhook": Methods.set_webhook,
    "getUpdates": Methods.get_updates,
    "setMyCommands": Methods.set_my_commands,
    "deleteMyCommands": Methods.delete_my_commands,
    "getMyCommands": Methods.get_my_commands,
    "getChat": Methods.get_chat,
    "sendChatAction": Methods.send_chat_action,
    "getFile": Methods.get_file,
    "sendMessage": Methods.send_message,
    "sendPhoto": Methods.send_photo,
    "sendDocument": Methods.send_document,
    "editMessageText": Methods.edit_message_text,
    "editMessageCaption": Methods.edit_message_caption,
    "editMessageReplyMarkup": Methods.edit_message_reply_markup,
    "deleteMessage": Methods.delete_message,
    "answerCallbackQuery": Methods.answer_callback_query,
}
REGISTRY: dict[str, tuple[str, Method]] = {
    name.lower(): (name, impl) for name, impl in _METHODS.items()
}
# Methods random fault injection applies to: the ones that deliver or change messages.
FAULTABLE = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
