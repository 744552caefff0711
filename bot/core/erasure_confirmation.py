"""The Yes/No buttons that confirm an erasure (``/delete_me``).

Callback data is client-controlled: anyone can send any bytes to the bot. The buttons are
therefore self-authenticating and carry nothing secret: the action (y/n), the customer, the
expiry time and a MAC (encoded as :data:`bot.core.callback_data.ERASURE`). The MAC
(HMAC-SHA256 under a key derived from the link secret, cut to 96 bits) covers the action,
the chat the prompt was sent to, the customer and the expiry time. A press is honoured
only from that chat, for the customer linked to it when the prompt was sent, and before it
expires; nothing is stored while the customer decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from bot.core.callback_data import ERASE_NO, ERASE_YES, ERASURE, MAX_ID, ErasurePress

YES = ERASE_YES
NO = ERASE_NO
_MAC_BYTES = 12

#: A parsed (not yet verified) press; its shape is :data:`bot.core.callback_data.ERASURE`.
Confirmation = ErasurePress


def confirmation_key(link_secret: str) -> bytes:
    """A key of its own, derived from the link secret, so that a MAC made for these buttons
    can never be mistaken for a signed deep link (or the other way round)."""
    return hmac.new(link_secret.encode(), b"npsbot/erasure-confirmation/v1", "sha256").digest()


def _mac(key: bytes, action: str, chat_id: int, customer_id: int, expires: int) -> str:
    message = f"{action}:{chat_id}:{customer_id}:{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def expiry(now: datetime, minutes: int) -> int:
    """The Unix time a prompt sent ``now`` stops being valid."""
    return int((now.astimezone(UTC) + timedelta(minutes=minutes)).timestamp())


def callback_data(key: bytes, action: str, chat_id: int, customer_id: int, expires: int) -> str:
    """The button's callback data (at most 55 bytes, under Telegram's 64)."""
    if action not in (YES, NO) or not 0 < customer_id <= MAX_ID:
        raise ValueError("invalid confirmation button")
    mac = _mac(key, action, chat_id, customer_id, expires)
    return ERASURE.encode(Confirmation(action, customer_id, expires, mac))


def parse(data: str | None) -> Confirmation | None:
    """The press, or None if the data is not exactly of our form."""
    return ERASURE.parse(data)


def verify(key: bytes, press: Confirmation, chat_id: int) -> bool:
    """Whether the press was made on a prompt this bot sent to ``chat_id`` (constant-time)."""
    expected = _mac(key, press.action, chat_id, press.customer_id, press.expires)
    return hmac.compare_digest(expected, press.mac)


def keyboard(
    key: bytes, chat_id: int, customer_id: int, expires: int, yes: str, no: str
) -> dict[str, object]:
    """The inline keyboard of the prompt: Yes, erase / No."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": yes,
                    "callback_data": callback_data(key, YES, chat_id, customer_id, expires),
                },
                {
                    "text": no,
                    "callback_data": callback_data(key, NO, chat_id, customer_id, expires),
                },
            ]
        ]
    }
