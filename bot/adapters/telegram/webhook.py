"""Receiving updates on a webhook: Telegram POSTs each update to the bot's endpoint.

Not python-telegram-bot's webhook server, which answers 200 as soon as an update is queued
in memory (a crash then loses it). Here:

- a request without the right ``X-Telegram-Bot-Api-Secret-Token`` gets 401 and changes
  nothing (compared in constant time);
- a body that is not a JSON update gets 400;
- otherwise the update is stored in the inbox
  (:meth:`~bot.adapters.telegram.receiver.Receiver.receive`) and only then answered 200;
  if it could not be stored the answer is 5xx, so Telegram delivers it again later, and
  the inbox recognises a second delivery of one it has stored.

Handling then runs from the same per-chat workers as in polling mode. At start the endpoint
listens first and then registers itself (``setWebhook`` with the secret token,
``allowed_updates`` and ``max_connections``); a watch checks ``getWebhookInfo`` now and
then, registers again if the webhook is not (or no longer) this one, logs delivery errors
Telegram reports, and tells readiness when the Bot API last confirmed the webhook.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from telegram.error import TelegramError
from telegram.ext import Application

from bot.adapters.telegram.raw import update_id_of
from bot.adapters.telegram.receiver import ALLOWED_UPDATES, Receiver, ReceiverStopped
from bot.settings import ReceivingSettings
from bot.usecases.background import wait_for_any

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Larger than any update Telegram sends (a message is at most a few kilobytes of JSON).
MAX_BODY_BYTES = 1024 * 1024


class WebhookServer:
    """The endpoint Telegram posts updates to, and its registration."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        receiver: Receiver,
        settings: ReceivingSettings,
        clock: Callable[[], datetime],
        *,
        check_seconds: float,
    ) -> None:
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        self.app = app
        self.receiver = receiver
        self.settings = settings
        self.url = settings.webhook_url
        self._secret = settings.webhook_secret.get_secret_value().encode()
        self.clock = clock
        self.check_seconds = check_seconds
        # When the Bot API last confirmed that the webhook is this one (readiness).
        self.last_answer: datetime | None = None
        self.port: int | None = None  # the port listened on (known once started)
        self._runner: web.AppRunner | None = None
        self._seen_error: Any = None

    async def start(self) -> None:
        """Listen, then register the webhook. Raises OSError if the address cannot be
        listened on, TelegramError if Telegram refuses the webhook."""
        web_app = web.Application(client_max_size=MAX_BODY_BYTES)
        web_app.router.add_post(self.settings.path, self._handle)
        # A request still in hand at the stop gets no answer: Telegram delivers it again.
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.listen_host, self.settings.listen_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.listen_port
        log.info(
            "receiving updates on %s:%s%s",
            self.settings.listen_host,
            self.port,
            self.settings.path,
        )
        await self._register()

    async def stop(self) -> None:
        """Stop listening (requests in hand are answered first). The webhook stays set:
        Telegram keeps the updates that come meanwhile and delivers them after the restart."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _register(self) -> None:
        await self.app.bot.set_webhook(
            self.url,
            secret_token=self._secret.decode(),
            allowed_updates=ALLOWED_UPDATES,
            max_connections=self.settings.max_connections,
            drop_pending_updates=False,
        )
        self.last_answer = self.clock()
        log.info("webhook registered (max %d connections)", self.settings.max_connections)

    async def watch(self, stop: asyncio.Event) -> None:
        """Until ``stop``: check the webhook every ``check_seconds`` (a supervised loop)."""
        while not stop.is_set():
            await wait_for_any((stop,), self.check_seconds)
            if stop.is_set():
                return
            await self.check()

    async def check(self) -> None:
        """Ask Telegram about the webhook: register again if it is not this one, log a
        new delivery error, note the answer for readiness."""
        try:
            info = await self.app.bot.get_webhook_info()
        except TelegramError as exc:
            log.warning("getWebhookInfo failed (%s)", exc.message)
            return
        if info.url != self.url:
            log.warning("the webhook is not this bot's endpoint any more; registering it again")
            try:
                await self._register()
            except TelegramError as exc:
                log.error("could not register the webhook again (%s)", exc.message)
            return
        self.last_answer = self.clock()
        if info.last_error_date is not None and info.last_error_date != self._seen_error:
            self._seen_error = info.last_error_date
            log.warning(
                "Telegram reports a failed webhook delivery (%s); %d updates wait",
                info.last_error_message,
                info.pending_update_count,
            )

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=401, text="unauthorized")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        if update_id_of(body) is None:
            return web.Response(status=400, text="not an update")
        try:
            await self.receiver.receive([body])
        except ReceiverStopped:
            return web.Response(status=503, text="stopping")
        except Exception:
            # Not stored: Telegram will deliver it again.
            log.exception("could not store update %s", update_id_of(body))
            return web.Response(status=500, text="not stored")
        return web.Response(status=200)
