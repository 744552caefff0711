"""The customer's conversation end to end: what the customer sees, what the database holds."""

from __future__ import annotations

import itertools

import pytest

from standin import BotMessage
from tests.e2e.harness import COMPANY, Harness, receive_survey, survey_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

_ids = itertools.count(1)


def new_customer() -> str:
    return f"conv-{next(_ids)}"


def text_of(message: BotMessage) -> str:
    return message.text or ""


@pytest.mark.parametrize(
    ("score", "category", "followup", "thanks"),
    [
        (10, "promoter", "What do you value most about Acme Delivery?", "means a lot"),
        (9, "promoter", "What do you value most about Acme Delivery?", "means a lot"),
        (8, "passive", "What would make it a 10 for you?", "earning that 10"),
        (7, "passive", "What would make it a 10 for you?", "earning that 10"),
        (6, "detractor", "What went wrong, and what should we fix first?", "fix it"),
        (0, "detractor", "What went wrong, and what should we fix first?", "fix it"),
    ],
)
async def test_each_category_gets_its_follow_up_and_thanks_and_everything_is_stored(
    shared_harness: Harness, score: int, category: str, followup: str, thanks: str
) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(
        h, user, cid, event_type="delivery", event_id=f"ev-{cid}"
    )
    assert COMPANY in text_of(question)
    assert [len(row) for row in question.buttons] == [6, 5]
    assert [b[0] for row in question.buttons for b in row] == [str(i) for i in range(11)]

    mark = user.last_message_id
    query_id = await user.press(question, text=str(score))
    answer = await user.wait_for_callback_answer(query_id)
    assert str(score) in (answer.text or "")
    follow = await user.wait_for_message(lambda m: followup in text_of(m), since=mark)
    edited = next(m for m in user.messages if m.message_id == question.message_id)
    assert edited.button_data == []
    assert f"Your answer: {score}" in text_of(edited)

    mark = user.last_message_id
    await user.send_text("  The courier was on time  ")
    await user.wait_for_message(lambda m: thanks in text_of(m), since=mark)

    survey, stored = await survey_state(h, survey_id)
    assert survey.status == "answered"
    assert stored.score == score and stored.category == category
    assert stored.reason == "The courier was on time"
    assert stored.completed_at is not None
    assert follow.message_id > question.message_id


async def test_a_typed_whole_number_counts_as_the_score(shared_harness: Harness) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid)
    mark = user.last_message_id
    await user.send_text("8")
    await user.wait_for_message(lambda m: "make it a 10" in text_of(m), since=mark)
    survey, stored = await survey_state(h, survey_id)
    assert (survey.status, stored.score, stored.category) == ("answered", 8, "passive")
    edited = next(m for m in user.messages if m.message_id == question.message_id)
    assert edited.button_data == []


@pytest.mark.parametrize(
    ("send", "reply"),
    [
        ("10/10", "didn't catch a score"),
        ("ten", "didn't catch a score"),
        ("11", "from 0 to 10"),
        ("-1", "from 0 to 10"),
        ("7.5", "no decimals"),
        ("👍", "didn't catch a score"),
        ("x" * 5000, "didn't catch a score"),
        ("sticker", "tap a number"),
        ("photo", "tap a number"),
        ("voice", "tap a number"),
    ],
)
async def test_junk_instead_of_a_score_gets_a_fitting_reply_and_stores_nothing(
    shared_harness: Harness, send: str, reply: str
) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid)
    if send in ("sticker", "photo", "voice"):
        mark = user.last_message_id
        await getattr(user, f"send_{send}")()
    else:
        mark = user.last_message_id
        await user.send_text(send)
    await user.wait_for_message(lambda m: reply in text_of(m), since=mark)
    survey, stored = await survey_state(h, survey_id)
    assert survey.status == "sent" and stored is None
    current = next(m for m in user.messages if m.message_id == question.message_id)
    assert len(current.button_data) == 11  # still answerable

    # ...and a real answer afterwards still works.
    mark = user.last_message_id
    await user.press(question, text="9")
    await user.wait_for_message(lambda m: "value most" in text_of(m), since=mark)


async def test_a_second_press_is_refused_and_changes_nothing(shared_harness: Harness) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid)
    mark = user.last_message_id
    await user.press(question, text="3")
    await user.wait_for_message(lambda m: "went wrong" in text_of(m), since=mark)
    mark = user.last_message_id
    second = await user.press_raw(question.message_id, f"nps:{survey_id}:10")
    answer = await user.wait_for_callback_answer(second)
    assert "already answered" in (answer.text or "")
    _, stored = await survey_state(h, survey_id)
    assert stored.score == 3


