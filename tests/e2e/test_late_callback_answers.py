"""A press answered after Telegram's deadline (a backlog) is still handled, once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, receive_survey, survey_state


async def test_a_press_too_old_to_answer_still_records_the_score(
    inprocess_bots: HarnessFactory, tmp_path: Path
) -> None:
    # Every answerCallbackQuery comes "too late": Telegram answers 400 for each.
    limits = replace(QUICK_CHATS, callback_answer_timeout=0.0)
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=limits) as server:
        h = inprocess_bots(server, tmp_path, None)
        await h.start_bot()
        try:
            user = await h.linked_user("late-1")
            survey_id, question = await receive_survey(h, user, "late-1")
            mark = user.last_message_id
            await user.press(question, text="8")
            await user.wait_for_message(lambda m: "make it a 10" in (m.text or ""), since=mark)
            _, answer = await survey_state(h, survey_id)
            assert answer.score == 8
            assert server.stats.bad_requests >= 1  # the late answer was refused...
            assert user.callback_answers == []
        finally:
            await h.bot.stop_async()
    log = h.bot.log()
    assert "handler failed" not in log  # ...and the handler did not fail because of it
    assert "not answered: Query is too old" in log
