"""Themes end to end: customers' comments are themed by the running bot's job, beside the
conversation, and admins see them in ``/themes`` (with a chart) and in the digest; anyone
else is refused."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from standin import BotMessage, SimUser
from storage import themes
from tests.admin.conftest import admin_bot
from tests.conftest import HarnessFactory
from tests.e2e.harness import Harness, receive_survey

pytestmark = pytest.mark.asyncio(loop_scope="module")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ids = itertools.count(1)
COMMENTS = [
    (4, "The parking lot at the pickup point was full"),
    (5, "No parking lot near the pickup point at all"),
    (3, "Pickup point parking lot closed again"),
    (6, "Parking lot by the pickup point is too small"),
]


def text(message: BotMessage) -> str:
    return message.shown_text or ""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[tuple[Harness, SimUser]]:
    async with admin_bot(
        inprocess_bots, tmp_path_factory.mktemp("themes"), {"NPSBOT_THEMES_INTERVAL_SECONDS": "5"}
    ) as world:
        yield world.h, world.admin


async def answer(h: Harness, score: int, reason: str) -> int:
    cid = f"theme-{next(_ids)}"
    user = await h.linked_user(cid)
    survey_id, question = await receive_survey(h, user, cid, event_type="delivery")
    mark = user.last_message_id
    await user.press(question, text=str(score))
    await user.wait_for_message(lambda m: "?" in text(m), since=mark)
    mark = user.last_message_id
    await user.send_text(reason)
    # The customer's thanks never waits for theming: it comes whatever the job is doing.
    await user.wait_for_message(lambda m: "Thank" in text(m), since=mark)
    return survey_id


async def themed(h: Harness, survey_ids: list[int], timeout: float = 60) -> dict[int, list[str]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with h.db() as db, db.read() as tx:
            found = await themes.themes_of(tx, survey_ids)
        if all(found.get(i) for i in survey_ids):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"not themed: {found}"
        await asyncio.sleep(0.2)


async def test_comments_are_themed_and_admins_see_them(world: tuple[Harness, SimUser]) -> None:
    h, me = world
    ids = [await answer(h, score, reason) for score, reason in COMMENTS]
    found = await themed(h, ids)
    assert len({tuple(v) for v in found.values()}) == 1  # one emerging theme for all four

    mark = me.last_message_id
    await me.send_text("/themes today")
    report = await me.wait_for_message(lambda m: "Themes ·" in text(m), timeout=15, since=mark)
    body = text(report)
    assert "parking" in body.lower() and "(new)" in body and "n = 4" in body
    assert "Detractors mention:" in body and "impact" in body
    chart = await me.wait_for_message(lambda m: m.kind == "photo", timeout=30, since=mark)
    assert chart.file_bytes is not None and chart.file_bytes.startswith(PNG_SIGNATURE)

    mark = me.last_message_id
    await me.send_text("/digest")
    digest = await me.wait_for_message(lambda m: "NPS digest" in text(m), timeout=30, since=mark)
    assert "Themes · last 7 days" in text(digest) and "parking" in text(digest).lower()

    mark = me.last_message_id
    await me.send_text("/themes 2020-13-01")
    reply = await me.wait_for_message(since=mark, timeout=15)
    assert "Usage: /themes" in text(reply)


async def test_themes_is_refused_to_non_admins(world: tuple[Harness, SimUser]) -> None:
    h, _ = world
    user = await h.linked_user(f"theme-{next(_ids)}")
    mark = user.last_message_id
    await user.send_text("/themes")
    reply = await user.wait_for_message(since=mark)
    assert "only for" in text(reply) and "feedback team" in text(reply)
