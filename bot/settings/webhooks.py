"""Outbound webhook endpoints from ``NPSBOT_WEBHOOK_<N>_URL`` / ``_SECRET`` / ``_EVENTS``."""

from __future__ import annotations

import re
from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator

from bot.settings.errors import PREFIX, InvalidSetting
from bot.settings.parsing import SECTION_CONFIG, int_range, parsed, var

EVENT_TYPES = (
    "survey.sent",
    "answer.scored",
    "answer.reason",
    "answer.themed",
    "survey.expired",
    "customer.opted_out",
    "detractor.resolved",
)
MAX_ENDPOINTS = 20
# Standard Webhooks secrets: the rest is base64 (bot.adapters.webhooks.signing decodes it).
WHSEC_PREFIX = "whsec_"
_KEY = re.compile(rf"^{PREFIX}WEBHOOK_(\d{{1,2}})_(URL|SECRET|EVENTS)$")


def decode_whsec(secret: str) -> bytes:
    """The key of a ``whsec_<base64>`` secret (padding optional); ValueError if not base64."""
    encoded = secret.removeprefix(WHSEC_PREFIX).rstrip("=")
    # binascii.Error is a ValueError.
    return b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


@dataclass(frozen=True)
class Endpoint:
    """Where to deliver which events, and the secret that signs them."""

    number: int
    url: str
    secret: SecretStr = field(repr=False)
    events: frozenset[str]

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to ``event_type``."""
        return event_type in self.events


def redact_url(url: str) -> str:
    """``url`` reduced to scheme, host and port: user info, path and query can hold
    credentials (basic auth, tokens), so nothing shown or logged includes them."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparseable port or host: show nothing of it
        return "(invalid URL)"
    if not host:
        return "(invalid URL)"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    scheme = parts.scheme or "http"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_text(text: str, url: str | None = None) -> str:
    """``text`` (an error message) with every URL in it redacted, and the secret parts of
    ``url`` (user info, password, query) removed wherever they appear on their own."""
    out = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    if url:
        try:
            parts = urlsplit(url)
            secrets_in_url = [parts.username, parts.password, parts.query, parts.path]
        except ValueError:
            secrets_in_url = []
        for part in secrets_in_url:
            if part and part != "/" and len(part) >= 3:
                out = out.replace(part, "***")
    return out


def _events(raw: str, name: str) -> frozenset[str]:
    if raw.strip() in ("", "*"):
        return frozenset(EVENT_TYPES)
    chosen = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown:
        raise InvalidSetting(name, f"unknown event(s) {unknown}; use {list(EVENT_TYPES)}")
    return frozenset(chosen)


def _endpoints(env: Mapping[str, Any]) -> tuple[Endpoint, ...]:
    """Every numbered group of variables, in number order; errors name the variable."""
    numbers = sorted({int(m.group(1)) for key in env if (m := _KEY.match(key))})
    endpoints = []
    seen_urls: set[str] = set()
    for n in numbers:
        base = f"{PREFIX}WEBHOOK_{n}_"
        if not 1 <= n <= MAX_ENDPOINTS:
            raise InvalidSetting(base + "URL", f"endpoints are numbered 1 to {MAX_ENDPOINTS}")
        url = str(env.get(base + "URL", "")).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidSetting(base + "URL", "expected an http(s) URL")
        if url in seen_urls:
            raise InvalidSetting(base + "URL", "the same URL is configured twice")
        seen_urls.add(url)
        secret = str(env.get(base + "SECRET", "")).strip()
        if len(secret) < 32:
            raise InvalidSetting(base + "SECRET", "use at least 32 random characters")
        if secret.startswith(WHSEC_PREFIX):
            try:
                decode_whsec(secret)
            except ValueError:
                # The deliverer decodes whsec_ secrets (Standard Webhooks); never echo it.
                raise InvalidSetting(
                    base + "SECRET", f"a {WHSEC_PREFIX} secret must be base64 after the prefix"
                ) from None
        events = _events(str(env.get(base + "EVENTS", "*")), base + "EVENTS")
        endpoints.append(Endpoint(number=n, url=url, secret=SecretStr(secret), events=events))
    return tuple(endpoints)


class WebhookSettings(BaseModel):
    """All configured endpoints and how long to keep retrying a delivery."""

    model_config = SECTION_CONFIG

    endpoints: tuple[Endpoint, ...] = ()
    max_age_hours: Annotated[int, parsed(int_range(1, 720))] = Field(
        24, validation_alias=var("WEBHOOK_MAX_AGE_HOURS")
    )
    timeout_seconds: Annotated[int, parsed(int_range(1, 120))] = Field(
        10, validation_alias=var("WEBHOOK_TIMEOUT")
    )

    @model_validator(mode="before")
    @classmethod
    def _numbered_endpoints(cls, data: Any) -> Any:
        # Endpoints are groups of numbered variables, not one variable per field, so they
        # are collected from the raw mapping before the fields are validated.
        if isinstance(data, Mapping) and "endpoints" not in data:
            return {**data, "endpoints": _endpoints(data)}
        return data

    def urls_for(self, event_type: str) -> list[str]:
        """Endpoints subscribed to ``event_type``."""
        return [e.url for e in self.endpoints if e.wants(event_type)]

    def label_for(self, url: str) -> str:
        """How logs and errors name the endpoint at ``url``: its number and host only."""
        number = next((e.number for e in self.endpoints if e.url == url), None)
        shown = redact_url(url)
        return f"endpoint {number} ({shown})" if number is not None else shown

    def secret_for(self, url: str) -> SecretStr | None:
        """The signing secret of the endpoint at ``url`` (None if no longer configured)."""
        return next((e.secret for e in self.endpoints if e.url == url), None)
