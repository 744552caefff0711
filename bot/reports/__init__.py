"""Pure report composition: periods, digests, charts, CSV export, Telegram text limits."""
