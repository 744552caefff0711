"""Webhook endpoints from ``NPSBOT_WEBHOOK_<N>_URL`` / ``_SECRET`` / ``_EVENTS``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.config import PREFIX, SettingsError, int_range, optional_setting

EVENT_TYPES = (
    "survey.sent",
    "answer.scored",
    "answer.reason",
    "survey.expired",
    "customer.opted_out",
    "detractor.resolved",
)
MAX_ENDPOINTS = 20
_KEY = re.compile(rf"^{PREFIX}WEBHOOK_(\d{{1,2}})_(URL|SECRET|EVENTS)$")


@dataclass(frozen=True)
class Endpoint:
    """Where to deliver which events, and the secret that signs them."""

    number: int
    url: str
    secret: str = field(repr=False)
    events: frozenset[str]

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to ``event_type``."""
        return event_type in self.events


@dataclass(frozen=True)
class WebhookSettings:
    """All configured endpoints and how long to keep retrying a delivery."""

    endpoints: tuple[Endpoint, ...] = ()
    max_age_hours: int = 24
    timeout_seconds: int = 10

    def urls_for(self, event_type: str) -> list[str]:
        """Endpoints subscribed to ``event_type``."""
        return [e.url for e in self.endpoints if e.wants(event_type)]

    def secret_for(self, url: str) -> str | None:
        """The signing secret of the endpoint at ``url`` (None if no longer configured)."""
        return next((e.secret for e in self.endpoints if e.url == url), None)


def _events(raw: str, name: str) -> frozenset[str]:
    if raw.strip() in ("", "*"):
        return frozenset(EVENT_TYPES)
    chosen = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown:
        raise SettingsError(
            f"{name} is invalid: unknown event(s) {unknown}; use {list(EVENT_TYPES)}"
        )
    return frozenset(chosen)


def webhook_settings_from_mapping(env: Mapping[str, str]) -> WebhookSettings:
    """Parse every ``NPSBOT_WEBHOOK_<N>_*`` group; errors name the variable."""
    numbers = sorted({int(m.group(1)) for key in env if (m := _KEY.match(key))})
    endpoints = []
    seen_urls: set[str] = set()
    for n in numbers:
        base = f"{PREFIX}WEBHOOK_{n}_"
        if not 1 <= n <= MAX_ENDPOINTS:
            raise SettingsError(
                f"{base}URL is invalid: endpoints are numbered 1 to {MAX_ENDPOINTS}"
            )
        url = env.get(base + "URL", "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{base}URL is invalid: expected an http(s) URL")
        if url in seen_urls:
            raise SettingsError(f"{base}URL is invalid: the same URL is configured twice")
        seen_urls.add(url)
        secret = env.get(base + "SECRET", "").strip()
        if len(secret) < 32:
            raise SettingsError(f"{base}SECRET is invalid: use at least 32 random characters")
        events = _events(env.get(base + "EVENTS", "*"), base + "EVENTS")
        endpoints.append(Endpoint(number=n, url=url, secret=secret, events=events))
    return WebhookSettings(
        endpoints=tuple(endpoints),
        max_age_hours=optional_setting(env, "WEBHOOK_MAX_AGE_HOURS", int_range(1, 720), 24),
        timeout_seconds=optional_setting(env, "WEBHOOK_TIMEOUT", int_range(1, 120), 10),
    )
