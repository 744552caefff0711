"""Schema version 002: the ops side (events, contact rules, relationship cycle, reminders)."""

STATEMENTS: list[str] = []
