"""Starting the webhook deliverer with the bot (only when endpoints are configured)."""

from __future__ import annotations

import logging

from bot.adapters.webhooks.deliverer import WebhookDeliverer
from bot.composition.supervisor import Supervisor
from bot.usecases.services import Services

log = logging.getLogger(__name__)


def start_webhooks(svc: Services, supervisor: Supervisor) -> None:
    """Run the deliverer as a supervised loop; pending deliveries from before a restart
    resume."""
    settings = svc.settings.webhooks
    if not settings.endpoints:
        return
    deliverer = WebhookDeliverer(svc.db, settings, svc.clock)
    supervisor.start_loop("webhooks", deliverer.run)
    log.info("webhooks on: %d endpoint(s)", len(settings.endpoints))
