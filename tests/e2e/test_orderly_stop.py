"""SIGTERM while hundreds of surveys go out: an orderly stop sends nothing twice.

Only a crash may leave a survey "accepted by Telegram, not yet recorded" (the duplicate
window of docs/delivery-guarantees.md). An orderly stop lets the sends in hand finish and
records them, so after SIGTERM and a restart every customer has exactly one question, and
the process exited 0 within the stop's bound.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.composition.supervisor import STOP_TIMEOUT_SECONDS
from bot.core.records import SurveyKind, SurveyStatus
from standin import BotMessage, StandIn
from standin.methods import REGISTRY, CallContext, Methods
from standin.params import Params
from storage import Database, customers, surveys
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, TOKEN, Harness

CUSTOMERS = 300
SEND_RATE = 50  # the bot's pace: 300 surveys take about six seconds
# Each sendMessage answer takes this long to come back, after the message was delivered:
# at any moment several surveys are "accepted by Telegram, not yet recorded".
ANSWER_LATENCY_SECONDS = 0.2
STOP_AFTER = 60  # questions delivered before SIGTERM
# Interpreter start-up is not part of the bound, tearing it down is: allow a little.
EXIT_MARGIN_SECONDS = 3.0


async def seed(database: str | Path, server: StandIn) -> dict[int, int]:
    """Started users, linked customers, one queued survey each: {chat id: survey id}."""
    now = datetime.now(UTC)
    db = await Database.open(database)
    queued: dict[int, int] = {}
    try:
        async with db.transaction() as tx:
            for i in range(CUSTOMERS):
                user = server.add_user(first_name=f"C{i}")
                user.mark_started()
                customer, _ = await customers.link_chat(tx, f"stop-{i}", user.id, "en", now)
                survey = await surveys.create(tx, customer.id, SurveyKind.TRANSACTIONAL, now)
                queued[user.id] = survey.id
    finally:
        await db.close()
    return queued


async def statuses(harness: Harness, survey_ids: list[int]) -> Counter[SurveyStatus]:
    """How many of the surveys are in each status now."""
    async with harness.db() as db, db.read() as tx:
        found = [await surveys.get(tx, survey_id) for survey_id in survey_ids]
    return Counter(s.status for s in found if s is not None)


@pytest.mark.timeout(180)
async def test_sigterm_while_dispatching_sends_every_survey_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subprocess_bots: HarnessFactory
) -> None:
    name, send_message = REGISTRY["sendmessage"]

    async def slow_answer(methods: Methods, params: Params, ctx: CallContext) -> Any:
        result = await send_message(methods, params, ctx)
        await asyncio.sleep(ANSWER_LATENCY_SECONDS)  # delivered; the answer is on its way
        return result

    monkeypatch.setitem(REGISTRY, "sendmessage", (name, slow_answer))
    questions: Counter[int] = Counter()

    def observe(chat_id: int, message: BotMessage) -> None:
        if any(data.startswith("nps:") for data in message.button_data):
            questions[chat_id] += 1

    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        server.on_bot_message(observe)
        harness = subprocess_bots(server, tmp_path, {"NPSBOT_SEND_RATE": str(SEND_RATE)})
        queued = await seed(harness.database, server)
        survey_ids = list(queued.values())
        await harness.start_bot()
        try:
            await harness.wait_for(
                lambda: questions.total() >= STOP_AFTER, 60, f"{STOP_AFTER} questions"
            )
            began = time.monotonic()
            code = await harness.bot.stop_async(timeout=STOP_TIMEOUT_SECONDS + 20)
            took = time.monotonic() - began
            assert code == 0, harness.bot.tail()
            assert took <= STOP_TIMEOUT_SECONDS + EXIT_MARGIN_SECONDS, harness.bot.tail()
            assert "orderly stop exceeded" not in harness.bot.log()
            delivered = questions.total()
            assert delivered < CUSTOMERS, "the stop came too late to interrupt the dispatch"
            # Every question Telegram accepted before the stop is recorded as sent.
            assert (await statuses(harness, survey_ids))[SurveyStatus.SENT] == delivered

            await harness.start_bot()
            await harness.wait_for(
                lambda: questions.total() >= CUSTOMERS, 60, "every question after the restart"
            )
            sent = await statuses(harness, survey_ids)
            while sent[SurveyStatus.SENT] < CUSTOMERS:  # the last commits after delivery
                await asyncio.sleep(0.05)
                sent = await statuses(harness, survey_ids)
        finally:
            await harness.bot.stop_async()
    assert sent == Counter({SurveyStatus.SENT: CUSTOMERS})
    twice = {chat: n for chat, n in questions.items() if n != 1}
    assert twice == {}, f"customers with other than one question: {twice}"
    assert set(questions) == set(queued)
    assert "may have reached chat" not in harness.bot.log()
