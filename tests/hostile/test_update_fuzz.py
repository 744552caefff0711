"""Hostile input to the update handlers: random text, forged callback data, odd update shapes.

Everything goes to the real bot process through the stand-in, as Telegram would deliver it.
The bot must never crash or stop answering, must store nothing for junk, and must never let
a forged callback touch another customer's survey.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standin import SimUser
from tests.e2e.harness import Harness, receive_survey, survey_state
from tests.support.engines import sqlite_only

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    # What the handlers refuse is decided before anything is stored, alike on both engines;
    # what they store is specified on both by the in-process conversation tests.
    sqlite_only("input validation in the handlers, before storage"),
]

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a Telegram client can send: any Unicode scalar value (no lone surrogates).
texts = st.text(
    st.characters(exclude_categories=("Cs",)), min_size=0, max_size=600
) | st.sampled_from(
    [
        "/start",
        "/start x",
        "/stop extra",
        "/help",
        "/unknown",
        "0",
        "10",
        "-0",
        "１０",
        "٩",
        "nps:1:1",
        "' OR 1=1 --",
        "<b>bold</b>",
        "\u202e",
        "x" * 4096,
        "\n\n\n",
    ]
)
callback_data = st.text(st.characters(exclude_categories=("Cs",)), max_size=70) | st.builds(
    lambda s, n: f"{s}:{n}",
    st.sampled_from(["nps:1", "nps:2", "nps:999999999999", "drv:1", "rly:1", "res:1", "lang"]),
    st.integers(-5, 20),
)
json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

_ids = itertools.count(1)


async def settle(h: Harness) -> None:
    """Wait until the bot has taken every update (and so has handled the previous ones)."""
    await h.wait_for(lambda: h.server.pending_updates == 0, 20, "the bot to take its updates")


@pytest.fixture(scope="module")
def victims() -> dict[str, Any]:
    return {}


async def test_setup_a_victim_with_an_open_survey(
    shared_harness: Harness, victims: dict[str, Any]
) -> None:
    user = await shared_harness.linked_user("victim")
    survey_id, question = await receive_survey(shared_harness, user, "victim")
    victims.update(user=user, survey_id=survey_id, question=question)


@FUZZ
@given(text=texts)
async def test_random_text_never_breaks_the_bot(shared_harness: Harness, text: str) -> None:
    h = shared_harness
    user = h.server.users.get(2_000_001)
    if user is None:  # a chat the user started, as Telegram requires before typing
        user = h.server.add_user(user_id=2_000_001)
        await user.start()
    if text.strip() == "":
        text = "."
    await user.send_text(text)


@FUZZ
@given(data=callback_data)
async def test_forged_callback_data_never_touches_anothers_survey(
    shared_harness: Harness, victims: dict[str, Any], data: str
) -> None:
    h = shared_harness
    attacker: SimUser = h.server.users.get(2_000_002) or await _linked(h, 2_000_002, "attacker")
    await attacker.press_raw(victims["question"].message_id, data or "x")


@FUZZ
@given(kind=st.sampled_from(["message", "edited_message", "callback_query"]), payload=json_values)
async def test_malformed_update_shapes_are_survived(
    shared_harness: Harness, kind: str, payload: Any
) -> None:
    h = shared_harness
    body = payload if isinstance(payload, dict) else {"weird": payload}
    h.server.world.push_update(kind, body)


async def test_after_all_that_the_bot_still_serves_a_whole_conversation(
    shared_harness: Harness, victims: dict[str, Any]
) -> None:
    h = shared_harness
    # The examples above only queue updates (fast); here the bot must have taken them all.
    await settle(h)
    assert h.bot.proc is not None and h.bot.proc.poll() is None, h.bot.log()[-3000:]
    cid = f"canary-{next(_ids)}"
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid)
    mark = user.last_message_id
    await user.press(question, text="9")
    await user.wait_for_message(lambda m: "value most" in (m.text or ""), since=mark)
    _, answer = await survey_state(h, survey_id)
    assert answer.score == 9
    # The victim's survey is still untouched and answerable by the victim alone.
    survey, stored = await survey_state(h, victims["survey_id"])
    assert survey.status == "sent" and stored is None
    # Junk is answered politely or skipped, never a handler crash.
    assert "handler failed" not in h.bot.log(), h.bot.log()[-3000:]


async def _linked(h: Harness, user_id: int, customer: str) -> SimUser:
    from bot.core.linking import make_payload
    from tests.e2e.harness import SECRET

    user = h.server.add_user(user_id=user_id)
    await user.start(make_payload(SECRET, customer))
    await settle(h)
    await asyncio.sleep(0)
    return user