async def test_forged_callback_naming_another_chats_survey_is_refused(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    victim_id, attacker_id = new_customer(), new_customer()
    victim = await h.linked_user(victim_id)
    attacker = await h.linked_user(attacker_id)
    victim_survey, _ = await receive_survey(h, victim, victim_id)
    _, attacker_question = await receive_survey(h, attacker, attacker_id)

    query = await attacker.press_raw(attacker_question.message_id, f"nps:{victim_survey}:0")
    answer = await attacker.wait_for_callback_answer(query)
    assert "no longer valid" in (answer.text or "")
    for data in ("nps:999999:5", "garbage", "nps:1:11", "x" * 64):
        query = await attacker.press_raw(attacker_question.message_id, data)
        answer = await attacker.wait_for_callback_answer(query)
        assert "no longer valid" in (answer.text or "")
    survey, stored = await survey_state(h, victim_survey)
    assert survey.status == "sent" and stored is None


async def test_a_press_on_an_old_answered_surveys_button_is_refused(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    first_id, first_q = await receive_survey(h, user, cid)
    mark = user.last_message_id
    await user.press(first_q, text="10")
    await user.wait_for_message(lambda m: "value most" in text_of(m), since=mark)
    mark = user.last_message_id
    await user.send_text("great")
    await user.wait_for_message(lambda m: "means a lot" in text_of(m), since=mark)
    second_id, _ = await receive_survey(h, user, cid)
    mark = user.last_message_id
    query = await user.press_raw(first_q.message_id, f"nps:{first_id}:2")
    answer = await user.wait_for_callback_answer(query)
    assert "already answered" in (answer.text or "")
    _, first = await survey_state(h, first_id)
    second, second_answer = await survey_state(h, second_id)
    assert first.score == 10
    assert second.status == "sent" and second_answer is None


async def test_reason_step_refuses_media_and_keeps_long_text_truncated(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid)
    mark = user.last_message_id
    await user.press(question, text="5")
    await user.wait_for_message(lambda m: "went wrong" in text_of(m), since=mark)
    mark = user.last_message_id
    await user.send_sticker()
    await user.wait_for_message(lambda m: "only read text" in text_of(m), since=mark)
    _, stored = await survey_state(h, survey_id)
    assert stored.reason is None
    mark = user.last_message_id
    await user.send_text("y" * 5000)
    done = await user.wait_for_message(
        lambda m: "Thank you for telling us" in text_of(m), since=mark
    )
    assert "4,096" in text_of(done)
    _, stored = await survey_state(h, survey_id)
    assert stored.reason == "y" * 4096


async def test_editing_the_reason_updates_it_and_other_edits_are_ignored(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid)
    mark = user.last_message_id
    await user.press(question, text="9")
    await user.wait_for_message(lambda m: "value most" in text_of(m), since=mark)
    mark = user.last_message_id
    reason_id = await user.send_text("fast delivry")
    await user.wait_for_message(lambda m: "means a lot" in text_of(m), since=mark)
    mark = user.last_message_id
    await user.edit_text(reason_id, "fast delivery")
    await user.wait_for_message(lambda m: "updated your comment" in text_of(m), since=mark)
    _, stored = await survey_state(h, survey_id)
    assert stored.reason == "fast delivery"

    mark = user.last_message_id
    other_id = await user.send_text("hello?")
    await user.wait_for_message(lambda m: "no survey open" in text_of(m), since=mark)
    mark = user.last_message_id
    await user.edit_text(other_id, "hello again")
    await user.wait_for_message(lambda m: "aren't picked up" in text_of(m), since=mark)
    _, stored = await survey_state(h, survey_id)
    assert stored.reason == "fast delivery"


async def test_a_customer_without_an_open_survey_gets_a_helpful_reply(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    user = await h.linked_user(new_customer())
    mark = user.last_message_id
    await user.send_text("hi there")
    reply = await user.wait_for_message(lambda m: "no survey open" in text_of(m), since=mark)
    assert "/stop" in text_of(reply)


async def test_a_press_on_a_question_sent_but_never_recorded_counts_and_stops_a_resend(
    shared_harness: Harness,
) -> None:
    """The crash window: Telegram took the question, the process died before recording it.
    The customer's press proves where it landed, so the score counts and the dispatcher,
    which would otherwise send it again, finds it sent."""
    import json
    from datetime import timedelta

    import aiohttp

    from bot.core.keyboards import score_keyboard
    from storage import surveys
    from tests.e2e.harness import TOKEN

    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    # Due later, so the dispatcher leaves it alone; its send attempt is recorded as started.
    survey_id = await h.queue_survey(cid, send_at=h.now() + timedelta(hours=1))
    async with h.db() as db, db.transaction() as tx:
        assert await surveys.mark_send_started(tx, survey_id, h.now())
    params = {
        "chat_id": str(user.chat_id),
        "text": "How likely are you to recommend Acme Delivery?",
        "reply_markup": json.dumps(score_keyboard(survey_id)),
    }
    before = user.last_message_id
    async with aiohttp.ClientSession() as http:
        url = f"{h.server.base_url}{TOKEN}/sendMessage"
        async with http.post(url, data=params) as response:
            assert response.status == 200
    question = await user.wait_for_message(
        lambda m: f"nps:{survey_id}:0" in m.button_data, since=before
    )

    mark = user.last_message_id
    query_id = await user.press(question, text="9")
    answer = await user.wait_for_callback_answer(query_id)
    assert "9" in (answer.text or "")
    await user.wait_for_message(lambda m: "value most" in text_of(m), since=mark)
    survey, stored = await survey_state(h, survey_id)
    assert (survey.status, survey.chat_id, survey.message_id) == (
        "answered",
        user.chat_id,
        question.message_id,
    )
    assert stored.score == 9
