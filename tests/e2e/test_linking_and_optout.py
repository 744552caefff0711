"""Linking by signed deep link, /start, /stop, and who is never sent a survey."""

from __future__ import annotations

import itertools

import pytest

from bot.core.linking import make_payload
from tests.e2e.harness import SECRET, Harness, customer_state, receive_survey, survey_state

pytestmark = pytest.mark.asyncio(loop_scope="module")

_ids = itertools.count(1)


def new_customer() -> str:
    return f"link-{next(_ids)}"


async def test_start_without_payload_greets_and_explains(shared_harness: Harness) -> None:
    user = shared_harness.server.add_user(first_name="Nobody")
    await user.start()
    greeting = await user.wait_for_message()
    assert "feedback bot of Acme Delivery" in (greeting.text or "")
    assert "/stop" in (greeting.text or "")


async def test_a_signed_link_links_the_chat_to_the_customer(shared_harness: Harness) -> None:
    cid = new_customer()
    user = await shared_harness.linked_user(cid, language_code="de")
    assert "You're all set" in (user.messages[-1].text or "")
    customer = await customer_state(shared_harness, cid)
    assert customer.chat_id == user.id and customer.telegram_language == "de"
    assert customer.language is None  # no explicit choice (/language) yet
    assert not customer.opted_out and not customer.blocked


@pytest.mark.parametrize(
    "payload",
    [
        "tampered",  # too short to carry a signature
        make_payload("another-secret-of-at-least-32-characters!", "victim"),
        make_payload(SECRET, "victim")[:-1] + "A",
        "Y3VzdC12aWN0aW0" + "_" * 16,
        "!!!not-base64!!!",
    ],
    # Stable ids: the signed payloads carry a random nonce and the hour they were made.
    ids=["too-short", "other-secret", "tampered-tag", "no-signature", "not-base64"],
)
async def test_a_tampered_or_malformed_link_is_refused_and_links_nobody(
    shared_harness: Harness, payload: str
) -> None:
    user = shared_harness.server.add_user()
    await user.start(payload)
    reply = await user.wait_for_message()
    assert "isn't valid" in (reply.text or "")
    assert await customer_state(shared_harness, "victim") is None
    assert "invalid link payload" in shared_harness.bot.log()


async def test_a_link_for_another_customer_moves_the_chat(shared_harness: Harness) -> None:
    first, second = new_customer(), new_customer()
    user = await shared_harness.linked_user(first)
    mark = user.last_message_id
    await user.start(make_payload(SECRET, second))
    await user.wait_for_message(since=mark)
    assert (await customer_state(shared_harness, first)).chat_id is None
    assert (await customer_state(shared_harness, second)).chat_id == user.id


async def test_stop_opts_out_confirms_and_no_survey_is_sent(shared_harness: Harness) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    mark = user.last_message_id
    await user.send_text("/stop")
    confirmation = await user.wait_for_message(since=mark)
    assert "won't receive any more surveys" in (confirmation.text or "")
    assert (await customer_state(h, cid)).opted_out

    survey_id = await h.queue_survey(cid)
    survey, _ = await survey_state(h, survey_id)
    assert (survey.status, survey.status_reason) == ("skipped", "opted_out")

    mark = user.last_message_id
    await user.send_text("/stop")
    again = await user.wait_for_message(since=mark)
    assert "already unsubscribed" in (again.text or "")

    mark = user.last_message_id
    await user.start()
    back = await user.wait_for_message(since=mark)
    assert "Welcome back" in (back.text or "")
    assert not (await customer_state(h, cid)).opted_out
    survey_id, _ = await receive_survey(h, user, cid)
    assert (await survey_state(h, survey_id))[0].status == "sent"


async def test_a_customer_never_linked_is_not_sent_anything(shared_harness: Harness) -> None:
    survey_id = await shared_harness.queue_survey("never-linked")
    survey, _ = await survey_state(shared_harness, survey_id)
    assert (survey.status, survey.status_reason) == ("skipped", "not_linked")


async def test_a_customer_who_blocked_the_bot_is_marked_and_not_retried(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    cid = new_customer()
    user = await h.linked_user(cid)
    user.block()
    survey_id = await h.queue_survey(cid)
    await h.wait_for(lambda: h.server.stats.forbidden > 0, 10, "a 403")

    async def failed() -> bool:
        survey, _ = await survey_state(h, survey_id)
        return bool(survey.status == "failed")

    for _ in range(100):
        if await failed():
            break
        await __import__("asyncio").sleep(0.05)
    survey, _ = await survey_state(h, survey_id)
    assert (survey.status, survey.status_reason) == ("failed", "blocked")
    assert (await customer_state(h, cid)).blocked
    later = await h.queue_survey(cid)
    assert (await survey_state(h, later))[0].status_reason == "blocked"
    assert user.messages[-1].text and "all set" in user.messages[-1].text
