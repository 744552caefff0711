"""Benchmarks against the local Telegram stand-in (see README, "Benchmarks")."""
