"""The stand-in's webhook: while one is set, updates are POSTed to its URL as Telegram does.

- Each update is one ``POST`` of the Update as JSON, with the header
  ``X-Telegram-Bot-Api-Secret-Token`` when the webhook has a secret token.
- An update counts as delivered only on a 2xx answer. Any other status, a connection error
  or no answer within :data:`ANSWER_TIMEOUT` is a failure: the update is sent again later,
  with a growing pause (Telegram gives up after many attempts; the stand-in never does, so
  a test sees every update through), and the failure shows in ``getWebhookInfo``.
- At most ``max_connections`` requests are in flight; a chat's updates go one at a time, in
  order (the next only once the previous was accepted); other chats are not held up by a
  chat whose update keeps failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from standin.state import PendingUpdate, World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: How long the stand-in waits for the bot's answer to one delivery (Telegram waits longer).
ANSWER_TIMEOUT = 30.0


@dataclass
class Webhook:
    """What ``setWebhook`` set."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class DeliveryStats:
    """Webhook deliveries: POSTs made, accepted, and failures by cause (``"500"``, ``"401"``,
    ``"connection"``, ``"timeout"``)."""

    posts: int = 0
    accepted: int = 0
    failures: dict[str, int] = field(default_factory=dict)


def chat_of(body: dict[str, Any]) -> int:
    """The chat an update belongs to (its deliveries are ordered within it)."""
    for kind, payload in body.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        message = payload.get("message") if kind == "callback_query" else payload
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return int(message["chat"].get("id", 0))
        sender = payload.get("from")
        if isinstance(sender, dict):
            return int(sender.get("id", 0))
    return 0


class Pusher:
    """Delivers the world's pending updates to the webhook while one is set."""

    def __init__(self, world: World, retry_first: float = 0.1, retry_max: float = 2.0) -> None:
        self.world = world
        self.webhook: Webhook | None = None
        self.stats = DeliveryStats()
        self.retry_first = retry_first
        self.retry_max = retry_max
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # chat -> its delivery
        self._attempts: dict[int, int] = {}  # update id -> failed attempts
        self._not_before: dict[int, float] = {}  # chat -> when its next attempt may go
        self._stopping = False

    async def start(self) -> None:
        """Begin delivering (as soon as a webhook is set)."""
        self._stopping = False
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT))
        self._task = asyncio.create_task(self._run(), name="standin-webhook")

    async def stop(self) -> None:
        """Stop delivering; deliveries in flight are abandoned (their updates stay pending)."""
        # A flag, not only a cancel: a cancel that lands as the world changes can be
        # swallowed by wait_for (Python 3.11), and the loop would never end.
        self._stopping = True
        self.world.notify()
        if self._task is not None:
            await self._task
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._in_flight.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def set(self, webhook: Webhook | None) -> None:
        """Set (or with None, delete) the webhook; deliveries in flight finish."""
        self.webhook = webhook
        self._attempts.clear()
        self._not_before.clear()
        self.world.notify()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            wait = 1.0
            hook = self.webhook
            if hook is not None:
                now = loop.time()
                for update in self._firsts():
                    if len(self._in_flight) >= hook.max_connections:
                        break
                    chat = chat_of(update.body)
                    ready = self._not_before.get(chat, 0.0)
                    if ready > now:
                        wait = min(wait, ready - now)
                        continue
                    self._in_flight[chat] = asyncio.create_task(
                        self._deliver(hook, chat, update), name=f"standin-push-{chat}"
                    )
            await self.world.wait_changed(wait)

    def _firsts(self) -> list[PendingUpdate]:
        """The oldest pending update of each chat that has none in flight, oldest first."""
        firsts: dict[int, PendingUpdate] = {}
        for update in self.world.updates:
            chat = chat_of(update.body)
            if chat not in firsts:
                firsts[chat] = update
        return [u for chat, u in firsts.items() if chat not in self._in_flight]

    async def _deliver(self, hook: Webhook, chat: int, update: PendingUpdate) -> None:
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        error: str | None = None
        self.stats.posts += 1
        self.world.deliver([update])
        try:
            assert self._session is not None
            async with self._session.post(hook.url, json=update.body, headers=headers) as resp:
                await resp.read()
                if not 200 <= resp.status < 300:
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                    self._count(str(resp.status))
        except TimeoutError:
            error = "Read timeout expired"
            self._count("timeout")
        except aiohttp.ClientError as exc:
            error = f"Connection failed: {type(exc).__name__}"
            self._count("connection")
        finally:
            self._in_flight.pop(chat, None)
        if error is None:
            self.stats.accepted += 1
            self._attempts.pop(update.update_id, None)
            self._not_before.pop(chat, None)
            if update in self.world.updates:
                self.world.updates.remove(update)
                self.world.confirmed.append(update)
        else:
            attempts = self._attempts.get(update.update_id, 0) + 1
            self._attempts[update.update_id] = attempts
            pause = min(self.retry_first * 2 ** (attempts - 1), self.retry_max)
            self._not_before[chat] = asyncio.get_running_loop().time() + pause
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
        self.world.notify()

    def _count(self, cause: str) -> None:
        self.stats.failures[cause] = self.stats.failures.get(cause, 0) + 1
