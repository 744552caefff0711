"""Telegram glue: receiving updates, handlers, and sending within Telegram's limits."""
