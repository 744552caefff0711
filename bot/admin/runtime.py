"""Starting and stopping the admin side inside the bot's event loop."""

from __future__ import annotations

from telegram.ext import Application

from bot.ops.runtime import Stopper
from bot.telegram.services import Services


async def start_admin(app: Application, svc: Services) -> Stopper:  # type: ignore[type-arg]
    """Start the admin side (after the Application started); return how to stop it."""

    async def stop() -> None:
        return None

    return stop
