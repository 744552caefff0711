"""The bot on PostgreSQL end to end: NPSBOT_DATABASE=postgresql://... is all it takes for
the conversation, the outbox, the dispatcher and the reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from standin import StandIn
from storage import answers, reports, surveys
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, Harness
from tests.support.engines import postgresql_only


@pytest.fixture
async def pg_harness(tmp_path: Path, inprocess_bots: HarnessFactory) -> AsyncIterator[Harness]:
    """An in-process bot storing in a PostgreSQL database of its own."""
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        h = inprocess_bots(server, tmp_path, None)
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()


# Every bot test runs on PostgreSQL too; this one is about what only PostgreSQL can show:
# the URL alone moves all storage off the SQLite file.
@postgresql_only("asserts that no SQLite file is written")
async def test_a_customer_answers_a_survey_stored_in_postgresql(pg_harness: Harness) -> None:
    h = pg_harness
    user = await h.linked_user("pg-cust-1")
    survey_id = await h.queue_survey("pg-cust-1")
    question = await user.wait_for_message(lambda m: bool(m.button_data), timeout=10)
    await user.press(question, data=f"nps:{survey_id}:9")
    await user.wait_for_message(lambda m: "value most" in (m.text or ""))
    await user.send_text("Quick delivery, 谢谢")
    await user.wait_for_message(lambda m: "Thank you" in (m.text or ""))
    assert not h.db_path.exists(), "nothing was written to a SQLite file"
    async with h.db() as db, db.read() as tx:
        survey = await surveys.get(tx, survey_id)
        answer = await answers.get_for_survey(tx, survey_id)
        day = await reports.histograms_by_day(
            tx, [h.now().replace(hour=0, minute=0, second=0, microsecond=0), h.now()]
        )
    assert survey is not None and survey.status.value == "answered"
    assert answer is not None and (answer.score, answer.reason) == (9, "Quick delivery, 谢谢")
    assert day[0][9] == 1
