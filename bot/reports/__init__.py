"""Rendering: digests, /nps and /stats texts, alert cards, charts, CSV, Telegram text limits."""
