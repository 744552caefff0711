"""State lives in the database: kills and restarts lose nothing."""

from __future__ import annotations

from tests.e2e.harness import Harness, receive_survey, survey_state


async def test_a_reason_sent_while_the_bot_was_down_is_taken_after_restart(
    harness: Harness,
) -> None:
    user = await harness.linked_user("restart-1")
    survey_id, question = await receive_survey(harness, user, "restart-1")
    mark = user.last_message_id
    await user.press(question, text="4")
    await user.wait_for_message(lambda m: "went wrong" in (m.text or ""), since=mark)

    harness.bot.kill()
    mark = user.last_message_id
    await user.send_text("The parcel arrived broken")
    await harness.start_bot()
    await user.wait_for_message(
        lambda m: "Thank you for telling us" in (m.text or ""), since=mark, timeout=20
    )
    _, answer = await survey_state(harness, survey_id)
    assert (answer.score, answer.reason) == (4, "The parcel arrived broken")


async def test_a_survey_queued_while_the_bot_was_down_is_sent_once_after_restart(
    harness: Harness,
) -> None:
    user = await harness.linked_user("restart-2")
    harness.bot.kill()
    mark = user.last_message_id
    survey_id = await harness.queue_survey("restart-2")
    await harness.start_bot()
    question = await user.wait_for_message(lambda m: bool(m.button_data), timeout=20, since=mark)
    assert f"nps:{survey_id}:0" in question.button_data
    assert await harness.bot.stop_async() == 0
    await harness.start_bot()
    await harness.wait_for(lambda: harness.server.pending_updates == 0, 10, "idle")
    questions = [m for m in user.messages if m.button_data or "Your answer" in (m.text or "")]
    assert len(questions) == 1


async def test_a_redelivered_update_is_handled_once(harness: Harness) -> None:
    user = await harness.linked_user("restart-3")
    survey_id, question = await receive_survey(harness, user, "restart-3")
    mark = user.last_message_id
    await user.press(question, text="10")
    await user.wait_for_message(lambda m: "value most" in (m.text or ""), since=mark)
    mark = user.last_message_id
    await user.send_text("Quick and polite")
    await user.wait_for_message(lambda m: "means a lot" in (m.text or ""), since=mark)
    await harness.bot.stop_async()
    seen = [(m.message_id, m.text) for m in user.messages]
    # Telegram redelivers updates whose confirmation was lost: the press and the reason.
    assert len(harness.server.redeliver(2)) == 2
    await harness.start_bot()
    await harness.wait_for(lambda: harness.server.pending_updates == 0, 15, "redelivery")
    await harness.bot.stop_async()
    # Handled once: not a single extra message (not even "no survey open").
    assert [(m.message_id, m.text) for m in user.messages] == seen
    followups = [m for m in user.messages if "value most" in (m.text or "")]
    assert len(followups) == 1
    _, answer = await survey_state(harness, survey_id)
    assert answer.score == 10
