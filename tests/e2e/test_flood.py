"""One chat floods the bot (2,000 forged presses, 500 texts) while other customers answer:
the others' press-to-follow-up stays bounded and every answer is stored, the flooding chat
gets at most a few dozen messages, and the others' presses are answered in time."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.harness import Harness, receive_survey, survey_state

# Thousands of updates through one bot: a minute or more on a busy machine.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

OTHERS = 30
PRESSES = 2_000
TEXTS = 500


async def test_a_flooding_chat_delays_nobody_and_gets_a_few_dozen_messages(
    shared_harness: Harness,
) -> None:
    h = shared_harness
    flooder = await h.linked_user("flood-0")
    flood_survey, flood_question = await receive_survey(h, flooder, "flood-0")
    others = [await h.linked_user(f"calm-{i}") for i in range(OTHERS)]
    surveys = [await receive_survey(h, user, f"calm-{i}") for i, user in enumerate(others)]
    before_flood = len(flooder.messages)

    async def flood() -> None:
        for i in range(PRESSES):
            await flooder.press_raw(flood_question.message_id, f"nps:{flood_survey}:{i % 11}")
            if i % 4 == 0:
                await flooder.send_text(f"spam {i}") if i // 4 < TEXTS else None
            if i % 50 == 0:
                await asyncio.sleep(0)  # let the bot and the others run meanwhile

    async def answer(user: object, survey: tuple[int, object]) -> float:
        from standin import SimUser

        assert isinstance(user, SimUser)
        mark = user.last_message_id
        started = time.monotonic()
        await user.press(survey[1], text="8")  # type: ignore[arg-type]
        await user.wait_for_message(
            lambda m: "make it a 10" in (m.text or ""), timeout=30, since=mark
        )
        return time.monotonic() - started

    flooding = asyncio.create_task(flood())
    await asyncio.sleep(0.05)  # the flood is under way before the others press
    delays = await asyncio.gather(*(answer(u, s) for u, s in zip(others, surveys, strict=True)))
    await flooding
    # The others' presses reach the bot after the whole flood (Telegram's update stream is
    # one queue): what bounds them is how cheaply the flood is dealt with, and then the 30
    # presses' 60 replies at 25 messages/s. Measured 3.1-3.3 s with the stand-in, the bot
    # and 2 shared cores in one process (5-14 s before floods were decided unparsed and
    # the flooding chat's queue stopped refilling); the tight figures are the benchmark's
    # (benchmarks/flood.py).
    assert max(delays) < 10, sorted(delays)[-5:]

    for survey_id, _ in surveys:
        _, stored = await survey_state(h, survey_id)
        assert stored is not None and stored.score == 8

    # Every other customer's press was answered in time (a late answer is refused).
    assert all(user.callback_answers for user in others)
    # The flooding chat's own survey took one score, and it got a few dozen messages at most.
    _, flood_answer = await survey_state(h, flood_survey)
    assert flood_answer is not None
    await asyncio.sleep(0)
    await h.wait_for(lambda: "flood limits" in h.bot.log(), 10, "the flood counted in the log")
    received = len(flooder.messages) - before_flood
    assert received <= 50, received
    assert "slow down" in " ".join(m.text or "" for m in flooder.messages).lower()
