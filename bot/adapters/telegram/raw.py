"""Reading an update's JSON before PTB parses it.

The receiver stores, routes and applies the flood limits to updates as received: parsing a
press with its message and keyboard costs about 0.4 ms, most of what a flood of presses
would otherwise cost, and an update the limits keep out is never parsed at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Where an update's chat (else its user) sits in each kind of update body, first match wins:
# a message's chat, a press's message's chat, else whoever sent or pressed.
_CHAT_PATHS: tuple[tuple[str, ...], ...] = (
    ("chat", "id"),
    ("message", "chat", "id"),
    ("from", "id"),
    ("user", "id"),
)


def update_id_of(raw: Any) -> int | None:
    """The ``update_id`` of a raw update, if it has one."""
    if isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
        return int(raw["update_id"])
    return None


def field(raw: Any, *path: str) -> Any:
    """``raw[path[0]][path[1]]...``, or None where the JSON has no such object."""
    value: Any = raw
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def body_of(raw: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The update's kind (``message``, ``callback_query``, ...) and its body."""
    for kind, body in raw.items():
        if kind != "update_id" and isinstance(body, Mapping):
            return kind, body
    return None


def chat_key(raw: Any) -> int:
    """The worker an update goes to: its chat (else its user; else 0), as PTB's
    ``effective_chat`` / ``effective_user`` would give it."""
    found = body_of(raw) if isinstance(raw, Mapping) else None
    if found is None:
        return 0
    for path in _CHAT_PATHS:
        value = field(found[1], *path)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def language_code(sender: Any) -> str | None:
    """A ``from`` object's Telegram language, if it has one."""
    code = field(sender, "language_code")
    return code if isinstance(code, str) else None
