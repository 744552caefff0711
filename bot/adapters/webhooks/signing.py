"""Signatures receivers use to reject forgeries and replays.

Header ``X-NPSBot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, where the MAC is over
``"<t>." + body`` with the endpoint's secret. A receiver recomputes it, compares in constant
time, rejects a ``t`` more than five minutes away from its clock (replays of old deliveries)
and remembers event ids it has processed (replays within the window).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-NPSBot-Signature"
EVENT_ID_HEADER = "X-NPSBot-Event-Id"
EVENT_TYPE_HEADER = "X-NPSBot-Event-Type"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver should do (the README's snippet is this function)."""
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
