"""Plain records the stand-in keeps and hands to test code: bot messages, answers, stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MessageKind = Literal["text", "photo", "document"]


@dataclass
class BotMessage:
    """A message the bot sent, in its CURRENT state (edits applied).

    ``text`` (or ``caption``) is what the user sees: HTML tags are parsed away, as on
    Telegram; ``source`` keeps what the bot sent. ``history`` holds the earlier visible
    texts (or captions), oldest first.
    """

    message_id: int
    chat_id: int
    text: str | None
    caption: str | None
    reply_markup: dict[str, Any] | None
    kind: MessageKind
    date: int
    file_bytes: bytes | None = None
    file_name: str | None = None
    parse_mode: str | None = None
    edited: bool = False
    edit_count: int = 0
    reply_to_message_id: int | None = None
    history: list[str] = field(default_factory=list)
    source: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    file_id: str | None = None
    mime_type: str | None = None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of ``(text, callback_data)``; url buttons have None."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]

    @property
    def button_data(self) -> list[str]:
        """Every callback_data of the inline keyboard, row by row."""
        return [data for row in self.buttons for _, data in row if data is not None]

    @property
    def button_texts(self) -> list[str]:
        """Every button text of the inline keyboard, row by row."""
        return [text for row in self.buttons for text, _ in row]

    @property
    def shown_text(self) -> str | None:
        """Text for a text message, caption for media."""
        return self.text if self.kind == "text" else self.caption


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery for one press."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass
class Stats:
    """Counters of what the bot did and what the stand-in refused.

    ``calls``: calls per method (canonical spelling, e.g. ``sendMessage``), failed ones
    included; ``rate_limited``: 429s issued (injected ones included); ``forbidden``: 403s
    issued; ``deliveries``: messages successfully sent per chat id (edits not counted);
    ``bad_requests``: 400s issued; ``faults``: injected failures (429 and 5xx);
    ``errors``: every error answer by status code (409s show up here).
    """

    calls: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    forbidden: int = 0
    bad_requests: int = 0
    faults: int = 0
    deliveries: dict[int, int] = field(default_factory=dict)
    errors: dict[int, int] = field(default_factory=dict)

    @property
    def total_deliveries(self) -> int:
        """Messages successfully sent over all chats."""
        return sum(self.deliveries.values())
