"""The real bot emits signed webhooks as a customer goes through a survey."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.adapters.webhooks.signing import SIGNATURE_HEADER, verify
from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, receive_survey

SECRET = "whsec-e2e-0123456789abcdef0123456789abcdef"
ADMIN = 3_000_001


async def test_survey_answer_reason_and_opt_out_reach_the_receiver_signed(
    inprocess_bots: HarnessFactory, tmp_path: Path
) -> None:
    received: list[dict[str, Any]] = []
    bad_signatures = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal bad_signatures
        body = await request.read()
        try:
            # Standard Webhooks, verified by the reference library (a plain secret is raw bytes).
            Webhook(SECRET.encode()).verify(body.decode(), dict(request.headers))
        except WebhookVerificationError:
            bad_signatures += 1
            return web.Response(status=401)
        if not verify(SECRET, request.headers.get(SIGNATURE_HEADER, ""), body, int(time.time())):
            bad_signatures += 1
            return web.Response(status=401)
        received.append(json.loads(body))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    env = {
        "NPSBOT_WEBHOOK_1_URL": url,
        "NPSBOT_WEBHOOK_1_SECRET": SECRET,
        "NPSBOT_ADMIN_CHAT_IDS": str(ADMIN),
        "NPSBOT_DETRACTOR_ALERTS": "off",
        # The themes job would add an answer.themed event whenever its run falls between the
        # reason and /stop (its first run is 2 s after start: on a busy machine, often).
        # That event is specified in tests/themes/test_product.py.
        "NPSBOT_THEMES": "off",
    }
    try:
        async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
            h = inprocess_bots(server, tmp_path, env)
            await h.start_bot()
            try:
                user = await h.linked_user("hook-1")
                survey_id, question = await receive_survey(
                    h,
                    user,
                    "hook-1",
                    event_type="delivery",
                    event_id="order-77",
                    attributes={"plan": "pro"},
                )
                mark = user.last_message_id
                await user.press(question, text="3")
                await user.wait_for_message(lambda m: "went wrong" in (m.text or ""), since=mark)
                mark = user.last_message_id
                await user.send_text("Box was crushed")
                await user.wait_for_message(since=mark)
                mark = user.last_message_id
                await user.send_text("/stop")
                await user.wait_for_message(since=mark)
                await h.wait_for(lambda: len(received) >= 4, 15, "four webhook deliveries")

                admin = server.add_user(user_id=ADMIN)
                await admin.start()
                mark = admin.last_message_id
                await admin.send_text("/stats")
                stats = await admin.wait_for_message(
                    lambda m: "Webhooks" in (m.text or ""), since=mark
                )
                assert "1 endpoint(s) OK" in (stats.text or "")
            finally:
                await h.bot.stop_async()
    finally:
        await runner.cleanup()

    assert bad_signatures == 0
    by_type = {event["type"]: event for event in received}
    assert list(by_type) == ["survey.sent", "answer.scored", "answer.reason", "customer.opted_out"]
    assert len({event["id"] for event in received}) == 4
    sent = by_type["survey.sent"]["data"]
    assert sent["survey"]["id"] == survey_id and sent["survey"]["event_id"] == "order-77"
    assert sent["customer"] == {"id": "hook-1", "attributes": {"plan": "pro"}}
    scored = by_type["answer.scored"]["data"]["answer"]
    assert (scored["score"], scored["category"], scored["reason"]) == (3, "detractor", None)
    assert by_type["answer.reason"]["data"]["answer"]["reason"] == "Box was crushed"
    assert by_type["customer.opted_out"]["data"]["customer"]["id"] == "hook-1"
