"""Signed, expiring, single-use deep-link payloads that link a Telegram chat to a customer.

A payload is the base64url encoding (Telegram's ``A-Za-z0-9_-`` alphabet, no padding) of::

    tag (8 bytes) | issued hour (3 bytes) | nonce (1 byte) | customer id (UTF-8, <= 36 bytes)

* ``tag``: HMAC-SHA256 over everything after it, truncated to 64 bits. A forgery can only
  be tried online, one ``/start`` at a time, so 64 bits are far beyond reach; the shorter
  tag is what lets issue time and nonce fit beside the longest customer id (36 bytes)
  within Telegram's 64-character ``/start`` parameter.
* ``issued hour``: hours since 2024-01-01 UTC (good until the year 3937). Links expire
  ``NPSBOT_LINK_TTL_DAYS`` after the start of that hour, so up to an hour early.
* ``nonce``: random, so that links minted for one customer within one hour differ.

The issued hour and nonce together are the link's :attr:`LinkPayload.key`: the bot records
the keys of used links per customer (single use), and the key of the one link an ops relink
made valid for moving the customer to a new chat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_PAYLOAD = 64
_TAG_BYTES = 8
_HOUR_BYTES = 3
_NONCE_BYTES = 1
_HEADER_BYTES = _TAG_BYTES + _HOUR_BYTES + _NONCE_BYTES
MAX_CUSTOMER_ID_BYTES = MAX_PAYLOAD * 3 // 4 - _HEADER_BYTES  # 36
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_MAX_HOUR = 2 ** (8 * _HOUR_BYTES) - 1
# The shortest payload carries a one-byte id: 13 bytes are 18 base64url characters.
_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{18,64}$")


class LinkError(ValueError):
    """A payload that is malformed or whose signature does not match."""


@dataclass(frozen=True, slots=True)
class LinkPayload:
    """What a genuine payload says."""

    customer_id: str
    issued_at: datetime  # the start of the hour it was minted in (UTC)
    key: str  # identifies this link among the customer's links (issued hour and nonce)

    def expires_at(self, ttl_days: int) -> datetime:
        """When the link stops working."""
        return self.issued_at + timedelta(days=ttl_days)

    def expired(self, now: datetime, ttl_days: int) -> bool:
        """Whether the link no longer works at ``now``."""
        return now >= self.expires_at(ttl_days)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(secret: str, signed: bytes) -> bytes:
    return hmac.new(secret.encode(), b"link2:" + signed, hashlib.sha256).digest()[:_TAG_BYTES]


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


def _hour(issued_at: datetime) -> int:
    hour = int((issued_at - _EPOCH).total_seconds() // 3600)
    if not 0 <= hour <= _MAX_HOUR:
        raise ValueError(f"a link cannot be issued at {issued_at.isoformat()}")
    return hour


def make_payload(
    secret: str,
    customer_id: str,
    issued_at: datetime | None = None,
    *,
    nonce: int | None = None,
) -> str:
    """The /start payload for ``customer_id``, issued at ``issued_at`` (default: now).

    ``nonce`` (0–255) is random unless given (tests give it to mint twin links)."""
    customer_id = validate_customer_id(customer_id)
    hour = _hour(issued_at if issued_at is not None else datetime.now(UTC))
    if nonce is None:
        nonce = secrets.randbelow(256)
    signed = hour.to_bytes(_HOUR_BYTES, "big") + bytes([nonce]) + customer_id.encode()
    payload = _b64(_tag(secret, signed) + signed)
    assert len(payload) <= MAX_PAYLOAD
    return payload


def read_payload(secret: str, payload: str) -> LinkPayload:
    """What a genuine payload says; LinkError if it is malformed or tampered with.

    Expiry is the caller's check (:meth:`LinkPayload.expired`): it needs the clock."""
    if not _PAYLOAD_RE.fullmatch(payload):
        raise LinkError("malformed payload")
    try:
        raw = _unb64(payload)
    except ValueError:
        raise LinkError("malformed payload") from None
    if _b64(raw) != payload:
        # Non-zero padding bits: several payloads would decode to one link. Only the
        # canonical encoding is accepted, so any altered character is refused.
        raise LinkError("malformed payload")
    tag, signed = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    if len(signed) <= _HOUR_BYTES + _NONCE_BYTES:
        raise LinkError("malformed payload")
    if not hmac.compare_digest(tag, _tag(secret, signed)):
        raise LinkError("bad signature")
    try:
        customer_id = signed[_HOUR_BYTES + _NONCE_BYTES :].decode("utf-8")
    except UnicodeDecodeError:  # only a holder of the secret could sign this
        raise LinkError("malformed payload") from None
    hour = int.from_bytes(signed[:_HOUR_BYTES], "big")
    return LinkPayload(
        customer_id=customer_id,
        issued_at=_EPOCH + timedelta(hours=hour),
        key=_b64(signed[: _HOUR_BYTES + _NONCE_BYTES]),
    )


def deep_link(
    bot_username: str, secret: str, customer_id: str, issued_at: datetime | None = None
) -> str:
    """``https://t.me/<bot>?start=<payload>`` for ``customer_id``."""
    return f"https://t.me/{bot_username}?start={make_payload(secret, customer_id, issued_at)}"
