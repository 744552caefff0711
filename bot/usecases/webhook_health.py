"""How the webhook endpoints are doing, for /stats and /healthz."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.texts import AdminTexts
from bot.reports.stats_text import webhooks_line
from bot.settings import WebhookSettings
from bot.settings.webhooks import redact_text, redact_url
from storage import Tx, webhooks
from storage.webhooks import EndpointHealth

WINDOW = timedelta(hours=24)


async def endpoint_health(tx: Tx, settings: WebhookSettings, now: datetime) -> list[EndpointHealth]:
    """Every configured endpoint's figures over the last 24 hours (zeros if idle)."""
    seen = {h.endpoint_url: h for h in await webhooks.endpoint_health(tx, now - WINDOW)}
    return [
        seen.get(
            e.url, EndpointHealth(e.url, pending=0, failed_recently=0, retrying=0, last_error=None)
        )
        for e in settings.endpoints
    ]


def is_failing(health: EndpointHealth) -> bool:
    """Failed deliveries in the window, or deliveries being retried now."""
    return health.failed_recently > 0 or health.retrying > 0


def health_json(healths: Sequence[EndpointHealth]) -> list[dict[str, Any]]:
    """The ``webhooks`` member of /healthz's details: URLs reduced to their host, since
    user info, paths and queries can hold the receiver's credentials."""
    return [
        {
            "url": redact_url(h.endpoint_url),
            "failing": is_failing(h),
            "pending": h.pending,
            "retrying": h.retrying,
            "failed_last_24h": h.failed_recently,
            "last_error": redact_text(h.last_error, h.endpoint_url) if h.last_error else None,
        }
        for h in healths
    ]


def stats_line(healths: Sequence[EndpointHealth], texts: AdminTexts) -> str:
    """One line (HTML-safe) for /stats: endpoints and the failing ones."""
    return webhooks_line(texts, healths, [h for h in healths if is_failing(h)])
