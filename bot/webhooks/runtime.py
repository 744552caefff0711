"""Starting the webhook deliverer with the bot (only when endpoints are configured)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.ops.runtime import Stopper
from bot.telegram.services import Services
from bot.webhooks.deliverer import WebhookDeliverer

log = logging.getLogger(__name__)


async def start_webhooks(svc: Services) -> Stopper:
    """Run the deliverer as a task; pending deliveries from before a restart resume."""
    settings = svc.settings.webhooks
    if not settings.endpoints:

        async def nothing() -> None:
            return None

        return nothing
    deliverer = WebhookDeliverer(svc.db, settings, svc.clock)
    svc.webhooks = deliverer
    task = asyncio.create_task(deliverer.run_forever(), name="webhooks")
    log.info("webhooks on: %d endpoint(s)", len(settings.endpoints))

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
