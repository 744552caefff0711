"""Receiving updates by long polling: ``getUpdates``, then store, then confirm.

Each batch ``getUpdates`` returns is stored in the inbox in one transaction
(:meth:`~bot.adapters.telegram.receiver.Receiver.receive`); only then does the offset move
past the whole batch, and the next ``getUpdates`` (which confirms every update below its
offset) tells Telegram. A crash before that confirmation means redelivery, which the inbox
recognises by id; a crash after it loses nothing, because start-up handles what the inbox
holds unhandled. Handling runs from the receiver's per-chat workers and never holds up the
next ``getUpdates``.

PTB's Updater is not used: it confirms updates when it queues them in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.adapters.telegram.raw import update_id_of
from bot.adapters.telegram.receiver import ALLOWED_UPDATES, Receiver, ReceiverStopped
from bot.adapters.telegram.sender import retry_after_seconds

log = logging.getLogger(__name__)


class Poller:
    """Fetches updates with ``getUpdates`` and hands each batch to the receiver."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        receiver: Receiver,
        timeout: int,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.receiver = receiver
        self.clock = clock
        # When the Bot API last answered getMe at start-up or a getUpdates (readiness: the
        # Bot API was reached recently, even while no update arrives).
        self.last_answer: datetime | None = None
        self.timeout = timeout
        self.offset: int | None = None  # one past the last update stored

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then confirm what was stored."""
        await self._delete_webhook()
        backoff = 1.0
        while not stop.is_set():
            fetch = asyncio.ensure_future(self._fetch())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if fetch not in done:
                fetch.cancel()
                break
            stopper.cancel()
            try:
                batch = fetch.result()
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except Conflict as exc:
                # Another process polls, or one in webhook mode set a webhook since.
                log.error("getUpdates refused (409: %s); retrying in 5 s", exc.message)
                await asyncio.sleep(5)
                continue
            except InvalidToken:
                log.error("the Bot API server rejected the token; stopping")
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if self.clock is not None:
                self.last_answer = self.clock()
            if not batch:
                continue
            try:
                await self.receiver.receive(batch)
            except ReceiverStopped:
                break
            except Exception:
                # Not stored, so not confirmed: the same batch comes again.
                log.exception("could not store %d updates; fetching them again", len(batch))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self.offset = max(uid for raw in batch if (uid := update_id_of(raw)) is not None) + 1
        await self.confirm()

    async def _delete_webhook(self) -> None:
        """Long polling and a webhook exclude each other: a webhook left by webhook mode
        would make every getUpdates fail with 409. Its pending updates are kept."""
        try:
            await self.app.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            log.warning("could not delete the webhook (%s); polling anyway", exc.message)

    async def _fetch(self) -> list[Any]:
        # Raw JSON, parsed one update at a time by the receiver: with PTB's get_updates one
        # malformed update fails the whole batch, and it would be fetched again forever.
        raw = await self.app.bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": self.offset,
                "timeout": self.timeout,
                "limit": 100,
                "allowed_updates": ALLOWED_UPDATES,
            },
            read_timeout=self.timeout + 10,
        )
        if not isinstance(raw, list) or not all(update_id_of(u) is not None for u in raw):
            raise NetworkError("getUpdates returned something other than a list of updates")
        return raw

    async def confirm(self) -> None:
        """Tell the server that everything stored is received (timeout 0), so that a stop
        leaves nothing to redeliver."""
        if self.offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)
        except TelegramError as exc:
            log.warning(
                "could not confirm the last updates (%s); they will be redelivered and recognised",
                exc.message,
            )
