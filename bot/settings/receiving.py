"""How Telegram's updates reach the bot: long polling (the default) or a webhook.

A webhook is used when ``NPSBOT_TELEGRAM_WEBHOOK_URL`` is set: the public HTTPS URL
Telegram posts to (usually a reverse proxy that ends TLS and forwards to
``NPSBOT_TELEGRAM_WEBHOOK_LISTEN``:``NPSBOT_TELEGRAM_WEBHOOK_PORT``). Every request must
carry ``NPSBOT_TELEGRAM_WEBHOOK_SECRET`` in its ``X-Telegram-Bot-Api-Secret-Token`` header,
so the secret is required with the URL.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator

from bot.settings.errors import InvalidSetting
from bot.settings.parsing import SECTION_CONFIG, http_url, int_range, parsed, var

_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_HOST_RE = re.compile(r"[A-Za-z0-9.:_-]{1,253}")
_PATH_RE = re.compile(r"/[A-Za-z0-9._~/-]{0,255}")


def _secret_token(raw: str) -> SecretStr:
    # Telegram's rule for secret_token; never echo the value.
    if not _SECRET_RE.fullmatch(raw):
        raise ValueError("expected 1-256 characters of A-Z a-z 0-9 _ -")
    return SecretStr(raw)


def _host(raw: str) -> str:
    if not _HOST_RE.fullmatch(raw):
        raise ValueError(f"expected a host name or IP address, got {raw!r}")
    return raw


def _path(raw: str) -> str:
    if not _PATH_RE.fullmatch(raw):
        raise ValueError(f"expected a path such as /telegram, got {raw!r}")
    return raw


class ReceivingSettings(BaseModel):
    """Webhook mode when ``webhook_url`` is set, long polling otherwise."""

    model_config = SECTION_CONFIG

    webhook_url: Annotated[str | None, parsed(http_url)] = Field(
        None, validation_alias=var("TELEGRAM_WEBHOOK_URL")
    )
    webhook_secret: Annotated[SecretStr | None, parsed(_secret_token)] = Field(
        None, validation_alias=var("TELEGRAM_WEBHOOK_SECRET"), repr=False
    )
    listen_host: Annotated[str, parsed(_host)] = Field(
        "127.0.0.1", validation_alias=var("TELEGRAM_WEBHOOK_LISTEN")
    )
    listen_port: Annotated[int, parsed(int_range(1, 65535))] = Field(
        8089, validation_alias=var("TELEGRAM_WEBHOOK_PORT")
    )
    # Empty: the path of the public URL (a proxy that forwards the path unchanged).
    listen_path: Annotated[str, parsed(_path)] = Field(
        "", validation_alias=var("TELEGRAM_WEBHOOK_PATH")
    )
    max_connections: Annotated[int, parsed(int_range(1, 100))] = Field(
        40, validation_alias=var("TELEGRAM_WEBHOOK_MAX_CONNECTIONS")
    )

    @property
    def webhook(self) -> bool:
        """True: updates arrive on the webhook endpoint; False: by long polling."""
        return self.webhook_url is not None

    @property
    def path(self) -> str:
        """The path the endpoint answers on."""
        if self.listen_path:
            return self.listen_path
        return urlsplit(self.webhook_url or "").path or "/"

    @model_validator(mode="after")
    def _secret_with_url(self) -> ReceivingSettings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise InvalidSetting(
                var("TELEGRAM_WEBHOOK_SECRET"),
                f"required when {var('TELEGRAM_WEBHOOK_URL')} is set (Telegram sends it with "
                "every update, and the bot refuses requests without it)",
            )
        return self
