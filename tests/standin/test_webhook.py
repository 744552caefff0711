"""The stand-in's webhook (setWebhook, deleteWebhook, getWebhookInfo and the push): updates are
POSTed as JSON with the secret token header, a chat's in order, retried until a 2xx answer,
never more than max_connections at once; getUpdates answers 409 while a webhook is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from standin import StandIn
from standin.webhook import SECRET_HEADER


class Receiver:
    """A webhook endpoint in the test's loop: records every request and answers with
    ``status(body)`` (200 by default) after ``gate`` opens."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.accepted: list[int] = []
        self.status: Callable[[dict[str, Any]], int] = lambda body: 200
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append((dict(request.headers), body))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.changed.set()
        try:
            await self.gate.wait()
            status = self.status(body)
        finally:
            self.in_flight -= 1
        if 200 <= status < 300:
            self.accepted.append(int(body["update_id"]))
        self.changed.set()
        return web.Response(status=status)

    async def until(self, cond: Callable[[], bool], timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while not cond():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def hook() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def text_of(body: dict[str, Any]) -> str:
    return str(body["message"]["text"])


async def test_updates_are_pushed_as_json_with_the_secret_and_getupdates_is_refused(
    server: StandIn, bot: Bot, hook: Receiver
) -> None:
    assert await bot.set_webhook(hook.url, secret_token="s3cret_-X", max_connections=5)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)
    ann = server.add_user("Ann")
    await ann.send_text("one")
    await ann.send_text("two")
    await hook.until(lambda: len(hook.accepted) == 2)
    headers, body = hook.requests[0]
    assert headers[SECRET_HEADER] == "s3cret_-X"
    assert headers["Content-Type"].startswith("application/json")
    assert [text_of(b) for _, b in hook.requests] == ["one", "two"]
    assert body["message"]["chat"]["id"] == ann.id
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (hook.url, 0, 5)
    assert info.last_error_date is None


async def test_a_refused_delivery_is_retried_until_accepted_and_holds_up_only_its_chat(
    server: StandIn, bot: Bot, hook: Receiver
) -> None:
    refusals = {"ann": 3}

    def status(body: dict[str, Any]) -> int:
        if text_of(body) == "ann 1" and refusals["ann"] > 0:
            refusals["ann"] -= 1
            return 503
        return 200

    hook.status = status
    await bot.set_webhook(hook.url)
    ann, bob = server.add_user("Ann"), server.add_user("Bob")
    await ann.send_text("ann 1")
    await ann.send_text("ann 2")
    await bob.send_text("bob 1")
    await hook.until(lambda: len(hook.accepted) == 3)
    texts = [text_of(b) for _, b in hook.requests]
    assert texts.count("ann 1") == 4  # three refusals, then accepted
    assert texts.index("ann 2") > max(i for i, t in enumerate(texts) if t == "ann 1")
    assert texts.index("bob 1") < texts.index("ann 2")  # Bob was not held up
    assert server.pusher.stats.failures == {"503": 3}
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 503 Service Unavailable"


async def test_every_post_is_a_delivery_but_only_the_first_is_stamped_as_first(
    server: StandIn, bot: Bot, hook: Receiver
) -> None:
    refusals = [1]

    def status(body: dict[str, Any]) -> int:
        if refusals[0]:
            refusals[0] -= 1
            return 503
        return 200

    hook.status = status
    posted: list[list[int]] = []
    firsts: list[int] = []
    server.on_delivery(lambda bodies: posted.append([b["update_id"] for b in bodies]))
    server.on_update_delivered(lambda update: firsts.append(update.update_id))
    await bot.set_webhook(hook.url)
    ann = server.add_user("Ann")
    await ann.send_text("hello")
    await hook.until(lambda: len(hook.accepted) == 1)
    update_id = hook.accepted[0]
    assert posted == [[update_id], [update_id]]  # refused once, then accepted
    assert firsts == [update_id]


async def test_an_unreachable_webhook_loses_nothing(
    server: StandIn, bot: Bot, hook: Receiver
) -> None:
    port = hook.port
    await hook.stop()  # nothing listens: connection refused
    await bot.set_webhook(hook.url)
    ann = server.add_user("Ann")
    await ann.send_text("while down")
    await server.wait_for(lambda: server.pusher.stats.failures.get("connection", 0) >= 2)
    assert server.pending_updates == 1
    await hook.start(port)
    await server.wait_for(lambda: server.pending_updates == 0)
    assert len(hook.accepted) == 1


async def test_no_more_than_max_connections_deliveries_at_once(
    server: StandIn, bot: Bot, hook: Receiver
) -> None:
    hook.gate.clear()
    await bot.set_webhook(hook.url, max_connections=2)
    users = [server.add_user(f"U{i}") for i in range(5)]
    for user in users:
        await user.send_text("hi")
    await hook.until(lambda: hook.in_flight == 2)
    hook.gate.set()
    await hook.until(lambda: len(hook.accepted) == 5)
    assert hook.most_in_flight == 2


async def test_delete_webhook_returns_to_getupdates_with_what_was_not_delivered(
    server: StandIn, bot: Bot, hook: Receiver
) -> None:
    hook.status = lambda body: 500
    await bot.set_webhook(hook.url)
    ann = server.add_user("Ann")
    await ann.send_text("kept")
    await server.wait_for(lambda: server.pusher.stats.failures.get("500", 0) >= 1)
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.text == "kept"
    # drop_pending_updates drops what waits.
    await ann.send_text("dropped")
    await bot.set_webhook(hook.url, drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


@pytest.mark.parametrize(
    ("url", "secret", "connections", "message"),
    [
        ("http://example.com/hook", None, 40, "(?i)an https url must be provided"),
        ("https://example.com:8080/hook", None, 40, "(?i)only on ports 80, 88, 443 or 8443"),
        ("https://example.com/hook", "has space", 40, "(?i)secret token contains unallowed"),
        ("https://example.com/hook", "x" * 257, 40, "(?i)secret token contains unallowed"),
        ("https://example.com/hook", None, 101, "(?i)max_connections"),
    ],
    ids=["http-public", "port", "secret-chars", "secret-long", "connections"],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    bot: Bot, url: str, secret: str | None, connections: int, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        await bot.set_webhook(url, secret_token=secret, max_connections=connections)
    assert (await bot.get_webhook_info()).url == ""
