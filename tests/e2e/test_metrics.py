"""The running bot's /metrics and probes, scraped before and after a conversation."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, receive_survey
from tests.ops.test_probes_and_metrics import samples
from tests.ops.test_process import free_port

API_TOKEN = "metrics-e2e-token-0123456789abcdef"


def total(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in found.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


async def test_a_conversation_moves_the_counters(
    inprocess_bots: HarnessFactory, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "NPSBOT_API_TOKENS": f"{API_TOKEN}:read",
        "NPSBOT_API_PORT": str(port),
        "NPSBOT_QUIET_HOURS": "off",
    }
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    async with (
        StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server,
        aiohttp.ClientSession() as http,
    ):
        h = inprocess_bots(server, tmp_path, env)
        await h.start_bot()
        try:
            async with http.get(f"{base}/livez") as response:
                assert response.status == 200
            async with http.get(f"{base}/readyz") as response:
                # getUpdates has answered: the bot polls (start_bot waited for it).
                assert response.status == 200, await response.text()
            async with http.get(f"{base}/metrics", headers=auth) as response:
                assert response.status == 200
                before = samples(await response.text())

            user = await h.linked_user("metrics-1")
            _, question = await receive_survey(h, user, "metrics-1")
            mark = user.last_message_id
            await user.press(question, text="10")
            await user.wait_for_message(since=mark)

            async with http.get(f"{base}/metrics", headers=auth) as response:
                after = samples(await response.text())
        finally:
            await h.bot.stop_async()

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("npsbot_updates_handled_total", kind="command", outcome="handled") >= 1  # /start
    assert moved("npsbot_updates_handled_total", outcome="handled") >= 2  # and the press
    assert moved("npsbot_update_handling_seconds_count") >= 2
    assert moved("npsbot_bot_api_calls_total", method="sendMessage", result="ok") >= 2
    assert moved("npsbot_surveys_total", state="sent") == 1
    assert moved("npsbot_surveys_total", state="answered") == 1
    assert total(after, "npsbot_queue_depth", queue="pending_surveys") == 0
