"""NPSBOT_TIMING_LOG: one line per update and per reply with the time of each stage."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, receive_survey

UPDATE = re.compile(
    r"update \d+ chat (-?\d+) press:nps: start ([\d.]+) lock [\d.]+ body [\d.]+ "
    r"commit [\d.]+ answer [\d.]+"
)
CALL = re.compile(r"outbox \d+ chat (-?\d+) (\w+): start ([\d.]+) call [\d.]+")


async def converse(h_factory: HarnessFactory, tmp_path: Path, timing: str) -> list[str]:
    """One press; the bot.timing lines it logged."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        h = h_factory(server, tmp_path, {"NPSBOT_TIMING_LOG": timing})
        await h.start_bot()
        try:
            user = await h.linked_user("timing-1")
            _, question = await receive_survey(h, user, "timing-1")
            mark = user.last_message_id
            await user.press(question, text="9")
            await user.wait_for_message(since=mark)  # the follow-up
        finally:
            await h.bot.stop_async()
    return [str(user.id)]


async def test_with_the_timing_log_on_a_press_logs_its_stages_and_its_replies_calls(
    inprocess_bots: HarnessFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.timing")
    (chat,) = await converse(inprocess_bots, tmp_path, "on")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.timing"]
    updates = [m for line in lines if (m := UPDATE.search(line)) and m[1] == chat]
    assert len(updates) == 1
    pressed = float(updates[0][2])
    # The press's replies (the welcome after /start came before it).
    calls = [
        m for line in lines if (m := CALL.search(line)) and m[1] == chat and float(m[3]) > pressed
    ]
    assert [m[2] for m in calls] == ["editMessageText", "sendMessage"]
    # Monotonic stamps, comparable with the stand-in's: in the past, in order.
    assert float(calls[0][3]) <= float(calls[1][3]) <= time.monotonic()


async def test_with_the_timing_log_off_nothing_is_timed(
    inprocess_bots: HarnessFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await converse(inprocess_bots, tmp_path, "off")
    assert not [r for r in caplog.records if r.name == "bot.timing"]
