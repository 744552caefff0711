"""Webhook mode, in-process against the stand-in, which POSTs every update to the bot's
endpoint like Telegram: a whole conversation, a request without the right secret (401,
nothing stored), a body that is no update (400), an update the bot could not store (5xx,
delivered again by the stand-in, handled once), a webhook taken over by someone else
(registered again), readiness, and the way back to polling (the webhook is deleted)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from standin import StandIn
from standin.webhook import SECRET_HEADER, Webhook
from storage import inbox
from tests.conftest import HarnessFactory
from tests.e2e.harness import (
    BOT_USERNAME,
    QUICK_CHATS,
    TOKEN,
    Harness,
    customer_state,
    receive_survey,
    survey_state,
)

SECRET = "webhook-secret_0123456789abcdef"
API_TOKEN = "webhook-mode-ops-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_env(port: int, api_port: int) -> Mapping[str, str]:
    return {
        "NPSBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "NPSBOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "NPSBOT_TELEGRAM_WEBHOOK_PORT": str(port),
        "NPSBOT_TELEGRAM_WEBHOOK_MAX_CONNECTIONS": "10",
        "NPSBOT_API_TOKENS": API_TOKEN,
        "NPSBOT_API_PORT": str(api_port),
    }


@pytest.fixture
async def webhook_bot(tmp_path: Path, inprocess_bots: HarnessFactory) -> AsyncIterator[Harness]:
    """A stand-in and an in-process bot in webhook mode (with its ops API)."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        port = free_port()
        h = inprocess_bots(server, tmp_path, webhook_env(port, free_port()))
        h.webhook_port = port  # type: ignore[attr-defined]
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()


def endpoint(h: Harness) -> str:
    return f"http://127.0.0.1:{h.webhook_port}/telegram"  # type: ignore[attr-defined]


async def stored_ids(h: Harness) -> set[int]:
    async with h.db() as db, db.read() as tx:
        return {int(r[0]) for r in await tx.fetchall("SELECT update_id FROM inbox")}


async def test_a_conversation_arrives_by_webhook_and_is_answered(webhook_bot: Harness) -> None:
    h = webhook_bot
    server = h.server
    await h.wait_for(lambda: server.pusher.webhook is not None, 10, "the webhook set")
    assert server.pusher.webhook is not None
    assert server.pusher.webhook.url == endpoint(h)
    assert server.pusher.webhook.secret_token == SECRET
    assert server.pusher.webhook.max_connections == 10
    user = await h.linked_user("webhook-1")
    survey_id, question = await receive_survey(h, user, "webhook-1")
    mark = user.last_message_id
    await user.press(question, text="6")
    await user.wait_for_message(lambda m: "went wrong" in (m.text or ""), since=mark)
    mark = user.last_message_id
    await user.send_text("Late twice")
    await user.wait_for_message(lambda m: "Thank you for telling us" in (m.text or ""), since=mark)
    _, answer = await survey_state(h, survey_id)
    assert (answer.score, answer.reason) == (6, "Late twice")
    assert server.stats.calls.get("getUpdates", 0) == 0  # never polled
    assert server.pusher.stats.failures == {}
    assert server.pending_updates == 0
    async with h.db() as db, db.read() as tx:
        assert await inbox.unhandled(tx) == []
    # Ready: the Bot API confirmed the webhook.
    async with aiohttp.ClientSession() as http:
        api = f"http://127.0.0.1:{h.bot.settings.ops.api_port}/readyz"  # type: ignore[union-attr]
        async with http.get(api) as resp:
            assert resp.status == 200, await resp.text()


async def post(h: Harness, body: Any, secret: str | None, raw: bytes | None = None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http:
        data = raw if raw is not None else None
        kwargs: dict[str, Any] = {"data": data} if raw is not None else {"json": body}
        async with http.post(endpoint(h), headers=headers, **kwargs) as resp:
            return resp.status


async def test_a_request_without_the_right_secret_is_refused_and_changes_nothing(
    webhook_bot: Harness,
) -> None:
    h = webhook_bot
    user = await h.linked_user("webhook-forger")
    before = await stored_ids(h)
    forged = {
        "update_id": 999_999_999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user.id, "type": "private"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Mallory"},
            "text": "/stop",
        },
    }
    assert await post(h, forged, None) == 401
    assert await post(h, forged, "wrong-secret") == 401
    assert await post(h, forged, SECRET[:-1]) == 401
    assert await post(h, None, SECRET, raw=b"{not json") == 400
    assert await post(h, {"no": "update id"}, SECRET) == 400
    assert await stored_ids(h) == before
    # Nothing was handled either: the next message is the reply to the user's own /help.
    mark = user.last_message_id
    await user.send_text("/help")
    reply = await user.wait_for_message(since=mark)
    assert user.last_message_id == reply.message_id
    assert not (await customer_state(h, "webhook-forger")).opted_out


async def test_an_update_not_stored_is_not_acknowledged_and_comes_again_once(
    webhook_bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = webhook_bot
    user = await h.linked_user("webhook-retry")
    real_store = inbox.store
    failures = [RuntimeError("database is locked")]

    async def failing_once(*args: Any) -> set[int]:
        if failures:
            raise failures.pop()
        return await real_store(*args)

    monkeypatch.setattr(inbox, "store", failing_once)
    mark = user.last_message_id
    await user.send_text("/help")
    await user.wait_for_message(since=mark)
    await h.wait_for(lambda: h.server.pending_updates == 0, 10, "the retry accepted")
    assert h.server.pusher.stats.failures == {"500": 1}  # refused once, then accepted
    replies = [m for m in user.messages if m.message_id > mark]
    assert len(replies) == 1  # handled once
    assert "could not store update" in h.bot.log()


async def test_a_webhook_set_elsewhere_is_registered_again(webhook_bot: Harness) -> None:
    h = webhook_bot
    server = h.server
    await h.wait_for(lambda: server.pusher.webhook is not None, 10, "the webhook set")
    before = server.stats.calls.get("setWebhook", 0)
    server.pusher.set(Webhook("https://elsewhere.example/hook"))
    await h.wait_for(
        lambda: server.pusher.webhook is not None and server.pusher.webhook.url == endpoint(h),
        15,
        "the webhook registered again",
    )
    assert server.stats.calls.get("setWebhook", 0) == before + 1
    user = await h.linked_user("webhook-after")  # updates flow again
    assert user.messages


async def test_polling_mode_deletes_the_webhook_and_receives_what_waited(
    tmp_path: Path, inprocess_bots: HarnessFactory
) -> None:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        port = free_port()
        webhook = inprocess_bots(server, tmp_path, webhook_env(port, free_port()))
        await webhook.start_bot()
        user = await webhook.linked_user("switch-1")
        await webhook.bot.stop_async()
        # Sent while nobody listens: Telegram keeps it for whoever receives next.
        mark = user.last_message_id
        await user.send_text("/help")
        polling = inprocess_bots(server, tmp_path, None)
        await polling.start_bot()
        try:
            await polling.wait_for(lambda: server.pusher.webhook is None, 10, "webhook deleted")
            await user.wait_for_message(since=mark, timeout=15)
            assert server.stats.calls.get("deleteWebhook", 0) >= 1
        finally:
            await polling.bot.stop_async()
