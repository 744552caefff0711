"""Signatures receivers use to reject forgeries and replays.

Every delivery is signed twice, for one version:

* **Standard Webhooks** (https://www.standardwebhooks.com): headers ``webhook-id`` (the
  event id, the same on every retry), ``webhook-timestamp`` (unix seconds) and
  ``webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``. The key is
  the endpoint's secret: one given as ``whsec_<base64>`` is base64-decoded (the form the
  Standard Webhooks libraries take), any other secret is used as its raw UTF-8 bytes.
  Receivers verify with any Standard Webhooks library.
* **Deprecated** ``X-NPSBot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
  ``"<t>." + body`` with the secret's UTF-8 bytes; it goes in the next version.

A receiver recomputes the MAC, compares in constant time, rejects a timestamp more than
five minutes away from its clock (replays of old deliveries) and remembers event ids it has
processed (replays within the window).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from bot.settings.webhooks import WHSEC_PREFIX, decode_whsec

SIGNATURE_HEADER = "X-NPSBot-Signature"  # deprecated: see the module's docstring
EVENT_ID_HEADER = "X-NPSBot-Event-Id"
EVENT_TYPE_HEADER = "X-NPSBot-Event-Type"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
TOLERANCE_SECONDS = 300


def secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks signature: ``whsec_<base64>`` decoded, any other
    secret as its UTF-8 bytes. Raises ValueError for a ``whsec_`` secret that is not base64."""
    if not secret.startswith(WHSEC_PREFIX):
        return secret.encode()
    try:
        key = decode_whsec(secret)
    except ValueError:
        raise ValueError(f"a {WHSEC_PREFIX} secret must be base64 after the prefix") from None
    if not key:
        raise ValueError(f"a {WHSEC_PREFIX} secret must not be empty")
    return key


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value (``v1,<base64>``)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def standard_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one delivery attempt."""
    return {
        STANDARD_ID_HEADER: msg_id,
        STANDARD_TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: standard_signature(secret, msg_id, timestamp, body),
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The deprecated ``X-NPSBot-Signature`` header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver of the deprecated header should do."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), given)
