"""Starting and stopping the ops side inside the bot's event loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram.ext import Application

from bot.telegram.services import Services

Stopper = Callable[[], Awaitable[None]]


async def start_ops(app: Application, svc: Services) -> Stopper:  # type: ignore[type-arg]
    """Start the ops side (after the Application started); return how to stop it."""

    async def stop() -> None:
        return None

    return stop
