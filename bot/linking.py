"""Signed deep-link payloads that link a Telegram chat to a company's customer id.

Payload = base64url(customer id) + 16-character base64url HMAC-SHA256 tag (96 bits), all in
Telegram's ``A-Za-z0-9_-`` alphabet and within its 64 characters. The tag has a fixed length
and comes last, so no separator is needed (``_`` and ``-`` are part of base64url anyway).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata

MAX_PAYLOAD = 64
_TAG_CHARS = 16
_TAG_BYTES = 12
MAX_CUSTOMER_ID_BYTES = (MAX_PAYLOAD - _TAG_CHARS) * 3 // 4  # 36
_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{17,64}$")


class LinkError(ValueError):
    """A payload that is malformed or whose signature does not match."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(secret: str, customer_id: str) -> str:
    mac = hmac.new(secret.encode(), b"link:" + customer_id.encode(), hashlib.sha256)
    return _b64(mac.digest()[:_TAG_BYTES])


def _is_noncharacter(ch: str) -> bool:
    """Unicode's permanently reserved non-characters: U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF."""
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


# Control (Cc), format (Cf: bidirectional overrides and isolates, zero-width spaces and
# joiners, the BOM...), surrogate (Cs) and line/paragraph separator (Zl, Zp) characters:
# invisible or reordering, they let one id pass for another in alerts and exports.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def validate_customer_id(customer_id: str) -> str:
    """Return the id in its canonical form (Unicode NFC, so that composed and decomposed
    spellings are one customer) if it can be linked; raise ValueError saying why not."""
    customer_id = unicodedata.normalize("NFC", customer_id)
    if not customer_id or customer_id != customer_id.strip():
        raise ValueError("customer id must be non-empty without leading/trailing spaces")
    for ch in customer_id:
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES or _is_noncharacter(ch):
            raise ValueError(
                f"customer id must not contain control, invisible, bidirectional or "
                f"non-character code points (U+{ord(ch):04X})"
            )
    if len(customer_id.encode()) > MAX_CUSTOMER_ID_BYTES:
        raise ValueError(
            f"customer id is longer than {MAX_CUSTOMER_ID_BYTES} bytes, the most a "
            "Telegram deep link can carry with its signature"
        )
    return customer_id


def make_payload(secret: str, customer_id: str) -> str:
    """The /start payload for ``customer_id``."""
    customer_id = validate_customer_id(customer_id)
    return _b64(customer_id.encode()) + _tag(secret, customer_id)


def read_payload(secret: str, payload: str) -> str:
    """The customer id a payload links to; LinkError if malformed or tampered with."""
    if not _PAYLOAD_RE.fullmatch(payload):
        raise LinkError("malformed payload")
    body, tag = payload[:-_TAG_CHARS], payload[-_TAG_CHARS:]
    try:
        raw = _unb64(body)
        customer_id = raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise LinkError("malformed payload") from None
    if _b64(raw) != body:
        # Non-zero padding bits: several bodies would decode to one id. Only the canonical
        # encoding is accepted, so any altered character is refused.
        raise LinkError("malformed payload")
    if not hmac.compare_digest(tag, _tag(secret, customer_id)):
        raise LinkError("bad signature")
    return customer_id


def deep_link(bot_username: str, secret: str, customer_id: str) -> str:
    """``https://t.me/<bot>?start=<payload>`` for ``customer_id``."""
    return f"https://t.me/{bot_username}?start={make_payload(secret, customer_id)}"
