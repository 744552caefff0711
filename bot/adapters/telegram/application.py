"""Building the python-telegram-bot Application against any Bot API server."""

from __future__ import annotations

from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.adapters.telegram.transport import AiohttpRequest
from bot.settings import Settings


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """An Application without PTB's Updater (:class:`~bot.adapters.telegram.polling.Poller`
    fetches)."""
    builder: ApplicationBuilder = (  # type: ignore[type-arg]
        Application.builder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .updater(None)
        .defaults(Defaults(tzinfo=settings.timezone))
        # aiohttp instead of PTB's httpx: a tenth of the CPU per call (see transport.py).
        .request(
            AiohttpRequest(
                64,
                pool_timeout=30.0,
                connect_timeout=10.0,
                read_timeout=20.0,
                write_timeout=20.0,
                media_write_timeout=60.0,
            )
        )
        # getUpdates passes its own read timeout (the long poll's plus a margin).
        .get_updates_request(AiohttpRequest(2))
    )
    return builder.build()
