"""Running the `npsbot` command in the test's process."""

from __future__ import annotations

from bot.cli import main


def run_cli(*args: str) -> int:
    """``npsbot args...``; its exit code."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
