"""Schema version 003: the admin side (digests sent, detractor alerts, follow-ups)."""

STATEMENTS: list[str] = []
