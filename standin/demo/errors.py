"""The demo's one error type."""

from __future__ import annotations


class DemoError(RuntimeError):
    """Something went wrong in the demo; the message says what."""
