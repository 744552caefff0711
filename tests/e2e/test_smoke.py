"""The whole conversation once, end to end."""

from __future__ import annotations

from tests.e2e.harness import Harness


async def test_promoter_answers_and_is_thanked(harness: Harness) -> None:
    user = await harness.linked_user("cust-1")
    survey_id = await harness.queue_survey("cust-1")
    question = await user.wait_for_message(lambda m: bool(m.button_data), timeout=10)
    assert "Acme Delivery" in (question.text or "")
    await user.press(question, data=f"nps:{survey_id}:10")
    follow = await user.wait_for_message(lambda m: "value most" in (m.text or ""))
    await user.send_text("Fast and friendly")
    await user.wait_for_message(lambda m: "Thank you" in (m.text or ""))
    assert user.messages[-3].reply_markup is None or not user.messages[-3].button_data
    assert follow
